"""The one way kernels are compiled, and the float32 math they share.

``jit`` compiles with numba: no Python objects, the GIL released (the thread pool runs chunks
side by side), IEEE arithmetic as written (elementwise loops vectorise without fast-math, and
the exact splittings below rely on it), and the machine code cached on disk. ``jit_reduction``
adds reassociation, which sums and maxima need to vectorise. Where no cache folder is writable
(a read-only install and no home), kernels still compile, each run anew.

numba's ``math.exp`` is a scalar libm call (measured: 3.7 ms per million float32 values, where
NumPy's SIMD exp takes 0.4 ms), which also stops the loop from vectorising; ``exp32`` below is
Cephes' expf written with operations LLVM vectorises (a polynomial and an exponent built in the
float's bits), about 1 ulp from the true value.

Every loop kernel begins with ``wide_vectors()``: LLVM's tuning for Intel's AVX-512 chips
(Skylake-X to Sapphire Rapids) prefers 256-bit vectors, so numba's loops used ymm registers
where PyTorch's kernels use zmm; see ``wide_vectors``.
"""

import hashlib
import os
import warnings
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

_OPTIONS = {"nogil": True, "error_model": "numpy"}


def jit(function=None, fastmath=False, inline="never"):
    """``function`` compiled by numba (lazily, at its first call), cached on disk if possible.
    ``inline="always"`` is for helpers too big for LLVM to inline on its own: a call left in
    a loop keeps it from vectorising (measured: GELU 28 ms per million values, 1.5 inlined)."""
    if function is None:
        return lambda f: jit(f, fastmath, inline)
    options = dict(_OPTIONS, fastmath=fastmath, inline=inline)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        try:
            return _keyed_by_sources(numba.njit(cache=True, **options)(function))
        except RuntimeError:  # no writable cache location: compile on every run instead
            return numba.njit(cache=False, **options)(function)


_sources = {}


def _sources_fingerprint():
    """A hash of every module of this package, read once per process."""
    if "hash" not in _sources:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        _sources["hash"] = digest.hexdigest()
    return _sources["hash"]


def _keyed_by_sources(dispatcher):
    """``dispatcher`` whose disk-cache entries are also keyed by ``_sources_fingerprint``.
    NOTE: numba keys a cached kernel by its own file's time stamp and its own bytecode only,
    so a change to a helper it inlines from another module (``row_max`` here, the BLAS calls
    of ``_native``) left the old machine code in use until the kernel's own file changed.
    Through numba's cache object, which is not public API: where it is not as expected, the
    dispatcher is returned as it is."""
    cache = getattr(dispatcher, "_cache", None)
    index_key = getattr(cache, "_index_key", None)
    if index_key is None:
        return dispatcher
    fingerprint = _sources_fingerprint()
    cache._index_key = lambda sig, codegen: (index_key(sig, codegen), fingerprint)
    return dispatcher


