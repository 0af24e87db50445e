"""Compiled kernels for the elementwise-heavy hot paths, beside the NumPy code they replace.

Each op keeps its plain NumPy code as the reference and the fallback; a kernel is used only
where it is known to be faster and gives the same values (``tests/kernels`` holds every kernel
to its reference and to finite differences). Kernels are numba functions compiled on first use
and cached on disk; numba (an optional extra, ``pip install 'chainrule[fast]'``) is imported
only when the first kernel is needed, so ``import chainrule`` does not pay for it.

A kernel is used when all of these hold:
- numba imports, and ``CHAINRULE_KERNELS`` is not ``0`` (``use_kernels(False)`` also turns
  them off, e.g. to compare against the reference);
- the arrays are float32 (other dtypes take the reference path);
- the work is large enough (``MIN_SIZE`` elements) that a compiled pass repays loading numba.

    >>> from chainrule import kernels
    >>> with kernels.use_kernels(False):   # the NumPy reference everywhere inside
    ...     pass
"""

import contextlib
import importlib
import os
import sys
import warnings

import numpy as np

__all__ = ["available", "load", "if_loaded", "use_kernels", "min_size", "enabled",
           "writable_in_place"]

# Below this many elements (512 KB of float32) NumPy's few passes take tens of microseconds:
# not enough to repay numba's import and cache load (0.4 + 0.2 s CPU, measured; 0.65 s more to
# compile a kernel the first time), so small models (the README's demo) never load numba.
MIN_SIZE = 1 << 17

_settings = {"enabled": os.environ.get("CHAINRULE_KERNELS", "1") != "0", "min_size": MIN_SIZE}
_loaded = {}
_numba_ok = None


def available():
    """True when numba imports here (kernels can be compiled)."""
    global _numba_ok
    if _numba_ok is None:
        try:
            import numba  # noqa: F401 - the 0.4 s import, paid once and only when needed
        except ImportError:
            _numba_ok = False
        except Exception as error:  # installed but broken (e.g. a local coverage.py shadows
            _numba_ok = False       # the package numba probes): say so, run the reference
            warnings.warn(f"chainrule: numba is installed but failed to import ({error!r}); "
                          "using the NumPy path (set CHAINRULE_KERNELS=0 to silence this)",
                          RuntimeWarning, stacklevel=3)
        else:
            _numba_ok = True
    return _numba_ok


def load(family, *arrays, size=None):
    """The kernel module ``family`` (e.g. ``"activation"``) when kernels apply to ``arrays``
    (all float32, the first at least ``min_size`` elements, or ``size`` when given: the size of
    the work where that is not the first array's), else None: use the reference."""
    if not _settings["enabled"]:
        return None
    for array in arrays:
        if array.dtype != np.float32:
            return None
    work = arrays[0].size if size is None and arrays else size
    if work is not None and work < _settings["min_size"]:
        return None
    module = _loaded.get(family)
    if module is None:
        if not available():
            return None
        module = _loaded[family] = importlib.import_module(f"{__name__}.{family}")
    return module


def if_loaded(family, array):
    """The kernel module ``family`` for a writable, C-contiguous float32 ``array`` of any
    size, but only when numba is already loaded (by a model's own ops) and kernels are on;
    else None. For the diagnostics' reads on sampled steps: a monitor alone does not pay for
    numba's import."""
    if (array.dtype != np.float32 or "numba" not in sys.modules
            or not (array.flags.c_contiguous and array.flags.writeable)):
        return None
    return load(family, size=sys.maxsize)  # (any size: the caller chose to read it)


def writable_in_place(*arrays):
    """True when every array (None skipped) is C-contiguous and writable, so a kernel that
    flattens it writes into the array itself rather than into a copy."""
    return all(a is None or (a.flags.c_contiguous and a.flags.writeable) for a in arrays)


@contextlib.contextmanager
def use_kernels(enabled=True, min_size=None):
    """Turn the kernels on or off inside a ``with`` block (and optionally change the size from
    which they are used: tests pass ``min_size=0`` to run them on small arrays)."""
    saved = dict(_settings)
    _settings["enabled"] = enabled
    if min_size is not None:
        _settings["min_size"] = min_size
    try:
        yield
    finally:
        _settings.update(saved)


def min_size():
    """The number of elements from which kernels are used."""
    return _settings["min_size"]


def enabled():
    """Whether kernels are on (``CHAINRULE_KERNELS``, ``use_kernels``); whether numba is
    there is ``available()``."""
    return _settings["enabled"]
