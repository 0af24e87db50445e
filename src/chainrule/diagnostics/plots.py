"""Gradient-flow pictures: per-layer gradient norm over the sampled steps as a heatmap and as
lines, and per-layer histograms of gradient magnitudes. Needs matplotlib, an optional extra:
``pip install 'chainrule[plots]'`` (or ``pip install matplotlib``)."""

from pathlib import Path

import numpy as np

PLOTS_HINT = "Plots need matplotlib: pip install 'chainrule[plots]' (or pip install matplotlib)."


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError(PLOTS_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


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
    plt = _pyplot()
    names, steps, matrix = _norm_matrix(monitor)
    figure, (heat, lines) = plt.subplots(1, 2, figsize=(13, max(3.5, 0.3 * len(names) + 1.5)))
    image = heat.imshow(matrix, aspect="auto", cmap="viridis", interpolation="nearest")
    heat.set_yticks(range(len(names)), names, fontsize=7)
    ticks = np.linspace(0, len(steps) - 1, min(len(steps), 8)).astype(int) if steps else []
    heat.set_xticks(ticks, [steps[t] for t in ticks])
    heat.set_xlabel("step")
    heat.set_title("log10 gradient norm per layer (first layer on top)")
    figure.colorbar(image, ax=heat)
    colours = plt.cm.viridis(np.linspace(0, 1, max(len(names), 1)))
    for i, name in enumerate(names):
        lines.plot(steps, 10 ** matrix[i], color=colours[i], label=name)
    lines.set_yscale("log")
    lines.set_xlabel("step")
    lines.set_ylabel("gradient norm")
    lines.set_title("gradient norm per layer")
    if len(names) <= 12:
        lines.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def histograms(monitor, path):
    """Write per-layer histograms of log10 |gradient| at the last sampled step to ``path``."""
    plt = _pyplot()
    names = list(monitor.histograms)
    columns = min(4, max(len(names), 1))
    rows = max(1, -(-len(names) // columns))
    figure, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.4 * rows), squeeze=False)
    for axis in axes.flat[len(names):]:
        axis.set_visible(False)
    for axis, name in zip(axes.flat, names):
        values = np.abs(monitor.histograms[name])
        values = values[values > 0]
        if values.size:
            axis.hist(np.log10(values), bins=40, color="tab:blue")
        axis.set_title(name, fontsize=8)
        axis.set_xlabel("log10 |grad|", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)