def jit_reduction(function=None, fused=False):
    """``jit`` for kernels that sum or take maxima: reassociation lets those loops vectorise
    (the order of a float sum changes in the last bits, as it does between BLAS builds).
    ``fused=True`` also contracts multiply-adds into FMAs: exp32's polynomial and range
    reduction in half the instructions (measured, one thread: cross-entropy 2048 x 1000
    forward 3.1 -> 2.4 ms, backward 3.1 -> 2.0 ms; softmax 8192 x 64 forward 0.8 -> 0.62 ms)."""
    flags = {"reassoc", "nsz", "contract"} if fused else {"reassoc", "nsz"}
    if function is None:
        return lambda f: jit(f, fastmath=flags)
    return jit(function, fastmath=flags)


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorise the calling kernel with 512-bit registers where the CPU has them
    (``"prefer-vector-width"="512"`` on the function: only a preference, so a CPU without
    AVX-512 keeps its 256- or 128-bit vectors, and other targets ignore it). NOTE: per
    function, not numba's process-wide target features, which would change every numba user's
    code. Measured on Sapphire Rapids, one thread, a million float32: GELU forward 0.94 ->
    0.67 ms, backward 0.99 -> 0.70 ms, the values bit for bit the same."""
    def codegen(context, builder, signature, args):
        # (set.add: llvmlite's attribute set accepts only its list of keyword attributes)
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.void(), codegen


_LOG2E = 1.44269504088896341
_LN2_HIGH, _LN2_LOW = 0.693359375, -2.12194440e-4  # ln 2 = high + low, high exact in 9 bits
_EXP_P = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
          5.0000001201e-1)


@intrinsic
def times_power_of_two(typingctx, p, k):
    """p 2^k for float32 p and an integer-valued float32 k in [-252, 254], as p 2^(k//2)
    2^(k - k//2), each factor built in a float's exponent bits, so that results down in the
    denormals come out as the product rounds them. In int32 throughout: numba widens int32
    arithmetic to int64, and AVX2 has no packed int64 -> float conversion, which left exp32's
    loops converting one lane at a time (measured: GELU 4.4 -> 3.0 ms per million values)."""
    def codegen(context, builder, signature, args):
        value, exponent = args
        i32 = ir.IntType(32)
        k = builder.fptosi(exponent, i32)
        half = builder.ashr(k, ir.Constant(i32, 1))
        factors = []
        for part in (half, builder.sub(k, half)):
            bits = builder.shl(builder.add(part, ir.Constant(i32, 127)), ir.Constant(i32, 23))
            factors.append(builder.bitcast(bits, ir.FloatType()))
        return builder.fmul(builder.fmul(value, factors[0]), factors[1])

    return types.float32(types.float32, types.float32), codegen


@jit(inline="always")
def exp32_parts(x):
    """e^x = p 2^k for float32 x in [-104, 88.75] (Cephes expf): x = k ln2 + r, |r| <= ln2/2,
    p = e^r by a degree-7 polynomial; returns (p, k), k an integer-valued float32. A caller
    that scales p before ``times_power_of_two(p, k)`` rounds only once into the denormals."""
    # k = floor(x log2e + 1/2), by a truncating int32 conversion of a positive number (a packed
    # instruction) and back; float32 arithmetic from there
    k = numba.float32(numba.int32(x * numba.float32(_LOG2E) + numba.float32(256.5)))
    k = k - numba.float32(256.0)
    r = x - k * numba.float32(_LN2_HIGH) - k * numba.float32(_LN2_LOW)
    # the polynomial by Estrin's scheme: three independent pairs, then two steps in r^2 (a
    # chain half as long as Horner's, so more loop iterations overlap: measured 10% faster)
    r2 = r * r
    f = numba.float32
    p = (((f(_EXP_P[0]) * r + f(_EXP_P[1])) * r2 + (f(_EXP_P[2]) * r + f(_EXP_P[3]))) * r2
         + (f(_EXP_P[4]) * r + f(_EXP_P[5])))
    return p * r2 + r + numba.float32(1.0), k


@jit(inline="always")
def exp32(x):
    """e^x for float32 x, about 1 ulp from the true value: results down in the denormals come
    out as the product rounds them (e^x < 2^-149 gives 0), and those above FLT_MAX as inf;
    NaN stays NaN."""
    # clamped where e^x is 0 or inf in float32 either way: the product rounds to those (the
    # bound was 88.3, which gave e^88.3 for every x up to 88.72, 0.25 off at worst)
    p, k = exp32_parts(min(max(x, numba.float32(-104.0)), numba.float32(88.75)))
    result = times_power_of_two(p, k)
    return result if x == x else x  # selects, not branches: the loop vectorises


@jit(inline="always")
def sigmoid32(x):
    """1 / (1 + e^-x) for float32 x (no overflow: exp32 clamps)."""
    return numba.float32(1.0) / (numba.float32(1.0) + exp32(-x))


_TANH_P = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
           -3.33332819422e-1)


@jit(inline="always")
def tanh32(x):
    """tanh(x) for float32 x (Cephes tanhf): an odd polynomial for |x| < 0.625, where
    1 - 2 / (e^2x + 1) would cancel, that formula beyond; both computed, one chosen, so the
    loop stays branch-free."""
    a = abs(x)
    z = x * x
    p = numba.float32(_TANH_P[0])
    for c in _TANH_P[1:]:
        p = p * z + numba.float32(c)
    small = x + x * z * p
    large = numba.float32(1.0) - numba.float32(2.0) / (exp32(a + a) + numba.float32(1.0))
    large = large if x >= 0 else -large
    return small if a < numba.float32(0.625) else large


_LANES = 16  # float32 values in one 512-bit vector


@intrinsic
def row_max(typingctx, row):
    """The largest value of a contiguous 1-D float32 array (-inf if it is empty), in 16-lane
    vectors written out in LLVM IR, the last one overlapping the one before it where the size
    is not a multiple of 16 (a maximum may see a value twice), so no scalar tail is left. A NaN
    may be passed over; callers feed every value through exp32 or a sum afterwards, where it
    comes back. NOTE: as IR because LLVM vectorises neither a running maximum nor eight of
    them side by side: the loop of eight ran as scalar vmaxss (8192 rows of 64, one thread:
    0.115 ms alone, 0.035 now; softmax's forward, bound by memory there, moved within noise)."""
    if not (isinstance(row, types.Array) and row.ndim == 1 and row.layout == "C"
            and row.dtype == types.float32):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        return _emit_row_max(builder, array.data, builder.extract_value(array.shape, 0))

    return types.float32(row), codegen


def _larger(builder, a, b):
    """b where b > a, else a (a NaN in b is passed over): one vmaxps."""
    return builder.select(builder.fcmp_ordered(">", b, a), b, a)


def _emit_row_max(builder, data, size):
    f32, i64 = ir.FloatType(), ir.IntType(64)
    vector = ir.VectorType(f32, _LANES)
    lanes = ir.Constant(i64, _LANES)
    result = cgutils.alloca_once_value(builder, ir.Constant(f32, float("-inf")))

    def load_vector(index):
        pointer = builder.bitcast(builder.gep(data, [index]), vector.as_pointer())
        return builder.load(pointer, align=4)

    with builder.if_else(builder.icmp_signed(">=", size, lanes)) as (wide, narrow):
        with wide:
            best = cgutils.alloca_once_value(builder, load_vector(ir.Constant(i64, 0)))
            last = builder.sub(size, lanes)
            with cgutils.for_range_slice(builder, lanes, last, lanes) as (index, _):
                builder.store(_larger(builder, builder.load(best), load_vector(index)), best)
            value = _larger(builder, builder.load(best), load_vector(last))
            width = _LANES
            while width > 1:  # halves folded onto each other: 16 -> 8 -> 4 -> 2 -> 1
                width //= 2
                low, high = (builder.shuffle_vector(value, value, ir.Constant(
                    ir.VectorType(ir.IntType(32), width), list(range(start, start + width))))
                    for start in (0, width))
                value = _larger(builder, low, high)
            builder.store(builder.extract_element(value, ir.Constant(i64, 0)), result)
        with narrow:
            with cgutils.for_range(builder, size) as loop:
                element = builder.load(builder.gep(data, [loop.index]))
                builder.store(_larger(builder, builder.load(result), element), result)
    return builder.load(result)


@intrinsic
def fma32(typingctx, a, b, c):
    """a * b + c for float32 with one rounding (a fused multiply-add; vectorises), so that
    fma32(a, a, -(a * a)) is exactly the rounding error of a * a."""
    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float32(types.float32, types.float32, types.float32), codegen


def side_by_side(function):
    """``function`` compiled as ``jit`` does, with numba's parallel loops on: a range kernel's
    twin, ``twin(bounds, *args)``, whose ``numba.prange`` over the parts runs
    ``kernel(bounds[p], bounds[p + 1], p, *args)`` for every part p at once, one part per
    thread of numba's threading layer, the GIL released throughout
    (``threads.compiled_ranges`` calls it). A twin is a module-level function, not one closure
    made per kernel: numba's disk cache keys a closure by what it holds, which changes from
    one process to the next, so every process compiled the twins again (0.6 s each).
    NOTE: rather than the kernel pool's Python threads for ranges this short: a range handed
    to a pool thread takes the GIL at its start and end, and a thread that waits for the GIL
    sleeps, which on this VM cost 30-50 us before the range started and 40-80 us before the
    caller saw it end (softmax, 8192 x 64, one thread 0.32 ms forward, 0.22 backward; split
    over the pool 0.30 and 0.21; side by side 0.16 and 0.10; an empty region 1.6 us)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        try:
            return _keyed_by_sources(numba.njit(parallel=True, cache=True, **_OPTIONS)(function))
        except RuntimeError:  # no writable cache location, as in ``jit``
            return numba.njit(parallel=True, cache=False, **_OPTIONS)(function)


_RANGE_JOB = types.void(types.int64, types.int64, types.int64, types.int64)


class RangeJob:
    """A range kernel's form for the kernel threads' board (``handoff.post_call``):
    ``function(start, stop, part, args)`` compiled as a C function (numba's ``cfunc``) at its
    first use, where ``args`` is the address of an int64 block (``job_arguments``) from which
    it rebuilds the kernel's arrays (``float32_array``). NOTE: a thread spinning for GEMM jobs
    (``handoff.serve``, no GIL) can call it by address; handed to the pool as a Python task
    instead, a range took the GIL where it started and where it ended (the gpt step's GELU
    backward split so: 0.83 ms, against 1.16 on one thread)."""

    def __init__(self, function):
        self.function = function
        self._compiled = None

    @property
    def address(self):
        if self._compiled is None:
            self._compiled = _compile_job(self.function)
        return self._compiled.address


def _compile_job(function):
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        # (numba's ``cfunc`` decorator, but compiled here, after the cache key is set)
        job = CFunc(function, sigutils.normalize_signature(_RANGE_JOB), locals={},
                    options={"error_model": "numpy"})
        try:
            job.enable_caching()
        except RuntimeError:  # no writable cache location, as in ``jit``
            pass
        else:
            _keyed_by_sources(job)
        job.compile()
    return job


def range_job(function):
    """``RangeJob(function)``, as a decorator."""
    return RangeJob(function)


@intrinsic
def _int64_pointer(typingctx, address):
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return types.CPointer(types.int64)(types.int64), codegen


@intrinsic
def float32_pointer(typingctx, address):
    """The float32 pointer at an integer address."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return types.CPointer(types.float32)(types.int64), codegen


@jit(inline="always")
def job_arguments(args, count):
    """A range job's int64 argument block of ``count`` values at address ``args``."""
    return numba.carray(_int64_pointer(args), (count,))


@jit(inline="always")
def float32_array(address, shape):
    """The C-contiguous float32 array of ``shape`` at ``address`` (a view, no copy)."""
    return numba.carray(float32_pointer(address), shape)


GOMP_SPIN_ROUNDS = 10_000


@side_by_side
def _mark(flags):
    for part in numba.prange(flags.size):
        flags[part] = 1


def threading_layer_is_safe():
    """True when numba's threading layer lets several threads run parallel regions at once
    (OpenMP, TBB); False for its last resort, the workqueue layer, which ends the process when
    two threads enter it together (the kernel pool's threads and a user's threads may)."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # none loaded until a parallel region runs: run an empty one
        if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
            # NOTE: GNU OpenMP's idle threads spin 300,000 rounds (6.5 ms here) before they
            # sleep; the kernel pool's spin for 2 ms, and on two cores the two kinds spinning
            # at once left three busy threads for two cores. 10,000 rounds (0.3 ms) still
            # bridge the gap between a forward and its backward. Read when GNU OpenMP loads,
            # which is now (unless another library loaded it before: then it keeps its own).
            os.environ["GOMP_SPINCOUNT"] = str(GOMP_SPIN_ROUNDS)
        _mark(np.zeros(2, np.int64))
        layer = numba.threading_layer()
    return layer in ("omp", "tbb")
