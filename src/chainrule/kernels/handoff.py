"""GEMMs and kernel ranges handed to the kernel threads without Python: a board of job slots
in an int64 array.

A split product (``threads._split_matmul``) posts each other thread's block as a job: the
shapes and addresses of one float32 GEMM (the ``cblas_sgemm`` NumPy links, ``_native.gemm``).
A kernel thread spinning between tasks (``serve``, compiled, without the GIL) takes the job,
runs it and marks it done; the caller runs its own block meanwhile and then ``finish``es: it
takes the job itself if no thread did, else waits for it. So a job is never lost and never run
twice, whether a kernel thread was spinning, asleep, busy or gone.
A job may also be one range of a split compiled kernel (``post_call``: a ``_jit.range_job``
called by address with its range and the address of its arguments), so that the thread
spinning after a GEMM job runs the next GELU or layer norm range too, still without the GIL.
NOTE: why not the task queue. A task handed through ``Workers.submit`` cost 60-86 us a round
trip on a quiet machine (the worker took the GIL to start: 34-44 us; the caller was woken
through a futex when it ended: 26-40), against blocks of 0.2-0.4 ms in the mlp step, which
hands out seven of them.

A slot's state goes IDLE -> POSTED (the caller, after writing the fields) -> TAKEN (whoever
swaps it first) -> DONE (after the GEMM) -> IDLE (the caller, in ``finish``).
"""

import numba
import numpy as np

from ._jit import float32_pointer, jit
from ._native import (
    atomic_add,
    atomic_load,
    atomic_read,
    atomic_store,
    call_range,
    call_void,
    compare_swap,
    gemm,
    pause,
)

__all__ = ["new_board", "fields", "block_fields", "post", "post_call", "run_here", "run_stacked",
           "serve", "finish", "spinners", "spin_while"]

IDLE, POSTED, TAKEN, DONE = 0, 1, 2, 3
# a slot's fields: its state, then the GEMM C = op(A) op(B) (+ a bias row when BIAS is not 0)
STATE, TRANS_A, TRANS_B, M, N, K, A, LDA, B, LDB, C, LDC, BIAS = range(13)
KIND = 13  # GEMM, or CALL: then the fields after the state are a range job's
GEMM, CALL = 0, 1
FUNCTION, START, STOP, PART, ARGS = range(1, 6)  # (a CALL's fields)
FIELDS = 16  # (a slot per 128-byte pair of cache lines: threads writing two slots never share one)
_SPINNERS = 0  # the board's first slot is no job: its first field counts the spinning threads
YIELD_ROUNDS = 2048  # spin rounds between two offers of the core (a round: 10-20 ns here)


def new_board(slots):
    """A board of ``slots`` job slots, all idle, none spinning."""
    return np.zeros((slots + 1) * FIELDS, np.int64)


def spinners(board):
    """How many kernel threads are in ``serve`` now (a moment's answer)."""
    return int(board[_SPINNERS])


@jit
def post(board, slot, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias):
    """Post job ``slot`` (1, 2, ...): C (m x n, row stride ldc) = op(A) op(B), plus the
    float32 row at address ``bias`` on every row when it is not 0; A, B, C by address."""
    row = slot * FIELDS
    board[row + TRANS_A], board[row + TRANS_B] = trans_a, trans_b
    board[row + M], board[row + N], board[row + K] = m, n, k
    board[row + A], board[row + LDA], board[row + B], board[row + LDB] = a, lda, b, ldb
    board[row + C], board[row + LDC], board[row + BIAS] = c, ldc, bias
    board[row + KIND] = GEMM
    atomic_store(board, row + STATE, POSTED)


@jit
def post_call(board, slot, function, start, stop, part, args):
    """Post job ``slot`` (1, 2, ...): the range job at address ``function``
    (``_jit.range_job``) over rows ``[start, stop)`` as part ``part``, its arguments at address
    ``args``."""
    row = slot * FIELDS
    board[row + FUNCTION], board[row + START], board[row + STOP] = function, start, stop
    board[row + PART], board[row + ARGS], board[row + KIND] = part, args, CALL
    atomic_store(board, row + STATE, POSTED)


