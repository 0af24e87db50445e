"""The thread policy: small work on one thread, big work on the cores that are free.

Measured on a 2-core machine with one other busy process: the README's demo fell from 8,300
samples/s with one BLAS thread to 700 with two, because every small GEMM waited for its second
thread to be scheduled. So the number of threads is decided per call, from two things:

- the size of the work: below ``GEMM_PARALLEL_MACS`` multiply-adds a GEMM runs on one thread
  (and a kernel below ``KERNEL_PARALLEL_SIZE`` elements), since a thread handoff costs tens of
  microseconds on a quiet machine and milliseconds on a busy one;
- how many cores are free: the CPU time that other processes used over the last half second
  (``/proc/stat`` less this process's own time; a core they used a third of is not free), so a
  machine that is busy elsewhere gets one thread, and a quiet one all of them.

``set_num_threads(n)`` (PyTorch's name) caps both. BLAS threads are set through threadpoolctl,
the well-kept way to reach OpenBLAS/MKL/BLIS at run time; kernel chunks run on a small pool of
Python threads (the kernels release the GIL; ``workers.py``).
"""

import importlib
import math
import os
import threading
import time

import numpy as np

from .heap import _state as _heap_state
from .heap import keep_freed_memory

__all__ = ["set_num_threads", "get_num_threads", "free_cores", "gemm", "blas_matmul",
           "blas_matmul_pair",
           "parallel_ranges", "range_bounds", "run_ranges", "parallel_gemms",
           "parallel_claims", "compiled_ranges"]

GEMM_PARALLEL_MACS = 1 << 22  # ~4M multiply-adds: ~0.1 ms on one core
# Elements: 0.2-0.7 ms of a fused pass. NOTE: handing a range to the pool costs 50-100 us (a
# sleeping thread woken on an idle virtual core); measured at real-time priority, 2048 x 128
# (262,144 elements, the gpt workload's layer norms): forward 0.11 ms on one thread, 0.17 split,
# backward 0.15 against 0.42, where the 1M-element GELU runs 1.4 -> 0.85 ms split.
KERNEL_PARALLEL_SIZE = 1 << 19
# NOTE: the inner-dimension split holds a second output-sized partial while it runs, at the
# point of the backward where a step's memory peaks (its weight gradients): unbounded, it put the
# gpt step's peak 0.2-0.3 MB above PyTorch's (35.97-35.99 MB against 35.72-35.78; 35.66-35.84
# without it). Bounded here, what it adds stays within the peak's run-to-run spread.
SPLIT_SUM_BYTES = 64 << 10
_SAMPLE_SECONDS = 0.5
# A core counts as free while other processes use less than this share of it. NOTE: not half
# (rounding): a process that wants a whole core gets half of it while one of our threads runs
# there too, so rounding would count that core free for as long as we kept using it, our
# second thread waiting on it every time (a decision that sustains itself).
_FREE_SHARE = 0.35
_MIN_INTERVAL = 0.1  # seconds: /proc/stat counts in 10 ms ticks, too coarse for less
_POOL_PREFIX = "chainrule-kernel"


def _cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _env_cap():
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        value = os.environ.get(name, "").split(",")[0].strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


_CORES = _cpu_count()
_state = {"cap": _env_cap() or _CORES, "blas": None, "blas_threads": None, "pool": None,
          "side_by_side": None}
_sample = {"at": None, "busy": None, "own": 0.0, "free": None, "hold": _SAMPLE_SECONDS}
_lock = threading.Lock()
_modules = {}  # (kernels' modules imported at first use: lazy_module)


def set_num_threads(n):
    """The most threads chainrule uses (BLAS and kernels), as ``torch.set_num_threads``."""
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _state["cap"] = n


def get_num_threads():
    """The most threads chainrule uses (``set_num_threads``; by default the usable cores)."""
    return _state["cap"]


