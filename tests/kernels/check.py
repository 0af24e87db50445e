"""One helper per kind of kernel check: the kernel path against the NumPy reference, and a
kernel's gradient against central differences of its own forward."""

import numpy as np

import chainrule as cr
from chainrule import kernels


def both_paths(run, *arrays):
    """``run(*tensors)`` -> list of arrays, once with kernels forced on (from 0 elements) and
    once on the reference path; returns (kernel results, reference results)."""
    results = []
    for enabled in (True, False):
        with kernels.use_kernels(enabled, min_size=0):
            tensors = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
            results.append([np.asarray(r) for r in run(*tensors)])
    return results


def assert_paths_agree(run, *arrays, rtol=2e-6, atol=2e-7):
    """The kernel path gives the reference path's values (forward and gradients)."""
    fast, reference = both_paths(run, *arrays)
    assert len(fast) == len(reference)
    for position, (a, b) in enumerate(zip(fast, reference)):
        assert a.dtype == b.dtype, f"result {position}: dtype {a.dtype} vs {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"result {position}")


def assert_directional_derivative(loss, gradient, x, eps=1e-2, rtol=2e-2, seed=0):
    """<gradient, v> equals (loss(x + eps v) - loss(x - eps v)) / (2 eps) for random
    directions v, all with the kernels on (float32: a large eps, a matching tolerance)."""
    rng = np.random.default_rng(seed)
    with kernels.use_kernels(True, min_size=0):
        g = np.asarray(gradient(x), dtype=np.float64)
        for _ in range(3):
            v = rng.standard_normal(x.shape).astype(x.dtype)
            numeric = (float(loss(x + eps * v)) - float(loss(x - eps * v))) / (2 * eps)
            analytic = float(np.sum(g * v))
            assert abs(numeric - analytic) <= rtol * (abs(analytic) + 1e-3), (numeric, analytic)
