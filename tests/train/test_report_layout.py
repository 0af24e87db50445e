"""The report's figures are laid out with fixed margins (no tight_layout): every label, title
and tick label stays inside its figure and clear of the others, also with long layer names,
long titles and many panels."""

import types

import numpy as np
import pytest

from chainrule.diagnostics import plots
from chainrule.explain import render
from chainrule.train import report

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture
def figures(monkeypatch):
    """Every figure saved during the test, drawn again for its texts' places."""
    from matplotlib.figure import Figure

    saved = []
    original = Figure.savefig

    def savefig(figure, *args, **kwargs):
        original(figure, *args, **kwargs)
        saved.append(figure)

    monkeypatch.setattr(Figure, "savefig", savefig)
    return saved


def text_boxes(figure):
    """(text, box in pixels) of every text drawn, from drawing the figure again."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    drawn, draw = [], Text.draw

    def recorded(text, renderer):
        draw(text, renderer)
        if text.get_visible() and text.get_text().strip():
            drawn.append((text.get_text(), text.get_window_extent(renderer)))

    Text.draw = recorded
    try:
        FigureCanvasAgg(figure).draw()
    finally:
        Text.draw = draw
    return drawn


def assert_laid_out(figure):
    """No text outside the figure, no two texts overlapping (by more than a pixel)."""
    width, height = figure.canvas.get_width_height()
    boxes = text_boxes(figure)
    assert boxes
    for text, box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, \
            f"{text!r} leaves the figure: {box}"
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1:]:
            overlap = min(a.x1, b.x1) - max(a.x0, b.x0), min(a.y1, b.y1) - max(a.y0, b.y0)
            assert min(overlap) <= 1, f"{first!r} overlaps {second!r}"


def monitor(names, steps=40):
    rng = np.random.default_rng(0)
    samples = [{"step": 1 + 50 * s, "layers": {n: {"grad_norm": float(10 ** rng.normal(-3, 2))}
                                               for n in names}} for s in range(steps)]
    return types.SimpleNamespace(samples=samples,
                                 histograms={n: rng.normal(0, 1e-4, 3000) for n in names})


@pytest.mark.parametrize("names", [["1", "4", "7"],
                                   [f"blocks.{i}.attention.output_projection" for i in range(7)]])
def test_gradient_pictures(tmp_path, figures, names):
    plots.gradient_flow(monitor(names), tmp_path / "flow.png")
    plots.histograms(monitor(names), tmp_path / "histograms.png")
    for figure in figures:
        assert_laid_out(figure)


@pytest.mark.parametrize("titles", [[f"test image {i}: predicted {i}" for i in range(4)],
                                    [f"photos/holidays/IMG_2024_{i:04d}.jpg: predicted cat"
                                     for i in range(2)]])
def test_heatmaps(tmp_path, figures, titles):
    rng = np.random.default_rng(0)
    count = len(titles)
    render.image_heatmaps(tmp_path / "heat.png", rng.normal(size=(count, 1, 8, 8)),
                          rng.normal(size=(count, 8, 8)) * 1e-3, titles)
    (figure,) = figures
    assert_laid_out(figure)


def test_curves(tmp_path, figures):
    rng = np.random.default_rng(0)
    steps = [{"step": s, "loss": float(np.exp(-s / 400) + 0.5)} for s in range(10, 1650, 10)]
    epochs = [{"step": 41 * e, "epoch": e, "train_loss": float(1 / e + 0.5),
               "val_loss": float(0.8 / e + 0.1), "val_accuracy": float(rng.uniform(0.97, 1))}
              for e in range(1, 41)]
    report._plot_curves(types.SimpleNamespace(path=tmp_path), epochs, steps)
    (figure,) = figures
    assert_laid_out(figure)