def _busy_seconds():
    """CPU-seconds that all processes have used since boot (``/proc/stat``), or None."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()[1:9]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    busy = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds():
    times = os.times()
    return times.user + times.system


def _runnable_elsewhere():
    """Threads of other processes runnable right now (``/proc/loadavg``'s running count, less
    this thread, which is running as it reads), or None where there is no such file."""
    try:
        with open("/proc/loadavg") as loadavg:
            running = loadavg.read().split()[3].split("/")[0]
    except (OSError, IndexError):
        return None
    return max(int(running) - 1, 0)


def _take_sample():
    _sample.update(at=time.monotonic(), busy=_busy_seconds(), own=_own_seconds(), free=None,
                   hold=_SAMPLE_SECONDS)


_take_sample()  # (the first interval starts at import: about 50 us)


def free_cores():
    """About how many cores no other process is using (1 to the usable cores), re-measured at
    most every half second: the CPU time others used since the last measurement (the first
    one is taken at import). An interval too short to tell (``_MIN_INTERVAL``) counts the
    threads runnable elsewhere at this instant instead, an answer kept only until the
    interval is long enough to measure.
    NOTE: not the load average: it trails by a minute, so a process started right after
    another one had both cores busy (a benchmark's previous run) counted one free core and ran
    its whole first half-second single-threaded.
    NOTE: the instant's count is a guess, not a measurement: a process's first large product
    comes within 0.1 s of import, and at that instant /proc/loadavg counted 1-4 threads
    running elsewhere in half of the processes started on a quiet 2-core machine (kernel
    threads among them); kept for half a second, as a measurement is, it ran the whole of a
    benchmark's mlp measurement on one thread (4.3 ms a step against 2.9)."""
    now = time.monotonic()
    last = _sample["at"]
    if _sample["free"] is not None and now - last < _sample["hold"]:
        return _sample["free"]
    busy, own = _busy_seconds(), _own_seconds()
    if busy is None or _sample["busy"] is None:  # not Linux: trust the load average alone
        others = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    elif now - last < _MIN_INTERVAL:
        with _lock:  # (the interval goes on from the last sample: measured once long enough)
            _sample.update(free=_free_besides(_runnable_elsewhere() or 0), hold=_MIN_INTERVAL)
        return _sample["free"]
    else:
        others = (busy - _sample["busy"] - (own - _sample["own"])) / (now - last)
    with _lock:
        _sample.update(at=now, busy=busy, own=own, free=_free_besides(others),
                       hold=_SAMPLE_SECONDS)
    return _sample["free"]


def _free_besides(others):
    """The cores free while other processes use ``others`` cores' worth (1 at least)."""
    return int(min(max(math.floor(_CORES - others + _FREE_SHARE), 1), _CORES))


def threads_for(work, parallel_from):
    """How many threads ``work`` units should use: one below ``parallel_from``, else the free
    cores (at most ``set_num_threads``)."""
    if work < parallel_from or _state["cap"] == 1:
        return 1
    return min(free_cores(), _state["cap"])


# -- BLAS ------------------------------------------------------------------------------------------
def _blas_controller():
    if _state["blas"] is None:
        try:  # (threadpoolctl finds the BLAS among the loaded libraries: NumPy's is loaded)
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _state["blas"] = ()
        else:
            _state["blas"] = tuple(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _state["blas"]


def _set_blas_threads(threads):
    if threads != _state["blas_threads"]:
        for library in _blas_controller():
            library.set_num_threads(threads)
        _state["blas_threads"] = threads


def gemm(macs):
    """Set the BLAS thread count for a GEMM of ``macs`` multiply-adds (m * n * k); call it just
    before the product. A no-op when the count is already right (one comparison)."""
    _set_blas_threads(threads_for(macs, GEMM_PARALLEL_MACS))


_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)


def blas_matmul(a, b, out=None, bias=None):
    """``np.matmul(a, b)`` (into ``out`` if given) with the BLAS thread count set for its size
    first: every GEMM of the ops goes through here. A big product of two matrices is split
    into one block of rows (or columns) per free core, on the kernel pool with BLAS on one
    thread (``_split_matmul``). ``bias`` (a vector of the product's last dim, its dtype) is
    added to every row, block by block when split."""
    # NOTE: a.size * b.size bounds the multiply-adds from above; a product that small, BLAS
    # already on one thread and no bfloat16 is the common case of small networks, decided in
    # one line: the whole check took as long as a 16x16 product (measured in the tiny
    # workload's step: 7 us of 110 for its eight products, with the check below)
    shape_a, shape_b = a.shape, b.shape
    if (len(shape_a) == 2 == len(shape_b) and out is None and shape_a[0] > 1 < shape_b[1]
            and shape_a[0] * shape_a[1] * shape_b[0] * shape_b[1] < GEMM_PARALLEL_MACS
            and _state["blas_threads"] == 1):
        # NOTE: the small float GEMM below (ndarray.dot), decided from two shape tuples and two
        # dtypes: each array attribute read is a few hundred instructions (Python 3.11 does
        # not specialise them), nine of them were a fifth of a 16x16 product's cost
        dtype = a.dtype
        if dtype is b.dtype and (dtype is _FLOAT32 or dtype is _FLOAT64):
            out = a.dot(b)
            if bias is not None:
                out += bias
            return out
    if a.size * b.size < GEMM_PARALLEL_MACS and _state["blas_threads"] == 1:
        dtype = a.dtype
        if (dtype is b.dtype and dtype.char in "fd" and out is None and a.ndim == 2 == b.ndim
                and a.shape[0] > 1 < b.shape[1]):
            # NOTE: for two float matrices ndarray.dot calls the same BLAS GEMM as np.matmul
            # (the same bits, any strides; a row or column vector result goes another way in
            # each, hence > 1) without the generalised ufunc's dispatch: 0.3-0.55 us of a
            # 16x16 product's 0.65-0.9, six of the tiny step's eight products
            out = a.dot(b)
        elif "V" not in (dtype.kind, b.dtype.kind):
            out = np.matmul(a, b, out=out)
        else:
            return _sized_matmul(a, b, out, bias)  # (bfloat16: _matmul's float32 product)
        if bias is not None:
            out += bias
        return out
    return _sized_matmul(a, b, out, bias)


def _sized_matmul(a, b, out, bias):
    """``blas_matmul`` after counting its multiply-adds: BLAS's threads set for them, or the
    product split into blocks."""
    if a.ndim and b.ndim:
        macs = max(a.size * b.shape[-1], b.size * (a.shape[-2] if a.ndim > 1 else 1))
        if macs >= GEMM_PARALLEL_MACS:
            if not _heap_state["done"]:  # real work has begun: keep freed memory for reuse
                keep_freed_memory()
            threads = threads_for(macs, GEMM_PARALLEL_MACS)
            if threads > 1 and a.ndim == b.ndim == 2 and a.dtype.kind == b.dtype.kind == "f":
                return _split_matmul(a, b, out, threads, bias)
            _set_blas_threads(threads)
        elif _state["blas_threads"] != 1:
            _set_blas_threads(1)
        if (macs >= GEMM_PARALLEL_MACS and _state["blas_threads"] == 1
                and a.dtype == b.dtype == np.float32 and a.ndim == b.ndim == 2):
            result = np.empty((a.shape[0], b.shape[1]), np.float32) if out is None else out
            if _gemm_elsewhere(a, b, result, bias):
                return result
    out = _matmul(a, b, out)
    if bias is not None:
        out += bias
    return out


def blas_matmul_pair(first, second):
    """``(a1 @ b1, a2 @ b2)`` for two independent products ``(a, b)``: side by side, each
    whole, one on this thread and one on a kernel thread (BLAS on one thread in each), when
    both are big float matrix products and exactly two cores are free; else one after the
    other through ``blas_matmul`` (which splits each).
    NOTE: a Linear's backward, dx = dy W and dW = dy^T x, has two products of the same
    multiply-adds; whole, neither thread packs again the operand the other packs, and there is
    one hand-off instead of two. Measured on the loaded Xeon, two threads forced, chrt -f 50,
    three interleaved processes each: the mlp step's backward 1.28-1.38 -> 1.21-1.30 ms."""
    (a1, b1), (a2, b2) = first, second
    if a1.size * b1.size < GEMM_PARALLEL_MACS or a2.size * b2.size < GEMM_PARALLEL_MACS:
        # (a small product, as blas_matmul decides it: the checks below cost a small
        # network's Linear backward more than its two products, measured in the tiny step)
        return blas_matmul(a1, b1), blas_matmul(a2, b2)
    if all(x.ndim == 2 and x.dtype.kind == "f" for x in (a1, b1, a2, b2)) and \
            not threading.current_thread().name.startswith(_POOL_PREFIX):
        macs = min(a1.size * b1.shape[1], a2.size * b2.shape[1])
        if macs >= GEMM_PARALLEL_MACS and threads_for(macs, GEMM_PARALLEL_MACS) == 2:
            if not _heap_state["done"]:
                keep_freed_memory()
            _set_blas_threads(1)
            outs = [np.empty((a.shape[0], b.shape[1]), np.result_type(a.dtype, b.dtype))
                    for a, b in (first, second)]
            _run_blocks([(a1, b1, outs[0], None), (a2, b2, outs[1], None)])
            return outs[0], outs[1]
    return blas_matmul(a1, b1), blas_matmul(a2, b2)


def _split_matmul(a, b, out, threads, bias=None):
    """``a @ b`` for 2-D float ``a`` (m, k) and ``b`` (k, n), cut into ``threads`` blocks of
    rows of the output (of columns when n > m), one per thread: this one and the kernel pool's,
    BLAS on one thread in each (views in and out: no copies). NOTE: rather than BLAS's own
    threads, because OpenBLAS's idle threads spin for ~0.1 s after each call and took the core
    from the kernels (GELU, layer norm) that the pool runs between GEMMs; one set of threads
    for both: measured, 2048x128x512-sized GEMMs with kernels between them, CPU time 198 ms
    (two BLAS threads) against 116 (split) and 124 (one thread), and the lowest wall time."""
    if threading.current_thread().name.startswith(_POOL_PREFIX):
        _set_blas_threads(1)  # already on a pool thread: never wait on the pool from it
        out = _matmul(a, b, out)
        if bias is not None:
            out += bias
        return out
    m, n = a.shape[0], b.shape[1]
    if out is None:
        out = np.empty((m, n), np.result_type(a.dtype, b.dtype))
    _set_blas_threads(1)
    if a.shape[1] >= 4 * max(m, n) and out.nbytes <= SPLIT_SUM_BYTES:
        return _split_sum(a, b, out, threads, bias)
    by_rows = m >= n
    size = m if by_rows else n
    bounds = [size * i // threads for i in range(threads + 1)]
    blocks = []
    for lo, hi in zip(bounds, bounds[1:]):
        if by_rows:
            blocks.append((a[lo:hi], b, out[lo:hi], bias))
        else:
            row = bias[lo:hi] if bias is not None and bias.shape[-1:] == (n,) else bias
            blocks.append((a, b[:, lo:hi], out[:, lo:hi], row))
    native = _native_calls()
    whole = None if native is None else native[0].fields(a, b, out, bias)
    _run_blocks(blocks, None if whole is None else [
        native[0].block_fields(whole, by_rows, lo, hi) for lo, hi in zip(bounds, bounds[1:])])
    return out


def _split_sum(a, b, out, threads, bias):
    """``a @ b`` as the sum of ``threads`` products over blocks of the inner dimension, one per
    thread (the first into ``out``), for products far longer inside than out: a weight's
    gradient x^T dy over the batch's rows. NOTE: each thread then reads its share of a and b
    once, where blocks of output rows all read the whole of b; measured at real-time priority,
    the gpt workload's weight gradients (128 x 2048 x 128, 512 x 2048 x 128 and 128 x 2048 x
    512, medians): 0.74 -> 0.68-0.71 ms, 3.0-3.5 -> 2.1-2.8, 2.7-3.3 -> 2.0-3.1."""
    inner = a.shape[1]
    bounds = [inner * i // threads for i in range(threads + 1)]
    partials = [out] + [np.empty_like(out) for _ in range(1, threads)]
    _run_blocks([(a[:, lo:hi], b[lo:hi], partial, None)
                 for lo, hi, partial in zip(bounds, bounds[1:], partials)])
    for partial in partials[1:]:
        out += partial
    if bias is not None:
        out += bias
    return out


def _run_blocks(blocks, fields=None):
    """``out = a @ b (+ bias)`` for each block ``(a, b, out, bias)``: the first on this thread,
    the others on the kernel threads, handed to them as GEMM jobs where they can take them
    (``workers.Workers.hand_off``: no GIL, no task queue), else as tasks. BLAS on one thread.
    ``fields``: each block's ``handoff.fields`` where the caller has them."""
    pool = _pool()
    native = _native_calls()
    rest = blocks[1:]
    handed = pool.hand_off(rest, native, None if fields is None else fields[1:])
    futures = [] if handed else [pool.submit(_block, *block) for block in rest]
    try:
        _block(*blocks[0], native, None if fields is None else fields[0])
    finally:
        if handed:
            pool.finish(len(rest), native)
        for future in futures:
            future.result()


def _block(a, b, out, bias, native=None, fields=None):
    """``out = a @ b (+ bias)``: through MKL's sgemm where the GEMM jobs run on it
    (``_gemm_elsewhere``), else NumPy's matmul."""
    if not _gemm_elsewhere(a, b, out, bias, native, fields):
        np.matmul(a, b, out=out)
        if bias is not None:
            out += bias


def _gemm_elsewhere(a, b, out, bias=None, native=None, fields=None):
    """``out = a @ b (+ bias)`` on this thread through the kernels' sgemm when it is not
    NumPy's own (MKL's, ``_native.kernel_sgemm_address``) and BLAS can take the layout
    (``handoff.fields``, or ``fields`` where the caller has them; ``native``:
    ``workers._native_calls()`` where the caller has it); False, with nothing done, otherwise.
    NOTE: MKL, where installed, because at the gpt and mlp workloads' shapes OpenBLAS (NumPy's)
    is 1.12-1.31x slower on one core of the Xeon (2048 x 128 by 128 x 512: 1.66-1.70 -> 1.26-1.31
    ms). Every block of a split product takes it, as the board's jobs do, so the threads keep
    pace and give the same bits."""
    if native is None:
        native = _native_calls()
        if native is None:
            return False
    handoff, blas = native[0], native[1]
    if blas == _numpys_sgemm():
        return False
    if fields is None:
        fields = handoff.fields(a, b, out, bias)
        if fields is None:
            return False
    handoff.run_here(blas, *fields)
    return True


def _stacked_or(fallback):
    """``matmul(a, b, out=None)``: ``fallback``'s product, but a stack of float32 products
    whose B is transposed (q k^T) runs product by product on MKL's sgemm in compiled code
    where that is the kernels' sgemm (``_stacked_elsewhere``)."""
    def matmul(a, b, out=None):
        done = _stacked_elsewhere(a, b, out)
        return fallback(a, b, out) if done is None else done

    return matmul


def _stacked_elsewhere(a, b, out=None):
    """``a @ b`` (into ``out``) for a stack (same stack dims, broadcast ones included) of
    float32 products with B transposed, through the kernels' sgemm when it is not NumPy's
    (MKL's); None, with nothing done, otherwise.
    NOTE: only B transposed: there OpenBLAS's small products are slow and MKL's are not; the
    gpt workload's attention (128 heads of 64 x 32 by 32 x 64, one thread, chrt -f 50, median
    of 50): q k^T and dP = dO v^T 520-531 -> 365-367 us, where its other four products
    (P v, P^T dO, dS k, dS^T q) took 3-7% longer on MKL (305-322 -> 322-345 us)."""
    if (a.ndim < 3 or a.shape[:-2] != b.shape[:-2] or not a.size or not b.size
            or a.dtype != np.float32 or b.dtype != np.float32):
        return None
    native = _native_calls()
    if native is None or native[1] == _numpys_sgemm():
        return None
    if out is None:
        out = np.empty(a.shape[:-1] + b.shape[-1:], np.float32)
    elif out.shape[:-2] != a.shape[:-2]:
        return None
    first = (0,) * (a.ndim - 2)
    fields = native[0].fields(a[first], b[first], out[first])
    if fields is None or not fields[1]:  # (fields[1]: B transposed)
        return None
    steps = np.array([a.strides[:-2], b.strides[:-2], out.strides[:-2]], np.int64)
    native[0].run_stacked(native[1], *fields[:-1], np.array(a.shape[:-2], np.int64), steps)
    return out


def _numpys_sgemm():
    return lazy_module("_native").sgemm_address()


def _native_calls():
    return lazy_module("workers")._native_calls()


def lazy_module(name):
    """The kernels' module ``name``, imported at its first use (``workers``: see ``_pool``;
    ``_native`` imports numba). NOTE: an import statement in a function costs ~0.5-1 us a
    call, and a split product asks for these two or three times."""
    module = _modules.get(name)
    if module is None:
        module = _modules[name] = importlib.import_module(f"{__package__}.{name}")
    return module


def _matmul(a, b, out=None):
    """``np.matmul`` on the BLAS threads as they are set, bfloat16 included."""
    # (kind first: dtype.name is a slow Python property, and bfloat16 is NumPy kind 'V')
    if (a.dtype.kind == "V" and a.dtype.name == "bfloat16") or (
            b.dtype.kind == "V" and b.dtype.name == "bfloat16"):
        # bfloat16 has no BLAS: multiply in float32 and round once (PyTorch also accumulates
        # bfloat16 products in float32); NumPy's own bfloat16 matmul would return float32
        out_dtype = a.dtype if a.dtype.name == "bfloat16" else b.dtype
        product = np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(out_dtype)
        if out is None:
            return product
        out[...] = product
        return out
    return np.matmul(a, b, out=out)


# -- kernels ---------------------------------------------------------------------------------------
def _pool():
    pool = _state["pool"]
    if pool is None:
        with _lock:
            if _state["pool"] is None:  # (workers not imported at import: 2.5 ms of the budget)
                _state["pool"] = lazy_module("workers").Workers(max(_CORES - 1, 1), _POOL_PREFIX)
            pool = _state["pool"]
    return pool


def _after_fork():
    _state["pool"] = None  # a forked child has the pool object but not its threads
    # and GNU OpenMP ends a forked child that enters a parallel region its parent used
    _state["side_by_side"] = False
    _take_sample()  # and its own CPU time starts again from zero


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def parallel_ranges(kernel, rows, row_size, *args, parts=None):
    """Run ``kernel(start, stop, part, *args)`` over ``[0, rows)``: in one call (part 0) when
    the work (``rows * row_size`` elements) is small or no core is free, else split into one
    range per thread (parts 0, 1, ...), the first on this thread, the others on the pool.
    ``parts`` caps the number of ranges (a kernel that sums into per-part rows has that many).
    Returns the number of parts used."""
    return run_ranges(kernel, range_bounds(rows, row_size, parts), *args)


def compiled_ranges(kernel, twin, rows, row_size, *args, parts=None, job=None):
    """``parallel_ranges`` for a compiled range kernel and its twin (``_jit.side_by_side``):
    a split runs the twin, every range at once on numba's threading layer (no GIL taken per
    range), where that layer is safe to share; while a pool thread spins for its next job, the
    other ranges go to it as jobs instead when ``job`` is given (``(RangeJob, args)``: the
    kernel's ``_jit.RangeJob`` and its int64 argument block), else to the pool as tasks.
    Returns the number of parts used."""
    bounds = range_bounds(rows, row_size, parts)
    if len(bounds) > 2:
        if _pool_spinning():
            if job is not None and _run_as_jobs(kernel, bounds, args, *job):
                return len(bounds) - 1
        elif _side_by_side_usable():
            twin(np.asarray(bounds, np.int64), *args)
            return len(bounds) - 1
    return run_ranges(kernel, bounds, *args)


def _run_as_jobs(kernel, bounds, args, job, block):
    """Ranges 1, 2, ... of ``bounds`` posted as jobs on the pool's board (``handoff.py``),
    range 0 run here; False, with nothing run, where the board cannot take them."""
    pool = _pool()
    if not pool.hand_off_ranges(job, bounds, block):
        return False
    try:
        kernel(bounds[0], bounds[1], 0, *args)
    finally:
        pool.finish(len(bounds) - 2)
    return True


def _pool_spinning():
    """Whether a kernel pool thread is spinning for its next task now. NOTE: then the pool
    runs the ranges: an OpenMP thread woken beside it would make three busy threads for two
    cores, the caller's among them (measured, gpt step at two threads: 40 ms with the pool
    alone, 61 with both kinds of thread spinning)."""
    board = getattr(_state["pool"], "_board", None)
    if board is None:
        return False
    from .handoff import spinners

    return spinners(board) > 0


def _side_by_side_usable():
    if _state["side_by_side"] is None:
        from ._jit import threading_layer_is_safe

        _state["side_by_side"] = threading_layer_is_safe()
    return _state["side_by_side"]


def range_bounds(rows, row_size, parts=None):
    """Where ``parallel_ranges`` would cut ``[0, rows)``: ``[0, rows]`` for one range, else
    one bound per thread more. For a caller that lays out data by range before running them
    (``run_ranges``), so that the split it laid out for is the split that runs."""
    threads = min(threads_for(rows * row_size, KERNEL_PARALLEL_SIZE), max(rows, 1),
                  parts or rows or 1)
    return [rows * i // threads for i in range(threads + 1)] if threads > 1 else [0, rows]


def run_ranges(kernel, bounds, *args):
    """``kernel(bounds[p], bounds[p + 1], p, *args)`` for each part p: part 0 on this thread,
    the others on the pool; returns the number of parts."""
    threads = len(bounds) - 1
    if threads <= 1:
        kernel(bounds[0], bounds[-1], 0, *args)
        return 1
    futures = [_pool().submit(kernel, bounds[part], bounds[part + 1], part, *args)
               for part in range(1, threads)]
    kernel(bounds[0], bounds[1], 0, *args)
    for future in futures:
        future.result()
    return threads


def parallel_gemms(task, rows, macs):
    """Run ``task(start, stop, matmul)`` over ``[0, rows)``, where each range does many small
    GEMMs (``macs`` multiply-adds in all), e.g. one per attention head. A BLAS thread handed
    a 64x64 product waits longer than it works, so with free cores the rows are split over
    Python threads instead (the first range on this thread), each calling ``matmul`` with BLAS
    on one thread; with one core, or a single row, it is one call whose ``matmul`` is
    ``blas_matmul`` (BLAS then threads a row's product if it is big). ``matmul(a, b, out)``;
    stacks of products with B transposed go to MKL where it is there (``_stacked_elsewhere``)."""
    threads = min(threads_for(macs, GEMM_PARALLEL_MACS), rows)
    if threads <= 1:
        task(0, rows, _stacked_or(blas_matmul))
        return 1
    _set_blas_threads(1)
    bounds = [rows * i // threads for i in range(threads + 1)]
    matmul = _stacked_or(_matmul)
    futures = [_pool().submit(task, bounds[part], bounds[part + 1], matmul)
               for part in range(1, threads)]
    task(bounds[0], bounds[1], matmul)
    for future in futures:
        future.result()
    return threads


def parallel_claims(task, count, macs):
    """Run ``task(claim, matmul, part)`` on each thread (``part`` 0, 1, ...), where each call
    of ``claim()`` hands out the next of the pieces ``[0, count)`` not yet taken (None when all
    are), so a thread that falls behind takes fewer; ``matmul`` as in ``parallel_gemms``, the
    threads chosen the same way. Returns the number of threads used.
    NOTE: rather than a fixed share each: when another process takes part of a core, the
    thread on it finishes late and the other waits (measured, the cnn step on two threads of a
    loaded machine: 3.2 ms a step waiting on the pool thread's fixed half of the samples)."""
    threads = min(threads_for(macs, GEMM_PARALLEL_MACS), count)
    taken = iter(range(count))
    claims = threading.Lock()

    def claim():
        with claims:  # (next on a shared iterator from two threads at once is an error)
            return next(taken, None)

    if threads <= 1:
        task(claim, blas_matmul, 0)
        return 1
    _set_blas_threads(1)
    futures = [_pool().submit(task, claim, _matmul, part) for part in range(1, threads)]
    task(claim, _matmul, 0)
    for future in futures:
        future.result()
    return threads
