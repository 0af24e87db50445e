"""Native calls from compiled kernels: NumPy's own BLAS sgemm, a spin barrier, atomics.

A kernel that loops over time steps (the LSTM's recurrence) needs a GEMM per step; calling
back into Python for it costs a round trip per step, and numba reaches BLAS only through
SciPy. So the kernel calls the ``cblas_sgemm`` that NumPy itself links, at an address found
once here and passed in as an integer (an address baked into the code would stop numba from
caching it). ``sgemm_address()`` is 0 when no usable sgemm is found: callers then take the
NumPy path.

Threads that split one recurrence meet at a barrier every step; ``barrier`` spins on an
atomic counter (a step is ~0.1 ms, a sleep/wake handoff costs as much) and calls
``sched_yield`` after a while so that, on a machine busier than measured, a waiting thread
gives its core to the one it waits for. The idle kernel threads' short wait for the next task
(``handoff.serve``) spins with ``pause`` on these atomics too.
"""

import ctypes
import ctypes.util
import platform
import threading

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

from ._jit import jit

ROW_MAJOR, NO_TRANS, TRANS, PACKED = 101, 111, 112, 151  # CBLAS enums (PACKED: MKL's)
# NumPy's BLAS names its 64-bit-integer sgemm after its build (scipy-openblas wheels, OpenBLAS
# built with INTERFACE64 and a suffix, MKL); a 32-bit-integer cblas_sgemm is the last resort.
_SYMBOLS = (("scipy_cblas_sgemm64_", 64), ("cblas_sgemm64_", 64), ("cblas_sgemm_64", 64),
            ("cblas_sgemm", 32))
_found = {}
_answering = threading.Lock()


def _blas_libraries():
    import numpy  # noqa: F401  (threadpoolctl lists the BLAS of loaded libraries only)
    from threadpoolctl import threadpool_info

    return [info["filepath"] for info in threadpool_info() if info.get("user_api") == "blas"]


def _lookup():
    for path in _blas_libraries():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name, bits in _SYMBOLS:
            function = getattr(library, name, None)
            if function is not None:
                return ctypes.cast(function, ctypes.c_void_p).value, bits
    return 0, 0


def sgemm_address():
    """(address, integer bits) of NumPy's cblas sgemm, checked once against ``np.matmul`` on a
    small product; (0, 0) when none is found or the check fails."""
    if "sgemm" not in _found:
        address, bits = _lookup()
        _found["sgemm"] = (address, bits) if address and _agrees(address, bits) else (0, 0)
    return _found["sgemm"]


def kernel_sgemm_address():
    """(address, integer bits) of the sgemm for GEMMs that compiled code calls itself (the
    recurrences; the GEMM jobs of split products and the caller's blocks beside them,
    ``threads._gemm_elsewhere``): MKL's where the ``mkl`` wheel is installed on an Intel CPU
    and passes the same check (``_mkl``: 1.4-1.5x OpenBLAS's speed at a recurrence's per-step
    shapes, 1.12-1.31x at the Linear layers' of the gpt and mlp workloads), else
    ``sgemm_address()``. NOTE: the blocks of one split product all run on it, never some on
    ``np.matmul``: the threads keep the same pace and give the same bits."""
    if "kernel_sgemm" not in _found:
        from . import _mkl

        numpys = sgemm_address()  # (first: once MKL is loaded, threadpoolctl lists it too)
        address, bits = _mkl.sgemm()
        found = address != 0 and _agrees(address, bits)
        with _answering:  # (the kernel threads ask too: one that finishes this look-up late
            # must not replace what another thread, or a test, has set meanwhile)
            if "kernel_sgemm" not in _found:
                _found["kernel_sgemm"] = (address, bits) if found else numpys
                _found["mkl"] = (address, bits) if found else None
    return _found["kernel_sgemm"]


def kernel_sgemm_name():
    """Which sgemm ``kernel_sgemm_address`` gives: "MKL <version>" or "NumPy's BLAS" (for
    reports such as bench/run.py's, whose ratios depend on it)."""
    if kernel_sgemm_address() == _found.get("mkl"):
        from importlib import metadata

        return f"MKL {metadata.version('mkl')}"
    return "NumPy's BLAS"


