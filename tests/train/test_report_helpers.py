"""The report's figures drawn by helper processes (diagnostics/plot_helpers.py) are the same
bytes as drawn in the process itself; a helper not ready yet or failing leaves its figures to
the process, so they are still written and errors still surface; a run's report is complete
with helpers and without."""

import types

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.diagnostics import plot_helpers, plots
from chainrule.diagnostics.plot_helpers import Helpers, helping
from chainrule.explain import render
from chainrule.train import report, report_helpers

from .runs import TINY

pytest.importorskip("matplotlib")
pytestmark = pytest.mark.skipif(plot_helpers.wanted() == 0, reason="no helpers on this platform")


def draw_all(folder):
    """The demo's four report figures, into ``folder``; their paths."""
    rng = np.random.default_rng(0)
    names = ["1", "4", "7"]
    monitor = types.SimpleNamespace(
        samples=[{"step": s, "layers": {n: {"grad_norm": float(rng.uniform(0.01, 1))}
                                        for n in names}} for s in range(1, 1600, 50)],
        histograms={n: rng.normal(0, 1e-3, 2000) for n in names})
    epochs = [{"step": 41 * e, "epoch": e, "train_loss": 1 / e + 0.5, "val_loss": 0.2 / e,
               "val_accuracy": 0.97 + e / 2000} for e in range(1, 41)]
    steps = [{"step": s, "loss": 1 / s + 0.5} for s in range(10, 1640, 10)]
    return [render.image_heatmaps(folder / "heatmaps.png", rng.normal(size=(4, 1, 8, 8)),
                                  rng.normal(size=(4, 8, 8)), [f"image {i}" for i in range(4)]),
            plots.gradient_flow(monitor, folder / "flow.png"),
            plots.histograms(monitor, folder / "histograms.png"),
            report._plot_curves(types.SimpleNamespace(path=folder), epochs, steps)]


@pytest.fixture
def helpers():
    started = Helpers(2)
    assert all(h.is_ready(timeout=120) for h in started.helpers)
    yield started
    started.close()


def test_figures_drawn_by_helpers_are_the_bytes_drawn_in_process(tmp_path, helpers):
    (tmp_path / "here").mkdir()
    (tmp_path / "helped").mkdir()
    here = draw_all(tmp_path / "here")
    with helping(helpers):
        helped = draw_all(tmp_path / "helped")
        assert [h.jobs != [] for h in helpers.helpers] == [True, True]  # both drew
    for a, b in zip(here, helped):
        assert a.name == b.name and a.read_bytes() == b.read_bytes(), a.name


def test_a_figure_a_helper_fails_on_is_drawn_here_and_its_error_raised(tmp_path, helpers):
    with pytest.raises(TypeError, match="Invalid shape"):
        with helping(helpers):  # maps of the wrong shape
            render.image_heatmaps(tmp_path / "bad.png", np.zeros((1, 1, 8, 8)),
                                  np.zeros((1, 3)), ["x"])
    with helping(helpers):  # the helper goes on drawing the next ones
        (path,) = [render.image_heatmaps(tmp_path / "good.png", np.zeros((1, 1, 8, 8)),
                                         np.ones((1, 8, 8)), ["x"])]
    assert path.stat().st_size > 0


def test_no_helpers_start_when_no_core_is_idle(monkeypatch):
    monkeypatch.setattr(report_helpers, "START_AFTER", 0.0)
    monkeypatch.setattr(report_helpers, "core_idle", lambda: False)
    hook = report_helpers.ReportHelpers(count=2)
    for _ in range(3):
        hook.on_step(None, {})
    assert hook.helpers is None


def test_helpers_not_ready_yet_leave_the_figures_to_the_process(tmp_path):
    starting = Helpers(1)  # just started: not ready at the first figure
    try:
        with helping(starting):
            paths = draw_all(tmp_path)
        assert all(p.stat().st_size > 0 for p in paths)
    finally:
        starting.close()
    assert starting.helpers[0].process.returncode is not None


@pytest.mark.parametrize("count", ["0", "2"])
def test_a_run_writes_every_figure_with_helpers_and_without(tmp_path, monkeypatch, count):
    monkeypatch.setenv(plot_helpers.VARIABLE, count)
    monkeypatch.setattr(report_helpers, "START_AFTER", 0.0)
    monkeypatch.setattr(report_helpers, "core_idle", lambda: True)  # a busy test machine too
    ready = plot_helpers._Helper.is_ready
    monkeypatch.setattr(plot_helpers._Helper, "is_ready", lambda h: ready(h, timeout=120))
    settings = [a for a in TINY if a != "--no-diagnose"]
    assert main(["train", "--out", str(tmp_path), "--name", "run", *settings]) == 0
    run = tmp_path / "run"
    for name in ("curves.png", "gradient_flow.png", "gradient_histograms.png",
                 "what_the_model_looks_at/heatmaps.png"):
        assert (run / name).stat().st_size > 0, name
        assert name in (run / "report.md").read_text()


@pytest.mark.parametrize("free, idle", [(1, False), (2, True), (3, True)])
def test_a_core_is_idle_when_the_thread_policy_counts_two_free(monkeypatch, free, idle):
    from chainrule.kernels import threads

    monkeypatch.setattr(threads, "free_cores", lambda: free)
    assert plot_helpers.core_idle() is idle
