"""The report's plots for own data: confusion matrix, predicted against true values,
misclassified images and forecasts. Each returns the PNG's path, or None without matplotlib
(the report then says how to get plots)."""

from pathlib import Path

import numpy as np

from ..explain.render import hide_axes
from .metrics import LARGEST_SHOWN_MATRIX, classification_table, confusion_matrix


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _save(plt, figure, run_path, name):
    path = Path(run_path) / name
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def confusion_plot(run_path, matrix, classes):
    """confusion_matrix.png: counts, rows true class, columns predicted."""
    plt = _pyplot()
    if plt is None:
        return None
    labelled = len(classes) <= LARGEST_SHOWN_MATRIX  # else no names or counts: a heat map
    size = 2.5 + 0.45 * min(len(classes), LARGEST_SHOWN_MATRIX)
    figure, axes = plt.subplots(figsize=(size + 1, size))
    image = axes.imshow(matrix, cmap="Blues")
    figure.colorbar(image, ax=axes)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    # every class named, or beyond LARGEST_SHOWN_MATRIX about that many evenly spaced: the
    # default ticks would be positions, which read as class names when the classes are numbers
    ticks = np.arange(0, len(classes), max(1, -(-len(classes) // LARGEST_SHOWN_MATRIX)))
    axes.set_xticks(ticks, [str(classes[t]) for t in ticks], rotation=45, ha="right")
    axes.set_yticks(ticks, [str(classes[t]) for t in ticks])
    if labelled:
        for (row, column), count in np.ndenumerate(matrix):
            axes.text(column, row, str(count), ha="center", va="center",
                      color="white" if count > matrix.max() / 2 else "black")
    axes.set_title("test confusion matrix")
    return _save(plt, figure, run_path, "confusion_matrix.png")


def scatter_plot(run_path, truth, predicted, target):
    """predictions.png: predicted against true values of the test rows."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(5, 5))
    axes.scatter(truth, predicted, s=8, alpha=0.6)
    low, high = min(truth.min(), predicted.min()), max(truth.max(), predicted.max())
    axes.plot([low, high], [low, high], "k--", linewidth=1, label="perfect")
    axes.set_xlabel(f"true {target}")
    axes.set_ylabel(f"predicted {target}")
    axes.legend()
    return _save(plt, figure, run_path, "predictions.png")


def misclassified_grid(run_path, images, true_names, predicted_names, limit=36):
    """misclassified.png: up to ``limit`` test images the model got wrong, titled
    'true -> predicted'. ``images`` is uint8 (N, C, H, W)."""
    plt = _pyplot()
    if plt is None or len(images) == 0:
        return None
    count = min(len(images), limit)
    columns = min(count, 6)
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(1.8 * columns, 2.0 * rows),
                                squeeze=False)
    for index, axis in enumerate(axes.flat):
        hide_axes(axis)
        if index >= count:
            continue
        image = images[index].transpose(1, 2, 0)
        axis.imshow(image[..., 0] if image.shape[2] == 1 else image, cmap="gray",
                    interpolation="nearest")
        axis.set_title(f"{true_names[index]} -> {predicted_names[index]}", fontsize=8)
    return _save(plt, figure, run_path, "misclassified.png")


def forecast_plot(run_path, positions, truth, forecasts, baseline, history=None):
    """forecast.png: the test part of the series, the model's one-step-ahead forecasts and the
    last-value baseline's."""
    plt = _pyplot()
    if plt is None:
        return None
    figure, axes = plt.subplots(figsize=(10, 4))
    if history is not None:
        axes.plot(*history, color="0.7", linewidth=1, label="earlier")
    axes.plot(positions, truth, "k-", linewidth=1, label="actual")
    axes.plot(positions, forecasts, "-", linewidth=1.2, label="model forecast")
    axes.plot(positions, baseline, ":", linewidth=1, label="last-value baseline")
    axes.set_xlabel("time step")
    axes.legend()
    axes.set_title("test part: forecasts one horizon ahead")
    return _save(plt, figure, run_path, "forecast.png")


def classification_details(run_path, logits, labels, classes):
    """Report lines: per-class precision/recall/F1, the confusion matrix and its plot."""
    matrix = confusion_matrix(labels, logits.argmax(axis=1), len(classes))
    lines = classification_table(matrix, classes)
    plot = confusion_plot(run_path, matrix, classes)
    return lines + (["", f"![confusion matrix]({plot.name})"] if plot else [])
