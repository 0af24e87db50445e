"""Metrics against values counted by hand."""

import numpy as np
import pytest

from chainrule.train.metrics import (
    binary_auc,
    confusion_matrix,
    per_class,
    regression_metrics,
    roc_auc,
)


def auc_by_pairs(positive, scores):
    """The definition: the share of (positive, negative) pairs ordered right, ties half."""
    pos, neg = scores[positive], scores[~positive]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def test_auc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(0)
    positive = rng.random(50) < 0.3
    scores = np.round(rng.random(50) + positive * 0.3, 1)  # rounding makes ties
    assert binary_auc(positive, scores) == pytest.approx(auc_by_pairs(positive, scores))
    assert binary_auc(np.ones(3, bool), np.arange(3.0)) is None


def test_multiclass_auc_is_the_mean_of_one_vs_rest():
    labels = np.array([0, 1, 2, 2, 1, 0])
    probabilities = np.eye(3)[[0, 1, 2, 1, 1, 0]] * 0.8 + 0.2 / 3
    expected = np.mean([auc_by_pairs(labels == k, probabilities[:, k]) for k in range(3)])
    assert roc_auc(labels, probabilities) == pytest.approx(expected)


def test_precision_recall_f1_from_the_confusion_matrix():
    matrix = confusion_matrix([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 0, 0], 3)
    assert matrix.tolist() == [[2, 1, 0], [1, 1, 0], [1, 0, 0]]
    precision, recall, f1, support = per_class(matrix)
    np.testing.assert_allclose(precision, [2 / 4, 1 / 2, 0])
    np.testing.assert_allclose(recall, [2 / 3, 1 / 2, 0])
    np.testing.assert_allclose(f1, [2 * (0.5 * 2 / 3) / (0.5 + 2 / 3), 0.5, 0])
    assert support.tolist() == [3, 2, 1]


def test_regression_metrics():
    scores = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    assert scores["mae"] == pytest.approx(2 / 3)
    assert scores["rmse"] == pytest.approx(np.sqrt(4 / 3))
    assert scores["r2"] == pytest.approx(1 - 4 / 2)
