"""Helpers for tests that train tiny runs: the settings, and what "bit-identical" compares."""

import contextlib
import json
import sys

import numpy as np
import pytest

import chainrule as cr

# 6 steps per epoch on the built-in digits; the step checkpoints land at steps 0, 3, 6, 9, 12
TINY = ["--epochs", "2", "--batch-size", "256", "--hidden-size", "16", "--checkpoint-every",
        "3", "--keep-last", "9", "--log-every", "1", "--quiet", "--no-diagnose", "--seed", "3"]


@contextlib.contextmanager
def without_plots():
    """Runs in this block write their report without plots (matplotlib's layout takes most of
    a tiny run's time)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "matplotlib", None)
        yield


def command(*args):
    return [sys.executable, "-m", "chainrule", *args]


def final_state(run):
    return cr.load(sorted((run / "checkpoints").glob("step-*.safetensors"))[-1])


def records_without_timing(run):
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in records]


def assert_same_run(got, expected):
    """Two finished runs ended in the same place with bit-identical weights, optimizer state
    and metric records."""
    a, b = final_state(got), final_state(expected)
    assert a["position"] == b["position"]
    for part in ("model", "optimizer"):
        assert_same_tree(a[part], b[part], part)
    assert records_without_timing(got) == records_without_timing(expected)
    assert (got / "report.md").exists()


def assert_same_tree(a, b, where):
    if isinstance(a, cr.Tensor):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=where)
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_tree(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_tree(x, y, f"{where}[{i}]")
    else:
        assert a == b, where
