"""``wide_vectors()``: kernels ask LLVM for 512-bit vectors where the CPU has them."""

import importlib
import inspect
import re

import numba
import numpy as np
import pytest

from chainrule.kernels._jit import _OPTIONS, wide_vectors

# the families whose loop kernels opt in (conv, pool and recurrent are measured separately)
_FAMILIES = ("activation", "softmax", "norm", "loss", "attention", "optim", "norms")


def _scale(x, y):
    wide_vectors()
    for i in range(x.size):
        y[i] = x[i] * np.float32(3.0) + np.float32(1.0)


def _compiled(function):
    """``function`` compiled anew (not from the disk cache, whose code cannot be inspected)."""
    kernel = numba.njit(cache=False, **_OPTIONS)(function)
    x = np.arange(1000, dtype=np.float32)
    y = np.empty_like(x)
    kernel(x, y)
    np.testing.assert_array_equal(y, x * np.float32(3.0) + np.float32(1.0))
    return kernel


def _target_has_avx512():
    """Whether numba compiles for a CPU with AVX-512: the host's features, or those that
    ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES`` chose (``generic``: none)."""
    from numba.core.registry import cpu_target

    features = cpu_target.target_context.codegen()._tm_features
    return "+avx512f" in features.split(",")


def test_the_kernel_carries_the_preference_in_its_llvm_ir():
    llvm_ir = next(iter(_compiled(_scale).inspect_llvm().values()))
    assert '"prefer-vector-width"="512"' in llvm_ir


def test_the_loop_uses_512_bit_registers_exactly_where_the_cpu_has_them():
    assembly = next(iter(_compiled(_scale).inspect_asm().values()))
    assert bool(re.search(r"\bzmm\d", assembly)) == _target_has_avx512()


@pytest.mark.parametrize("family", _FAMILIES)
def test_every_loop_kernel_of_the_family_opts_in(family):
    module = importlib.import_module(f"chainrule.kernels.{family}")
    kernels = [value for name, value in vars(module).items()
               if isinstance(value, numba.core.registry.CPUDispatcher)
               and value.py_func.__module__ == module.__name__
               and value.targetoptions.get("inline", "never") == "never"
               and not value.targetoptions.get("parallel")  # (twins: a loop over parts)
               and name != "_unmasked_spans"]  # (once per call, not a loop over the data)
    assert kernels
    for kernel in kernels:
        assert "wide_vectors()" in inspect.getsource(kernel.py_func), kernel.__name__
