"""``torch.testing``: ``assert_close`` (and the deprecated ``assert_allclose``) with PyTorch's
default tolerances per dtype, and ``make_tensor``."""

import numpy as np

from . import _dtypes
from .random import numpy_generator
from .tensor import Tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# PyTorch's defaults (rtol, atol) by dtype; integers and bools compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7)}


def _as_array(value):
    if isinstance(value, Tensor):
        return value.detach().numpy()
    return np.asarray(value)


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise AssertionError unless ``actual`` and ``expected`` (tensors, numbers, or nested
    sequences and mappings of them) are close: |a - e| <= atol + rtol * |e| elementwise."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"rtol={rtol} and atol={atol}")
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            raise AssertionError(msg or f"the keys differ: {sorted(actual)} vs {sorted(expected)}")
        for key in expected:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(expected, (list, tuple)) and not isinstance(actual, Tensor):
        if len(actual) != len(expected):
            raise AssertionError(msg or f"the lengths differ: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_dtype=check_dtype, msg=msg)
        return
    a, e = _as_array(actual), _as_array(expected)
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if check_dtype and a.dtype != e.dtype:
            raise AssertionError(msg or f"The values for attribute 'dtype' do not match: "
                                        f"{actual.dtype} != {expected.dtype}.")
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: "
                                    f"{a.shape} != {e.shape}.")
    if rtol is None:
        rtol, atol = _TOLERANCES.get(np.result_type(a, e).name, (0.0, 0.0))
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        worst = float(np.nanmax(np.abs(a64 - e64))) if a64.size else 0.0
        text = (f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {close.size} "
                f"({100.0 * bad / close.size:.1f}%)\nGreatest absolute difference: {worst} "
                f"(up to {atol} allowed)\nGreatest relative difference: (up to {rtol} allowed)")
        raise AssertionError(msg(text) if callable(msg) else (msg or text))


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """Deprecated in PyTorch for ``assert_close``; kept with its defaults."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan,
                 check_dtype=False, msg=msg or None)


def make_tensor(*shape, dtype, device=None, low=None, high=None, requires_grad=False,
                noncontiguous=False, exclude_zero=False, memory_format=None):
    """A tensor of random values in [low, high) (defaults by dtype, as PyTorch's)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    np_dtype = _dtypes.to_numpy_dtype(dtype)
    rng = numpy_generator(None)
    if np_dtype.kind == "b":
        values = rng.random(shape) < 0.5
    elif np_dtype.kind in "iu":
        lo = -9 if low is None else int(low)
        hi = 10 if high is None else int(high)
        lo = max(lo, 0) if np_dtype.kind == "u" else lo
        values = rng.integers(lo, hi, shape)
        if exclude_zero:
            values[values == 0] = 1
    else:
        lo, hi = (-9.0 if low is None else low), (9.0 if high is None else high)
        values = rng.uniform(lo, hi, shape)
        if exclude_zero:
            values[values == 0] = np.finfo(np.float32).eps
    out = Tensor._from_array(np.asarray(values).astype(np_dtype))
    return out.requires_grad_() if requires_grad else out
