"""The compiled squared norm the gradient tap reads with (kernels/norms.py), against NumPy."""

import numpy as np
import pytest

from chainrule import kernels
from chainrule.diagnostics.tap import squared_norm

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba is not installed")


def reference(array):
    wide = array.astype(np.float64).reshape(-1)
    return float(np.dot(wide, wide))


@pytest.mark.parametrize("shape", [(1,), (7,), (512,), (33, 70)])
def test_kernel_matches_numpy_in_float64(shape):
    from chainrule.kernels import norms

    array = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    assert norms.squared_norm(array.reshape(-1)) == pytest.approx(reference(array), rel=1e-12)


def test_kernel_keeps_nan_and_inf_and_does_not_overflow():
    from chainrule.kernels import norms

    values = np.ones(300, dtype=np.float32)
    for bad, check in ((np.nan, np.isnan), (np.inf, np.isposinf), (-np.inf, np.isposinf)):
        for position in (0, 150, 299):  # wherever it lies in the vectorised loop
            array = values.copy()
            array[position] = bad
            assert check(norms.squared_norm(array))
    big = np.full(10, 3e38, dtype=np.float32)  # float32 squares overflow; float64 ones do not
    assert norms.squared_norm(big) == pytest.approx(reference(big))


def test_update_norms_match_numpy():
    from chainrule.kernels import norms

    rng = np.random.default_rng(2)
    for size in (1, 5, 1000):
        after = rng.standard_normal(size).astype(np.float32)
        before = after.copy()
        before[::3] += np.float32(1e-6)  # an update far below the weights' size
        got = norms.update_norms(after, before)
        want = (reference(after), reference(before), reference(after - before))
        assert got == pytest.approx(want, rel=1e-9)
    assert norms.update_norms(after, after)[2] == 0.0  # nothing moved: exactly zero
    after[7] = np.nan
    assert all(np.isnan(value) for value in norms.update_norms(after, before)[::2])


@pytest.mark.parametrize("shape", [(512,), (40, 100), (300, 300)])
def test_tap_reads_the_same_with_and_without_kernels(shape):
    import numba  # noqa: F401 - the tap uses the kernel once the model's ops loaded numba

    array = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    with kernels.use_kernels(False):
        plain = squared_norm(array)
    assert squared_norm(array) == pytest.approx(plain, rel=1e-5)
    assert squared_norm(array) == pytest.approx(reference(array), rel=1e-5)


def test_tap_entry_point_matches_the_dispatcher():
    """The tap calls the compiled sum's machine code without numba's dispatch
    (tap._compiled_sum): on the arrays it passes (ravelled writable, aligned float32 arrays,
    views or copies) it gives the dispatcher's values."""
    from chainrule.diagnostics import tap
    from chainrule.kernels import norms

    rng = np.random.default_rng(0)
    norms.squared_norm(np.ones(3, np.float32))  # compiled (or loaded from the cache)
    entry = tap._compiled_sum()
    assert entry is not None and entry is not norms.squared_norm  # the entry point itself
    matrix = rng.standard_normal((64, 48)).astype(np.float32)
    for array in (matrix, matrix[:4], matrix.T, matrix[::3], np.float32([np.nan, 1.0])):
        flat = array.ravel()
        expected = norms.squared_norm(flat)
        assert entry(flat) == expected or (np.isnan(expected) and np.isnan(entry(flat)))


def test_tap_leaves_its_kept_entry_point_while_kernels_are_off():
    """Once found, the compiled sum's entry point is kept (tap._found); turning the kernels
    off still sends the tap to NumPy's path, and turning them on again brings it back."""
    from chainrule.diagnostics import tap
    from chainrule.kernels import norms

    norms.squared_norm(np.ones(3, np.float32))  # compiled (or loaded from the cache)
    entry = tap._compiled_sum()
    assert entry is not None and tap._compiled_sum() is entry  # kept
    with kernels.use_kernels(False):
        assert not kernels.enabled()
        assert tap._compiled_sum() is None
    assert kernels.enabled()
    assert tap._compiled_sum() is entry