@jit(inline="always")
def _run(board, row, blas):
    if board[row + KIND] == CALL:
        call_range(board[row + FUNCTION], board[row + START], board[row + STOP],
                   board[row + PART], board[row + ARGS])
    else:
        _run_gemm(board, row, blas)
    atomic_store(board, row + STATE, DONE)


@jit(inline="always")
def _run_gemm(board, row, blas):
    _gemm_plus_bias(blas, board[row + TRANS_A], board[row + TRANS_B], board[row + M],
                    board[row + N], board[row + K], board[row + A], board[row + LDA],
                    board[row + B], board[row + LDB], board[row + C], board[row + LDC],
                    board[row + BIAS])


@jit(inline="always")
def _gemm_plus_bias(blas, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias):
    gemm(blas, trans_a != 0, trans_b != 0, m, n, k, a, lda, b, ldb, np.float32(0.0), c, ldc)
    if bias != 0:
        out = numba.carray(float32_pointer(c), (m, ldc))
        row = numba.carray(float32_pointer(bias), (n,))
        for i in range(m):
            for j in range(n):
                out[i, j] += row[j]


@jit
def run_stacked(blas, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, counts, steps):
    """The same GEMM (``fields``, no bias) for every matrix of a stack on this thread:
    stack dims of sizes ``counts``; ``steps[0]``, ``steps[1]``, ``steps[2]`` are the byte
    strides of A, B and C along them (0 where broadcast), the addresses those of the first."""
    total = 1
    for count in counts:
        total *= count
    for index in range(total):
        rest, at_a, at_b, at_c = index, a, b, c
        for dim in range(counts.size - 1, -1, -1):
            i = rest % counts[dim]
            rest //= counts[dim]
            at_a += i * steps[0, dim]
            at_b += i * steps[1, dim]
            at_c += i * steps[2, dim]
        gemm(blas, trans_a != 0, trans_b != 0, m, n, k, at_a, lda, at_b, ldb, np.float32(0.0),
             at_c, ldc)


@jit
def run_here(blas, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias):
    """The GEMM of ``fields`` (``post``'s fields) on this thread, through ``blas``: for the
    caller's own block of a split product, so that every block runs the same sgemm."""
    _gemm_plus_bias(blas, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias)


@jit(inline="always")
def _take_one(board, blas):
    """Run one posted job, if any; True when it did."""
    for row in range(FIELDS, board.size, FIELDS):
        state = row + STATE
        if atomic_load(board, state) == POSTED and compare_swap(board, state, POSTED, TAKEN):
            _run(board, row, blas)
            return True
    return False


@jit
def serve(posted, seen, spins, board, blas, finished, yield_to):
    """A kernel thread's wait between tasks: raise ``finished[0]`` to 1 (the flag of the task
    it ran last, ``workers.Task``: raised here, where the GIL is already released), run the
    board's posted jobs as they come, and return ``posted[0]`` once it differs from ``seen`` (a
    task for the queue) or after ``spins`` rounds without a job. Every ``YIELD_ROUNDS`` it
    offers its core (``sched_yield`` at ``yield_to``, unless 0)."""
    atomic_store(finished, 0, 1)
    atomic_add(board, 1)  # (board[_SPINNERS])
    idle = 0
    while idle < spins:
        if _take_one(board, blas):
            idle = 0
        elif atomic_read(posted) != seen:
            break
        else:
            _pause_or_yield(idle, yield_to)
            idle += 1
    atomic_add(board, -1)
    # NOTE: a caller that posted just before the count fell may have seen this thread still
    # spinning and woken nobody: the count fell (a full barrier) before this last look
    while _take_one(board, blas):
        pass
    return atomic_read(posted)


