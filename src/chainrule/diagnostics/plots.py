"""Gradient-flow pictures: per-layer gradient norm over the sampled steps as a heatmap and as
lines, and per-layer histograms of gradient magnitudes. Needs matplotlib, an optional extra:
``pip install 'chainrule[plots]'`` (or ``pip install matplotlib``)."""

from pathlib import Path

import numpy as np

from .plot_helpers import offloaded

PLOTS_HINT = "Plots need matplotlib: pip install 'chainrule[plots]' (or pip install matplotlib)."


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(PLOTS_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def label_width(text, points):
    """A generous width in inches of ``text`` at ``points`` in matplotlib's default font (its
    glyphs average about 0.6 of the font size; digits and capitals a little more)."""
    return 0.66 * points / 72 * len(str(text))


def place_grid(figure, rows, columns, left, right, top, bottom, wspace=0.0, hspace=0.0):
    """Lay out the figure's rows x columns grid of axes with margins and gaps in inches.

    NOTE: fixed margins instead of ``tight_layout``: tight_layout measures every tick label and
    title in a whole extra pass of layout (half of the report's drawing time). The callers
    size the margins from what they draw (``label_width`` for text that varies), and
    tests/train/test_report_layout.py checks that no text leaves its figure or overlaps."""
    width, height = figure.get_size_inches()
    cell_width = (width - left - right - (columns - 1) * wspace) / columns
    cell_height = (height - top - bottom - (rows - 1) * hspace) / rows
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height,
                           top=1 - top / height, wspace=wspace / cell_width,
                           hspace=hspace / cell_height)


def _norm_matrix(monitor):
    names = list(monitor.samples[-1]["layers"]) if monitor.samples else []
    steps = [s["step"] for s in monitor.samples]
    matrix = np.full((len(names), len(steps)), np.nan)
    for j, sample in enumerate(monitor.samples):
        for i, name in enumerate(names):
            norm = sample["layers"].get(name, {}).get("grad_norm")
            if norm is not None and norm > 0:
                matrix[i, j] = np.log10(norm)
    return names, steps, matrix


def gradient_flow(monitor, path):
    """Write the heatmap and the lines of log10 gradient norm per layer to ``path`` (PNG)."""
    return draw_gradient_flow(path, *_norm_matrix(monitor))


@offloaded
def draw_gradient_flow(path, names, steps, matrix):
    plt = _pyplot()
    height = max(3.5, 0.3 * len(names) + 1.5)
    figure, (heat, lines) = plt.subplots(1, 2, figsize=(13, height))
    image = heat.imshow(matrix, aspect="auto", cmap="viridis", interpolation="nearest")
    heat.set_yticks(range(len(names)), names, fontsize=7)
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 8)).astype(int) if steps else []
    heat.set_xticks(ticks, [steps[t] for t in ticks])
    heat.set_xlabel("step")
    heat.set_title("log10 gradient norm per layer (first layer on top)", y=1.0)
    figure.colorbar(image, ax=heat)
    colours = plt.cm.viridis(np.linspace(0, 1, max(len(names), 1)))
    for i, name in enumerate(names):
        lines.plot(steps, 10 ** matrix[i], color=colours[i], label=name)
    lines.set_yscale("log")
    lines.set_xlabel("step")
    lines.set_ylabel("gradient norm")
    lines.set_title("gradient norm per layer", y=1.0)
    if len(names) <= 12:
        lines.legend(fontsize=7)
    # left: the layer names; between: the colour bar's labels, then the log axis' labels
    names_width = max((label_width(n, 7) for n in names), default=0.0)
    place_grid(figure, 1, 2, left=0.25 + names_width, right=0.2, top=0.4, bottom=0.6,
               wspace=1.4)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def histograms(monitor, path):
    """Write per-layer histograms of log10 |gradient| at the last sampled step to ``path``."""
    return draw_histograms(path, dict(monitor.histograms))


@offloaded
def draw_histograms(path, values_by_name):
    plt = _pyplot()
    names = list(values_by_name)
    columns = min(4, max(len(names), 1))
    rows = max(1, -(-len(names) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for axis in axes.flat[len(names):]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names):
        values = np.abs(values_by_name[name])
        values = values[values > 0]
        if values.size:
            axis.hist(np.log10(values), bins=40, color="tab:blue")
        axis.set_title(name, fontsize=8, y=1.0)
        axis.set_xlabel("log10 |grad|", fontsize=7)
    place_grid(figure, rows, columns, left=0.55, right=0.15, top=0.3, bottom=0.45, wspace=0.6,
               hspace=0.7)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)
