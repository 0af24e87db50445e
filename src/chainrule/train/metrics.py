"""Metrics that mean something on imbalanced classes and on regression, in NumPy.

ROC AUC is the probability that a random positive scores above a random negative (ties count
half), computed from ranks (the Mann-Whitney U statistic); for more than two classes it is the
mean of the one-vs-rest AUCs of the classes present."""

import numpy as np


def _ranks(scores):
    """Ranks 1..N with ties given their average rank."""
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2
    return ranks


def binary_auc(positive, scores):
    """ROC AUC of ``scores`` for the boolean labels ``positive``; None when one class is
    absent."""
    positive = np.asarray(positive, bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    rank_sum = _ranks(np.asarray(scores, np.float64))[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_auc(labels, probabilities):
    """Binary: the AUC of the second class's probability; multiclass: the macro mean of the
    one-vs-rest AUCs. None when it is undefined (one class only)."""
    labels = np.asarray(labels)
    if probabilities.shape[1] == 2:
        return binary_auc(labels == 1, probabilities[:, 1])
    scores = [binary_auc(labels == k, probabilities[:, k]) for k in range(probabilities.shape[1])]
    scores = [s for s in scores if s is not None]
    return float(np.mean(scores)) if scores else None


def softmax(logits):
    """Row-wise softmax of float64 logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def classification_scores(logits, labels):
    """Cross-entropy, accuracy and (where defined) ROC AUC of logits for int labels."""
    probabilities = softmax(logits)
    picked = probabilities[np.arange(len(labels)), labels]
    scores = {"loss": float(-np.log(np.maximum(picked, 1e-12)).mean()),
              "accuracy": float((logits.argmax(axis=1) == labels).mean())}
    auc = roc_auc(labels, probabilities)
    if auc is not None:
        scores["roc_auc"] = auc
    return scores


def confusion_matrix(labels, predictions, num_classes):
    """Counts (true class, predicted class)."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels), np.asarray(predictions)), 1)
    return matrix


def per_class(matrix):
    """Precision, recall, F1 and support of each class from a confusion matrix (0 where
    undefined, as scikit-learn's zero_division=0)."""
    true_positive = np.diag(matrix).astype(np.float64)
    predicted, actual = matrix.sum(axis=0), matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros_like(true_positive),
                          where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros_like(true_positive), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(both), where=both > 0)
    return precision, recall, f1, actual


def regression_metrics(truth, predictions):
    """MAE, RMSE and R^2 (1 - residual / total sum of squares)."""
    truth = np.asarray(truth, np.float64)
    error = np.asarray(predictions, np.float64) - truth
    total = ((truth - truth.mean()) ** 2).sum()
    r2 = 1 - (error ** 2).sum() / total if total > 0 else 0.0
    return {"mae": float(np.abs(error).mean()), "rmse": float(np.sqrt((error ** 2).mean())),
            "r2": float(r2)}


def classification_table(matrix, classes):
    """Markdown: precision, recall, F1 and support per class, and the confusion matrix."""
    precision, recall, f1, support = per_class(matrix)
    lines = ["| class | precision | recall | F1 | support |", "| --- | ---: | ---: | ---: | ---: |"]
    for k, name in enumerate(classes):
        lines.append(f"| {name} | {precision[k]:.4f} | {recall[k]:.4f} | {f1[k]:.4f} | "
                     f"{int(support[k])} |")
    if len(classes) > LARGEST_SHOWN_MATRIX:
        return lines + ["", *_frequent_confusions(matrix, classes)]
    lines += ["", "Confusion matrix (rows: true class, columns: predicted):", "",
              "| | " + " | ".join(str(c) for c in classes) + " |",
              "| --- |" + " ---: |" * len(classes)]
    for k, name in enumerate(classes):
        lines.append(f"| **{name}** | " + " | ".join(str(int(v)) for v in matrix[k]) + " |")
    return lines


# a confusion matrix of more classes is summed up by its most frequent confusions: a table of
# its every cell would be unreadable (and, for thousands of classes, megabytes)
LARGEST_SHOWN_MATRIX = 30


def _frequent_confusions(matrix, classes, count=10):
    errors = matrix.astype(np.int64).copy()
    np.fill_diagonal(errors, 0)
    order = np.argsort(errors, axis=None, kind="stable")[::-1][:count]
    pairs = [np.unravel_index(k, errors.shape) for k in order if errors.flat[k] > 0]
    lines = [f"The confusion matrix of {len(classes)} classes is too large to show; its most "
             "frequent confusions:", "", "| true class | predicted | count |",
             "| --- | --- | ---: |"]
    return lines + [f"| {classes[t]} | {classes[p]} | {int(errors[t, p])} |" for t, p in pairs]
