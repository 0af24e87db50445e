"""MKL's sgemm for the GEMMs that compiled code calls itself (the recurrences; the ops' big
products, ``threads._gemm_elsewhere``), where the optional ``mkl`` wheel is installed
(``chainrule[fast]`` on x86-64 Linux) and the CPU is Intel's.

NOTE: why a second BLAS beside NumPy's: a recurrence runs one small product per step (batch
rows: 32 x 256 by 256 x 1024 forward, 32 x 1024 by 1024 x 256 back), and there OpenBLAS, which
NumPy's wheels link, packs the whole weight matrix again on every call and reaches ~110
GFLOP/s on one core of the Xeon (Sapphire Rapids), where MKL reaches 155-175: measured, one
thread, real-time priority, best of 7 x 300 calls: 146 -> 104 us forward, 152 -> 108 us back,
73 -> 49 us for a half of the forward product (two threads split the units). PyTorch's CPU
build links MKL, so that is the gap the LSTM step had to it. MKL runs on its sequential layer:
chainrule's threads split the work themselves (``threads``), as with OpenBLAS on one thread.
Intel's CPUs only: the gain is measured there, and MKL is not tuned for other vendors' CPUs.
``CHAINRULE_MKL=0`` keeps NumPy's BLAS everywhere.
"""

import ctypes
import os
from importlib import metadata

import numpy as np

_SEQUENTIAL = 1  # MKL_THREADING_SEQUENTIAL
_SYMBOL = "cblas_sgemm_64"  # the 64-bit-integer CBLAS sgemm (MKL 2023 on)
_ROW_MAJOR, _NO_TRANS, _TRANS, _B_MATRIX = 101, 111, 112, 162  # CBLAS enums (the last: MKL's)
_ALIGN = 64  # bytes: a packed operand starts on a cache line
_library = {}


def _intel_cpu():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip() == "GenuineIntel"
    except OSError:
        pass
    return False


def library_path():
    """The path of the installed ``mkl`` wheel's ``libmkl_rt``, or None."""
    try:
        files = metadata.distribution("mkl").files or ()
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith("libmkl_rt.so"):
            path = str(file.locate())
            if os.path.exists(path):
                return path
    return None


def sgemm():
    """(address, integer bits) of MKL's cblas sgemm on its sequential layer, or (0, 0) where
    it is not installed, not wanted (``CHAINRULE_MKL=0``), not on an Intel CPU, or already
    loaded in this process on a threaded layer (its threads would run beside ours)."""
    if os.environ.get("CHAINRULE_MKL", "1") == "0" or not _intel_cpu():
        return 0, 0
    path = library_path()
    if path is None:
        return 0, 0
    try:
        library = ctypes.CDLL(path)
    except OSError:
        return 0, 0
    layer = getattr(library, "MKL_Set_Threading_Layer", None)
    function = getattr(library, _SYMBOL, None)
    # (setting the layer before MKL's first call takes; after it, it returns the layer in use)
    if layer is None or function is None or layer(_SEQUENTIAL) != _SEQUENTIAL:
        return 0, 0
    _library["rt"] = library
    return ctypes.cast(function, ctypes.c_void_p).value, 64


def pack(b, rows, transposed=False):
    """(address of ``cblas_sgemm_compute_64``, float32 ``b`` (k x n, C order; ``transposed``:
    n x k, and b^T is the operand) packed by MKL as the B operand of products of ``rows``
    rows by it), for ``_native.sgemm_by``; call only once ``sgemm()`` has loaded MKL.
    NOTE: a recurrence multiplies by the same W_hh every step, and a plain sgemm packs it
    again each time: measured (one thread), 32 x 1024 by 1024 x 256 (BPTT) 108 us a product
    against 95 packed once, 32 x 256 by 256 x 1024 (forward) 104 against 90."""
    library = _library["rt"]
    if "pack" not in _library:
        size_of, packer = library.cblas_sgemm_pack_get_size_64, library.cblas_sgemm_pack_64
        size_of.restype, size_of.argtypes = ctypes.c_size_t, [ctypes.c_int] + [ctypes.c_int64] * 3
        packer.restype = None
        packer.argtypes = [ctypes.c_int] * 3 + [ctypes.c_int64] * 3 + [
            ctypes.c_float, ctypes.c_void_p, ctypes.c_int64, ctypes.c_void_p]
        compute = ctypes.cast(library.cblas_sgemm_compute_64, ctypes.c_void_p).value
        _library["pack"] = size_of, packer, compute
    size_of, packer, compute = _library["pack"]
    (n, k), trans = (b.shape, _TRANS) if transposed else (b.shape[::-1], _NO_TRANS)
    room = np.empty(size_of(_B_MATRIX, rows, n, k) + _ALIGN, np.uint8)
    start = -room.ctypes.data % _ALIGN
    packed = room[start:start + room.size - _ALIGN].view(np.float32)
    packer(_ROW_MAJOR, _B_MATRIX, trans, rows, n, k, 1.0, b.ctypes.data, b.shape[1],
           packed.ctypes.data)
    return compute, packed
