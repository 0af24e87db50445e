"""The normal distribution's functions on arrays (chainrule/kernels/normal.py): the float32 fit
of Phi is the one bench/fit_ndtr.py derives, and its error bounds hold."""

import importlib.util
import math
from pathlib import Path

import numpy as np

from chainrule.kernels import normal

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "fit_ndtr.py"


def _fit_script():
    spec = importlib.util.spec_from_file_location("fit_ndtr", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_float32_fit_is_the_one_the_script_derives():
    script = _fit_script()
    coefficients, worst = script.fit()
    assert script.SCALE == normal.NDTR_FIT_SCALE
    np.testing.assert_allclose(normal.NDTR_FIT, coefficients, rtol=1e-9, atol=1e-12)
    assert worst <= normal.NDTR_FIT_BOUND  # the error of P, i.e. the relative error of Phi


def assert_within_ndtr_bound(ndtr):
    """``ndtr`` (float32 in, float32 out) against the truth, math.erfc in float64, over
    [-20, 20]: within NDTR_FLOAT32_BOUND relative error where Phi is a normal float32. Returns
    the points and the truth."""
    x = np.linspace(-20.0, 20.0, 100001).astype(np.float32)
    exact = 0.5 * np.array([math.erfc(-float(v) / math.sqrt(2.0)) for v in x])
    fast = ndtr(x).astype(np.float64)
    representable = exact >= np.finfo(np.float32).tiny
    relative = np.abs(fast - exact)[representable] / exact[representable]
    assert relative.max() <= normal.NDTR_FLOAT32_BOUND
    # where Phi(x) is below float32's normal range, only subnormal rounding is left
    assert np.abs(fast - exact)[~representable].max() <= 1e-43
    return x, exact


def test_the_float32_formula_keeps_its_relative_error_bound():
    assert_within_ndtr_bound(normal.ndtr_float32)


def test_the_bound_would_catch_a_worse_fit(monkeypatch):
    # our fit rounded to 4 digits (errors ~1e-5): the bound must fail such a fit
    rounded = tuple(round(c, 4) for c in normal.NDTR_FIT)
    monkeypatch.setattr(normal, "NDTR_FIT", rounded)
    x = np.linspace(-5.0, 5.0, 2001).astype(np.float32)
    exact = 0.5 * np.array([math.erfc(-float(v) / math.sqrt(2.0)) for v in x])
    relative = np.abs(normal.ndtr_float32(x) - exact) / exact
    assert relative.max() > normal.NDTR_FLOAT32_BOUND
