"""Keep freed memory for the next training step instead of handing it back to the system.

A training step allocates and frees the same multi-megabyte arrays every time (activations,
GEMM outputs, gradients). glibc's malloc returns such memory to the system: arrays above its
mmap threshold are unmapped when freed, and the top of the heap is trimmed once more than the
trim threshold lies free there. Its threshold adapts (it rises to the size of a freed mapped
block, up to 32 MB, with the trim threshold at twice that), but a step still gives back and
takes again tens of MB, and every page taken again is a page fault and a page of zeros.
Measured, gpt workload at one thread: ~7,000 page faults per step (28 MB), 230-254 ms CPU a
step; with the thresholds below, 1 fault and 196-211 ms (-30 ms), the resident set at rest
23 MB higher (the step's temporaries, kept for the next step). The peak is not higher.

``keep_freed_memory()`` sets glibc's thresholds where its own adaptation ends (mmap threshold
32 MB, trim threshold 64 MB) once, when the first big GEMM shows that real work has begun
(``threads.blas_matmul``): a script that only imports chainrule is not touched. It does
nothing where the allocator is not glibc, or where the process was started with malloc
settings of its own (``MALLOC_*_`` variables or ``GLIBC_TUNABLES``: the person running it
chose; bench/run.py measures peak memory that way, with the mmap threshold fixed), or with
``CHAINRULE_KEEP_FREED_MEMORY=0``.
"""

import os
import sys

__all__ = ["keep_freed_memory"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit systems
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD  # the ratio glibc's adaptation keeps
_state = {"done": False}


def _chosen_by_the_user():
    if os.environ.get("CHAINRULE_KEEP_FREED_MEMORY", "1") == "0":
        return True
    return "GLIBC_TUNABLES" in os.environ or any(
        name.startswith("MALLOC_") and name.endswith("_") for name in os.environ)


def keep_freed_memory():
    """Set glibc's mmap and trim thresholds (once; see the module's docstring). Returns True
    when they were set by this call."""
    if _state["done"]:
        return False
    _state["done"] = True
    if not sys.platform.startswith("linux") or _chosen_by_the_user():
        return False
    import ctypes  # (here, not at import: most processes never get this far)

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it (musl has mallopt too)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