@jit
def spin_while(counter, value, spins, yield_to):
    """Spin, ``spins`` rounds at most, while ``counter[0]`` equals ``value`` (yielding as
    ``serve`` does); returns ``counter[0]``: a caller's wait for a task's end
    (``workers.Task``). The GIL is released."""
    for round in range(spins):
        now = atomic_read(counter)
        if now != value:
            return now
        _pause_or_yield(round, yield_to)
    return atomic_read(counter)


@jit(inline="always")
def _pause_or_yield(round, yield_to):
    """A spin round's wait: ``pause``, and every ``YIELD_ROUNDS`` a ``sched_yield``.
    NOTE: a spinning thread that shares its core with the thread it waits for (the other core
    taken by another process) would otherwise keep it off that core: under real-time
    scheduling for the whole spin (2 ms), measured: a split Adam step 0.5 -> 6.4 ms. With
    nobody waiting, the yield is a system call of ~1 us, once in 20-40 us of spinning."""
    if round % YIELD_ROUNDS == YIELD_ROUNDS - 1 and yield_to != 0:
        call_void(yield_to)
    else:
        pause()


@jit
def finish(board, slot, blas, yield_to):
    """Job ``slot`` done: run here if no thread took it, else wait for the thread that did
    (spinning, then yielding the core); then the slot is idle again."""
    row = slot * FIELDS
    if compare_swap(board, row + STATE, POSTED, TAKEN):
        _run(board, row, blas)
    waits = 0
    while atomic_load(board, row + STATE) != DONE:
        waits += 1
        if waits > 2000 and yield_to != 0:
            call_void(yield_to)
        else:
            pause()
    atomic_store(board, row + STATE, IDLE)


def fields(a, b, out, bias=None):
    """``post``'s fields for ``out = a @ b (+ bias)`` on 2-D float32 arrays, or None
    where a layout does not fit row-major BLAS (``out``'s rows not unit-stride, an operand
    with no unit stride) or ``bias`` is not a contiguous float32 row of ``out``'s width."""
    if a.dtype != np.float32 or b.dtype != np.float32 or out.dtype != np.float32:
        return None
    layout_a, layout_b, layout_out = _layout(a), _layout(b), _layout(out)
    if layout_a is None or layout_b is None or layout_out is None or layout_out[0]:
        return None
    if bias is not None and (bias.dtype != np.float32 or bias.shape != out.shape[1:]
                             or not bias.flags.c_contiguous):
        return None
    (m, k), n = a.shape, b.shape[1]
    return (layout_a[0], layout_b[0], m, n, k, a.ctypes.data, layout_a[1], b.ctypes.data,
            layout_b[1], out.ctypes.data, layout_out[1], 0 if bias is None else bias.ctypes.data)


def block_fields(whole, by_rows, start, stop):
    """``fields`` of the block ``[start, stop)`` of rows (``by_rows``) or columns of the
    product whose ``fields`` are ``whole``: the same layouts, addresses moved along. NOTE:
    arithmetic on the whole product's fields rather than ``fields`` of each block's views:
    ``ndarray.ctypes.data`` costs ~0.9 us, three or four of them per block."""
    trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, bias = whole
    if by_rows:  # (rows of op(A) and of C)
        return (trans_a, trans_b, stop - start, n, k, a + 4 * start * (1 if trans_a else lda),
                lda, b, ldb, c + 4 * start * ldc, ldc, bias)
    return (trans_a, trans_b, m, stop - start, k, a, lda,  # (columns of op(B), C and bias)
            b + 4 * start * (ldb if trans_b else 1), ldb, c + 4 * start, ldc,
            bias + 4 * start if bias else 0)


def _layout(x):
    """(1 if transposed else 0, leading dimension) of a 2-D float32 array for row-major BLAS,
    or None when neither of its strides is one element."""
    rows, cols = x.shape
    row_step, col_step = x.strides
    if (col_step == 4 or cols == 1) and row_step % 4 == 0 and row_step // 4 >= max(cols, 1):
        return 0, row_step // 4
    if (row_step == 4 or rows == 1) and col_step % 4 == 0 and col_step // 4 >= max(rows, 1):
        return 1, col_step // 4
    return None
