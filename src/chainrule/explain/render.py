"""Pictures of attributions: heatmaps beside images, a bar chart of a global ranking, series
windows coloured by attribution (PNG, needs matplotlib: ``pip install 'chainrule[plots]'``),
and tokens coloured by attribution (HTML, no dependency)."""

import html
from pathlib import Path

import numpy as np

from ..diagnostics.plot_helpers import offloaded
from ..diagnostics.plots import _pyplot, label_width, place_grid

__all__ = ["image_heatmaps", "ranking_plot", "series_plot", "tokens_html"]

POSITIVE, NEGATIVE = (214, 39, 40), (31, 119, 180)  # red raises the explained output, blue lowers


def _save(plt, figure, path, layout=None):
    """Write the figure as PNG; ``layout`` (place_grid's arguments) fixes its margins, else
    tight_layout measures them."""
    if layout is None:
        figure.tight_layout()
    else:
        place_grid(figure, **layout)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return Path(path)


def hide_axes(axis):
    """No frame, ticks or labels around a picture. The tick lists are emptied first: hidden ticks
    are still laid out (a third of a figure of pictures' drawing time), for nothing."""
    axis.set_xticks([])
    axis.set_yticks([])
    axis.axis("off")


def _displayable(image):
    """(C, H, W) model input as an (H, W) or (H, W, 3) picture scaled to [0, 1]."""
    image = np.asarray(image, dtype=np.float64)
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    return image[0] if image.shape[0] == 1 else np.moveaxis(image[:3], 0, -1)


@offloaded
def image_heatmaps(path, images, maps, titles=None, signed=True):
    """One row per image: the input, the heatmap, and the heatmap over the input. ``images``
    are model inputs (N, C, H, W), ``maps`` (N, H, W); signed maps are drawn red (raises the
    output) to blue (lowers it) around zero, others (Grad-CAM) from dark to bright."""
    plt = _pyplot()
    count = len(images)
    figure, axes = plt.subplots(count, 3, figsize=(7.5, 2.6 * count), squeeze=False)
    for row, (image, heat) in enumerate(zip(images, maps)):
        picture = _displayable(image)
        gray = picture if picture.ndim == 2 else picture.mean(axis=-1)
        limit = float(np.abs(heat).max()) or 1.0
        style = (dict(cmap="RdBu_r", vmin=-limit, vmax=limit) if signed
                 else dict(cmap="inferno", vmin=0, vmax=limit))
        axes[row, 0].imshow(picture, cmap="gray" if picture.ndim == 2 else None)
        shown = axes[row, 1].imshow(heat, **style)
        figure.colorbar(shown, ax=axes[row, 1], fraction=0.046)
        axes[row, 2].imshow(gray, cmap="gray")
        axes[row, 2].imshow(heat, alpha=0.6, **style)
        title = titles[row] if titles else ""
        for column, text in enumerate(("input", "attribution", "overlay")):
            # the row's title sits over the middle panel, which is centred in the figure
            axes[row, column].set_title(f"{title}\n{text}" if column == 1 and title else text,
                                        fontsize=8, y=1.0)
            hide_axes(axes[row, column])
    # the middle panel's two-line title above each row, its colour bar's labels to its right;
    # a title wider than its panel widens the gaps so as not to run into its neighbours'
    title = max((label_width(t, 8) for t in titles or ()), default=0.0)
    return _save(plt, figure, path, dict(rows=count, columns=3, left=0.1, right=0.1, top=0.45,
                                         bottom=0.1, wspace=max(0.6, title / 2 - 0.7),
                                         hspace=0.5))


@offloaded
def ranking_plot(path, ranking, title, top=20):
    """Horizontal bars of the ``top`` entries of a [(name, importance)] ranking."""
    plt = _pyplot()
    shown = ranking[:top][::-1]
    figure, axes = plt.subplots(figsize=(7, 1.0 + 0.3 * len(shown)))
    axes.barh([name for name, _ in shown], [value for _, value in shown], color="tab:blue")
    axes.set_xlabel("mean |attribution|")
    axes.set_title(title, fontsize=9)
    axes.tick_params(axis="y", labelsize=8)
    return _save(plt, figure, path)


@offloaded
def series_plot(path, windows, attributions, names, titles):
    """One row per window: its values with each step coloured by its attribution, and the
    attributions as bars (``names``: the steps, e.g. t-3 ... t)."""
    plt = _pyplot()
    figure, axes = plt.subplots(len(windows), 2, figsize=(11, 2.8 * len(windows)),
                                squeeze=False)
    steps = np.arange(len(names))
    ticks = steps[::max(1, len(names) // 8)]
    for row, (values, scores) in enumerate(zip(windows, attributions)):
        limit = float(np.abs(scores).max()) or 1.0
        axes[row, 0].plot(steps, values, color="0.6", zorder=1)
        dots = axes[row, 0].scatter(steps, values, c=scores, cmap="RdBu_r", vmin=-limit,
                                    vmax=limit, zorder=2, s=18)
        figure.colorbar(dots, ax=axes[row, 0], fraction=0.046)
        axes[row, 0].set_title(titles[row], fontsize=8)
        colours = np.where(scores >= 0, "tab:red", "tab:blue")
        axes[row, 1].bar(steps, scores, color=colours)
        axes[row, 1].axhline(0, color="0.3", linewidth=0.6)
        axes[row, 1].set_title("attribution per time step", fontsize=8)
        for axis in axes[row]:
            axis.set_xticks(ticks, [names[t] for t in ticks], fontsize=7)
    return _save(plt, figure, path)


def tokens_html(examples, title):
    """An HTML page: per example (heading, tokens, scores), each token on a background whose
    strength is its |score| relative to the example's largest (red positive, blue negative);
    hovering shows the score."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'>",
             f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif}}"
             ".t{font-family:monospace;white-space:pre-wrap;line-height:1.8}</style></head>",
             f"<body><h2>{html.escape(title)}</h2>",
             "<p>red: raises the explained output; blue: lowers it; hover for the value.</p>"]
    for heading, tokens, scores in examples:
        scores = np.asarray(scores, dtype=np.float64)
        limit = float(np.abs(scores).max()) or 1.0
        spans = []
        for token, score in zip(tokens, scores):
            red, green, blue = POSITIVE if score >= 0 else NEGATIVE
            shown = html.escape(token).replace("\n", "&#8629;\n")
            spans.append(f"<span style='background:rgba({red},{green},{blue},"
                         f"{abs(score) / limit:.3f})' title='{score:.4g}'>{shown}</span>")
        parts += [f"<h3>{html.escape(heading)}</h3>", f"<div class='t'>{''.join(spans)}</div>"]
    parts.append("</body></html>")
    return "\n".join(parts)