NOT_PACKED = (0, np.empty(0, np.float32))  # (sgemm_by: plain sgemm calls)


def packed_operand(b, rows, transposed=False):
    """``b`` (float32, k x n, C order; ``transposed``: n x k, its transpose the operand)
    packed once as the B operand of the products of ``rows`` rows that a kernel takes by it
    through ``sgemm_by``, where the kernels' sgemm is MKL's (``kernel_sgemm_address``;
    ``_mkl.pack``); else ``(0, an empty array)``: plain sgemm calls."""
    if kernel_sgemm_address() != _found.get("mkl"):  # (MKL not here, or set aside)
        return NOT_PACKED
    from . import _mkl

    return _mkl.pack(b, rows, transposed)


def _agrees(address, bits):
    """Whether the sgemm at ``address`` gives ``np.matmul``'s product on a small case."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 5), dtype=np.float32)
    c = np.zeros((3, 3), np.float32)
    _check(address, bits, a, b, c)
    return np.allclose(c, a @ b.T, rtol=1e-5, atol=1e-5)


def yield_address():
    """The address of libc's ``sched_yield`` (0 where there is none: waiters only spin)."""
    if "yield" not in _found:
        function = getattr(ctypes.CDLL(ctypes.util.find_library("c") or None), "sched_yield",
                           None)
        _found["yield"] = ctypes.cast(function, ctypes.c_void_p).value if function else 0
    return _found["yield"]


def _cblas_sgemm(bits, alpha=True):
    """A call of a cblas sgemm at an address, with ``bits``-bit integers; ``alpha=False``: of
    MKL's ``cblas_sgemm_compute``, which takes no alpha (its packed operand holds it)."""
    @intrinsic
    def call(typingctx, address, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc):
        signature = types.void(types.int64, types.int32, types.int32, types.int64, types.int64,
                               types.int64, types.int64, types.int64, types.int64, types.int64,
                               types.float32, types.int64, types.int64)

        def codegen(context, builder, sig, args):
            address, transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc = args
            i32, f32 = ir.IntType(32), ir.FloatType()
            size, pointer = ir.IntType(bits), ir.PointerType(f32)
            scale = [f32] if alpha else []
            function = ir.FunctionType(ir.VoidType(), [i32, i32, i32, size, size, size, *scale,
                                                       pointer, size, pointer, size, f32,
                                                       pointer, size])
            cast = (lambda v: builder.trunc(v, size)) if bits == 32 else (lambda v: v)
            one = [ir.Constant(f32, 1.0)] if alpha else []
            builder.call(builder.inttoptr(address, ir.PointerType(function)), [
                ir.Constant(i32, ROW_MAJOR), transa, transb, cast(m), cast(n), cast(k), *one,
                builder.inttoptr(a, pointer), cast(lda), builder.inttoptr(b, pointer),
                cast(ldb), beta, builder.inttoptr(c, pointer), cast(ldc)])
            return context.get_dummy_value()

        return signature, codegen

    return call


_sgemm64, _sgemm32 = _cblas_sgemm(64), _cblas_sgemm(32)
_compute64 = _cblas_sgemm(64, alpha=False)


