"""Cached kernels are keyed by every module of the kernels package, not only their own file:
a changed helper that kernels inline (``_jit.row_max``, ``_native``'s BLAS calls) must not
leave their old machine code in use."""

import numba
import numpy as np
import pytest

from chainrule.kernels import _jit


def _add_one(x):
    return x + np.float32(1.0)


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of two modules standing in for the package, read afresh by the fingerprint."""
    (tmp_path / "_jit.py").write_text("def helper(): return 1\n")
    (tmp_path / "softmax.py").write_text("def kernel(): return 2\n")
    monkeypatch.setattr(_jit, "__file__", str(tmp_path / "_jit.py"))
    monkeypatch.setattr(_jit, "_sources", {})
    return tmp_path


def _key(dispatcher):
    signature = (numba.float32,)
    return dispatcher._cache._index_key(signature, dispatcher.targetctx.codegen())


def test_the_key_changes_with_a_helper_module_and_only_then(package):
    first = _key(_jit._keyed_by_sources(numba.njit(cache=True)(_add_one)))
    _jit._sources.clear()
    again = _key(_jit._keyed_by_sources(numba.njit(cache=True)(_add_one)))
    assert again == first  # same sources: the cached code is found again
    (package / "_jit.py").write_text("def helper(): return 3\n")
    _jit._sources.clear()
    changed = _key(_jit._keyed_by_sources(numba.njit(cache=True)(_add_one)))
    assert changed != first
    # numba's own part of the key is kept: signature, target and the function's bytecode
    assert changed[0] == first[0]


def test_every_cached_kernel_carries_the_fingerprint():
    from chainrule.kernels import softmax

    for dispatcher in (softmax._softmax_range, softmax._softmax_ranges):
        key = _key(dispatcher)
        assert key[1] == _jit._sources_fingerprint()