@jit(inline="always")
def gemm(blas, trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """C = op(A) op(B) + beta C (row-major float32, C m x n; A, B, C given by address) through
    ``blas = (address, bits)`` from ``sgemm_address``."""
    transa = numba.int32(TRANS if trans_a else NO_TRANS)
    transb = numba.int32(TRANS if trans_b else NO_TRANS)
    if blas[1] == 64:
        _sgemm64(blas[0], transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc)
    else:
        _sgemm32(blas[0], transa, transb, m, n, k, a, lda, b, ldb, beta, c, ldc)


@jit(inline="always")
def sgemm(blas, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """``gemm`` with A not transposed."""
    gemm(blas, False, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc)


@jit(inline="always")
def sgemm_by(blas, packed, m, n, k, a, lda, b, ldb, beta, c, ldc):
    """``sgemm`` of A (m x k) by B (k x n, not transposed), or when ``packed = (compute
    address, packed B)`` has a nonzero address (``packed_operand``), by that copy of B packed
    once by MKL (``b`` and ``ldb`` are then unused)."""
    if packed[0] != 0:
        _compute64(packed[0], numba.int32(NO_TRANS), numba.int32(PACKED), m, n, k, a, lda,
                   numba.int64(packed[1].ctypes.data), n, beta, c, ldc)
    else:
        sgemm(blas, False, m, n, k, a, lda, b, ldb, beta, c, ldc)


@jit
def _check(address, bits, a, b, c):
    sgemm((address, bits), True, 3, 3, 5, a.ctypes.data, 5, b.ctypes.data, 5,
          np.float32(0.0), c.ctypes.data, 3)


@intrinsic
def atomic_add(typingctx, counter, value):
    """counter[0] += value atomically (sequentially consistent); returns the new value."""
    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        old = builder.atomic_rmw("add", array.data, args[1], "seq_cst")
        return builder.add(old, args[1])

    return types.int64(types.Array(types.int64, 1, "C"), types.int64), codegen


@intrinsic
def atomic_load(typingctx, array, index):
    """array[index], read atomically (acquire): another thread's writes before it are seen."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.load_atomic(builder.gep(data, [args[1]]), "acquire", 8)

    return types.int64(types.Array(types.int64, 1, "C"), types.int64), codegen


@intrinsic
def atomic_store(typingctx, array, index, value):
    """array[index] = value, atomically (sequentially consistent: the writes before it are
    seen by whoever sees it, and a read after it is not moved before it)."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        builder.store_atomic(args[2], builder.gep(data, [args[1]]), "seq_cst", 8)
        return context.get_dummy_value()

    return types.void(types.Array(types.int64, 1, "C"), types.int64, types.int64), codegen


@intrinsic
def compare_swap(typingctx, array, index, expected, new):
    """array[index] = new if it holds ``expected``, atomically; True when it did."""
    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        pair = builder.cmpxchg(builder.gep(data, [args[1]]), args[2], args[3], "seq_cst",
                               "seq_cst")
        return builder.extract_value(pair, 1)

    return types.boolean(types.Array(types.int64, 1, "C"), types.int64, types.int64,
                         types.int64), codegen


@jit(inline="always")
def atomic_read(counter):
    """counter[0], read atomically (acquire)."""
    return atomic_load(counter, 0)


@intrinsic
def call_void(typingctx, address):
    def codegen(context, builder, signature, args):
        function = ir.FunctionType(ir.IntType(32), [])
        builder.call(builder.inttoptr(args[0], ir.PointerType(function)), [])
        return context.get_dummy_value()

    return types.void(types.int64), codegen


@intrinsic
def call_range(typingctx, address, start, stop, part, args):
    """Call the compiled range job at ``address`` (``_jit.range_job``):
    ``job(start, stop, part, args)``, four int64s."""
    def codegen(context, builder, signature, values):
        i64 = ir.IntType(64)
        function = ir.FunctionType(ir.VoidType(), [i64, i64, i64, i64])
        builder.call(builder.inttoptr(values[0], ir.PointerType(function)), list(values[1:]))
        return context.get_dummy_value()

    return types.void(types.int64, types.int64, types.int64, types.int64, types.int64), codegen


@jit(inline="always")
def claim(counter):
    """The next index of a count that threads share (``counter[0]``, then one more: atomic),
    for threads that take chunks of work from one list until it runs out."""
    return atomic_add(counter, 1) - 1


@jit(inline="always")
def wait_until(counter, target, yield_to):
    """Wait until ``counter[0]`` reaches ``target`` (spinning, then yielding the core); what
    the thread that raised it wrote before is then visible here."""
    spins = 0
    while atomic_read(counter) < target:
        spins += 1
        if spins > 2000 and yield_to != 0:
            call_void(yield_to)


@jit(inline="always")
def barrier(counter, share, target, yield_to):
    """Add ``share`` to ``counter[0]`` and wait until it reaches ``target``: every thread adds
    its share of the work once per round, so round r is complete at r times the whole."""
    if atomic_add(counter, share) < target:
        wait_until(counter, target, yield_to)


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def pause(typingctx):
    """x86's spin-wait hint (``pause``): the spinning core draws less power and leaves the
    loop without a pipeline flush when the value changes. Nothing on other CPUs."""
    def codegen(context, builder, signature, args):
        if _X86:
            hint = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(hint, [])
        return context.get_dummy_value()

    return types.void(), codegen
