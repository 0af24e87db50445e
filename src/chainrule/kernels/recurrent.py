"""The LSTM and GRU recurrences, forward and backward over all time steps in one compiled call
each: per step the GEMM with the hidden weights (a BLAS sgemm called from the kernel: MKL's
where the optional ``mkl`` wheel is installed, else NumPy's; ``_native.kernel_sgemm_address``)
and the gate arithmetic in one pass. Reference: ``ops/recurrent.py`` (``_run`` and
``_backward_steps``).

NOTE: why the whole sequence in one call: per step, a Python round trip (a matmul call, a
kernel call, temporaries) costs about as much as the gate arithmetic itself, 64 steps each
way. Why threads split the hidden units: a step's GEMM (batch x 4H x H) is too small for two
BLAS threads to pay, but the gates of a hidden unit depend only on that unit's columns, so each
thread takes a block of units, does its slice of the GEMM and its gates, and the threads meet
once per step (the next step needs all of h). On one free core it is one thread, no barrier.
"""

import threading

import numba
import numpy as np

from . import threads
from ._jit import jit, sigmoid32, tanh32, wide_vectors
from ._native import (
    NOT_PACKED,
    atomic_add,
    barrier,
    claim,
    gemm,
    kernel_sgemm_address,
    packed_operand,
    sgemm,
    sgemm_by,
    wait_until,
    yield_address,
)
from .heap import keep_freed_memory

_FLOAT = 4  # bytes per float32: addresses below step in bytes
# multiply-adds contracted into FMAs in the gate arithmetic (exp32's range reduction is only
# more exact for it); measured, LSTM gates of 64 steps of 32 x 256: 4.2-5.8 -> 4.1-5.1 ms
_FUSED = {"contract"}


def available():
    """True when a BLAS sgemm (MKL's or NumPy's: ``_native.kernel_sgemm_address``) can be
    called from kernels (else use the reference)."""
    return kernel_sgemm_address()[0] != 0


@jit(fastmath=_FUSED)
def _forward_units(start, stop, part, blas, sync, yield_to, x, w_ih, chunk, h0, c0, w_hh, laid,
                   packed, bias, gates, c, tanh_c, h, reverse):
    """Hidden units [start, stop) of every step: gates = activations of x W_ih^T + h_prev
    W_hh^T + bias (``w_hh``, ``laid``, ``packed``: as ``_step_weights`` gives them) in
    PyTorch's order (i, f, g, o); c = f c_prev + i g; h = o tanh(c). The input's part comes
    ``chunk`` steps at a time (``_input_product``) into a buffer of this thread's, which each
    step's product with h_prev then adds to. The loops are short and each writes one or two
    arrays: LLVM vectorises a loop only when it can check cheaply that its arrays do not
    overlap (one loop over all nine arrays: 17x slower; the four gates activated in one loop,
    in place in one row: 3.5x slower, measured)."""
    wide_vectors()  # (zmm registers: see _jit.wide_vectors)
    steps, batch, width = gates.shape
    hidden, units = width // 4, stop - start
    weights = _part_weights(w_hh, laid, 4, start, units)
    pre = np.empty((chunk, batch, 4 * units), np.float32)  # x W_ih^T + h_prev W_hh^T, this part
    gh_t = np.empty((4 * units, batch), np.float32)
    one = np.float32(1.0)
    first = count = 0
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        before = t + 1 if reverse else t - 1
        h_prev = h0 if s == 0 else h[before]
        c_prev = c0 if s == 0 else c[before]
        if s == first + count:  # the next chunk's input products
            first, count = s, min(chunk, steps - s)
            _input_product(blas, 4, start, units, x, w_ih, steps - s - count if reverse else s,
                           count, pre)
        local = first + count - 1 - s if reverse else s - first  # (pre's steps run in time)
        step_pre = pre[local]
        _step_product(blas, packed, 4, start, units, h_prev, weights, step_pre, gh_t, one,
                      laid.size != 0 and s > 0, sync, s * hidden, yield_to)
        for n in range(batch):
            row, pre_n = gates[t, n], step_pre[n]
            for k in range(4):  # (k is the gate; the loop over j is what vectorises)
                first_unit, last_unit = k * hidden + start, k * hidden + stop
                into, b = row[first_unit:last_unit], bias[first_unit:last_unit]
                part_pre = pre_n[k * units:(k + 1) * units]
                if k == 2:
                    for j in range(units):
                        into[j] = tanh32(part_pre[j] + b[j])
                else:
                    for j in range(units):
                        into[j] = sigmoid32(part_pre[j] + b[j])
            # gate views that count from 0 (see activation._gelu_range on why)
            i, f = row[start:stop], row[hidden + start:hidden + stop]
            g = row[2 * hidden + start:2 * hidden + stop]
            o = row[3 * hidden + start:3 * hidden + stop]
            cell, old = c[t, n, start:stop], c_prev[n, start:stop]
            for j in range(units):
                cell[j] = f[j] * old[j] + i[j] * g[j]
            squashed, out = tanh_c[t, n, start:stop], h[t, n, start:stop]
            for j in range(units):
                squashed[j] = tanh32(cell[j])
                out[j] = o[j] * squashed[j]
        atomic_add(sync, units)  # (this part of step s is written)


@jit(inline="always")
def _input_product(blas, gates, start, units, x, w_ih, t0, count, pre):
    """pre[:count] = x[t0:t0 + count] W_ih^T for hidden units [start, start + units) of each of
    the ``gates`` blocks, side by side (one product by W_ih^T when the part is all units, else
    one per gate block of W_ih's rows; W_ih is read transposed in the call, no copy)."""
    steps, batch, features = x.shape
    hidden = w_ih.shape[0] // gates
    zero = np.float32(0.0)
    rows, weights = count * batch, numba.int64(w_ih.ctypes.data)
    inputs = numba.int64(x.ctypes.data) + _FLOAT * t0 * batch * features
    into = numba.int64(pre.ctypes.data)
    blocks, columns = (1, gates * hidden) if units == hidden else (gates, units)
    for k in range(blocks):
        gemm(blas, False, True, rows, columns, features, inputs, features,
             weights + _FLOAT * features * (k * hidden + start), features, zero,
             into + _FLOAT * k * units, gates * units)


@jit(fastmath=_FUSED)
def _backward_units(start, stop, part, blas, sync, yield_to, d_out, gates, c, c0, tanh_c, w_hh,
                    d_gates, dh, dc, reverse, packed, by_batch):
    """Hidden units [start, stop) of BPTT: d(pre-activation gates) of every step into d_gates,
    dc through the cell, and dh = d_gates W_hh for the step before (by W_hh packed once,
    ``packed`` from ``_native.packed_operand``, when all units are here); dh and dc come out
    as the gradients of h0 and c0. ``d_out`` is (T, N, H), or (N, T, H) where ``by_batch``."""
    wide_vectors()  # (zmm registers: see _jit.wide_vectors)
    steps, batch, width = gates.shape
    hidden, units = width // 4, stop - start
    one, zero = np.float32(1.0), np.float32(0.0)
    weights, d_state = numba.int64(w_hh.ctypes.data), numba.int64(dh.ctypes.data)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        c_prev = c0 if s == steps - 1 else c[t + 1 if reverse else t - 1]
        for n in range(batch):
            row, d_row = gates[t, n], d_gates[t, n]
            i, f = row[start:stop], row[hidden + start:hidden + stop]
            g = row[2 * hidden + start:2 * hidden + stop]
            o = row[3 * hidden + start:3 * hidden + stop]
            d_i, d_f = d_row[start:stop], d_row[hidden + start:hidden + stop]
            d_g = d_row[2 * hidden + start:2 * hidden + stop]
            d_o = d_row[3 * hidden + start:3 * hidden + stop]
            squashed = tanh_c[t, n, start:stop]
            above = d_out[n, t, start:stop] if by_batch else d_out[t, n, start:stop]
            grad_h, grad_c, old = dh[n, start:stop], dc[n, start:stop], c_prev[n, start:stop]
            for j in range(units):
                total = grad_h[j] + above[j]
                dcell = grad_c[j] + total * o[j] * (one - squashed[j] * squashed[j])
                grad_c[j] = dcell * f[j]
                d_o[j] = total * squashed[j] * o[j] * (one - o[j])
                d_i[j] = dcell * g[j] * i[j] * (one - i[j])
                d_f[j] = dcell * old[j] * f[j] * (one - f[j])
                d_g[j] = dcell * i[j] * (one - g[j] * g[j])
        barrier(sync, units, (s + 1) * hidden, yield_to)  # all of d_gates[t] is written
        sgemm_by(blas, packed if units == hidden else NOT_PACKED, batch, units, width,
                 numba.int64(d_gates[t].ctypes.data), width, weights + _FLOAT * start, hidden,
                 zero, d_state + _FLOAT * start, hidden)


def _unit_bounds(batch, hidden):
    """Where the hidden units are split between threads: at all when a step's GEMM has ~batch
    * H * H / 2 multiply-adds or more (smaller steps cannot repay a barrier per step), into
    at most two parts. Two, because the threads wait for each other: the first part runs on
    this thread and the second on the pool, so a part on the pool only ever waits for a
    thread that is running; a third part could sit queued behind another caller's task that
    waits too."""
    return threads.range_bounds(hidden, max(batch * hidden // 2, 1), parts=2)


def _split(kernel, bounds, *args):
    """Run ``kernel`` over the hidden units in the parts that ``bounds`` (``_unit_bounds``)
    gives, with the BLAS address and a fresh barrier."""
    threads.run_ranges(kernel, bounds, kernel_sgemm_address(), np.zeros(1, np.int64),
                       yield_address(), *args)


def _step_weights(w_hh, steps, bounds, batch):
    """(W_hh, room for W_hh^T laid out or an empty array, W_hh^T packed by MKL or not:
    ``sgemm_by``), as the forward's step GEMMs read W_hh: from 3 steps on, on one thread with
    MKL, W_hh as it is and W_hh^T packed once (one step's product, 32 x 256 by 256 x 1024: 104
    us plain, 90 packed, and no copy below); else room for W_hh^T with each part's columns
    side by side (gate blocks of its units, in gate order), which each thread fills with its
    own part (``_lay_out``) so that its product is one GEMM (packed, a half gains nothing:
    48.9 against 48.6 us); below 3 steps W_hh as it is (the copy costs more than one or two
    steps gain). NOTE: one GEMM per part rather than one per gate block: measured on this
    Xeon, one thread, h (32 x 256) by half of W_hh^T: 0.077 ms as one 512-column product
    against 0.094-0.12 as four of 128 columns at a stride of 1024 (LSTM forward of 64 steps,
    N=32, two threads at real-time priority, medians: 8.3-8.6 -> 7.6-8.1 ms)."""
    none = np.empty((0, 0), np.float32)
    if steps < 3:
        return w_hh, none, NOT_PACKED
    if len(bounds) == 2:
        packed = packed_operand(w_hh, batch, transposed=True)
        if packed[0] != 0:
            return w_hh, none, packed
    width, hidden = w_hh.shape
    return w_hh, np.empty((hidden, width), np.float32), NOT_PACKED


_TILE = 16  # (rows and columns of a block that _lay_out transposes in cache)


@jit(inline="always")
def _part_weights(w_hh, laid, gates, start, units):
    """The W_hh that this part's step products read (``_state_product``): ``laid`` with this
    part's columns of W_hh^T filled in, or ``w_hh`` as it is where ``laid`` is empty."""
    if laid.size == 0:
        return w_hh
    _lay_out(w_hh, gates, start, units, laid)
    return laid


@jit(inline="always")
def _lay_out(w_hh, gates, start, units, laid):
    """Column gates * start + k * units + j of ``laid`` (hidden x gates * hidden) = row
    k * hidden + start + j of W_hh (gate k, unit start + j), for j < units: this part's
    columns of W_hh^T side by side, in tiles that stay in cache.
    NOTE: on the part's own thread rather than the whole copy beforehand: the threads copy
    their halves at once, and each reads its half from its own cache afterwards (the copy in
    NumPy, 1024 x 256, took 0.29-0.37 ms before the threads started)."""
    hidden = w_hh.shape[1]
    for k in range(gates):
        first = gates * start + k * units
        for j0 in range(0, units, _TILE):
            j1 = min(j0 + _TILE, units)
            for r0 in range(0, hidden, _TILE):
                for r in range(r0, min(r0 + _TILE, hidden)):
                    row = laid[r]
                    for j in range(j0, j1):
                        row[first + j] = w_hh[k * hidden + start + j, r]


@jit(inline="always")
def _step_product(blas, packed, gates, start, units, h_prev, w_hh, gh, gh_t, beta, own_first,
                  sync, target, yield_to):
    """``_state_product`` once every part has written h_prev (``sync`` reaches ``target``:
    each part adds its units when its step is done). ``own_first`` (``w_hh`` laid out,
    ``_step_weights``, and a step before): the product by this part's own units of h_prev
    first, ready since this thread wrote them, then the wait, then the rest of h_prev (beta 1).
    NOTE: why: the wait is then for what the other thread still had left when this one has
    done a share of its own product (a per-step barrier before it cost the lstm workload's
    forward 0.3-0.8 ms of 6.5, two threads, measured by leaving it out)."""
    if not own_first:
        wait_until(sync, target, yield_to)
        _state_product(blas, packed, gates, start, units, h_prev, w_hh, gh, gh_t, beta)
        return
    batch, hidden = h_prev.shape
    width, columns, stop = gates * hidden, gates * units, start + units
    one = np.float32(1.0)
    state, out = numba.int64(h_prev.ctypes.data), numba.int64(gh.ctypes.data)
    weights = numba.int64(w_hh.ctypes.data) + _FLOAT * gates * start  # (this part's columns)
    sgemm(blas, False, batch, columns, units, state + _FLOAT * start, hidden,
          weights + _FLOAT * start * width, width, beta, out, columns)
    wait_until(sync, target, yield_to)
    if start > 0:
        sgemm(blas, False, batch, columns, start, state, hidden, weights, width, one, out,
              columns)
    if stop < hidden:
        sgemm(blas, False, batch, columns, hidden - stop, state + _FLOAT * stop, hidden,
              weights + _FLOAT * stop * width, width, one, out, columns)


@jit(inline="always")
def _state_product(blas, packed, gates, start, units, h_prev, w_hh, gh, gh_t, beta):
    """gh = h_prev W_hh^T + beta gh (``beta`` 0 or 1) for hidden units [start, stop) of each
    of the ``gates`` blocks, side by side: by W_hh^T packed (all units) where ``packed`` holds
    it, else ``w_hh`` is W_hh^T laid out by ``_step_weights`` (this part's columns side by
    side) or W_hh, then the product is taken transposed, (W_hh h_prev^T)^T, through ``gh_t``.
    NOTE: never with W_hh transposed in the call: OpenBLAS's h W_hh^T so is 1.5x slower at
    these shapes (32 x 256 by 256 x 1024: 0.46 ms, against 0.30 with W_hh^T, 0.26 + a small
    transpose with W_hh; LSTM forward of 64 steps, one thread: 34 -> 25 ms, two threads:
    18.7 -> 14.5 ms)."""
    batch, hidden = h_prev.shape
    width = gates * hidden
    zero = np.float32(0.0)
    weights, state = numba.int64(w_hh.ctypes.data), numba.int64(h_prev.ctypes.data)
    if packed[0] != 0:  # (all units: ``_step_weights``)
        sgemm_by(blas, packed, batch, width, hidden, state, hidden, weights, width, beta,
                 numba.int64(gh.ctypes.data), width)
    elif w_hh.shape[0] == hidden:  # W_hh^T: this part's columns, one block
        sgemm(blas, False, batch, gates * units, hidden, state, hidden,
              weights + _FLOAT * gates * start, width, beta, numba.int64(gh.ctypes.data),
              gates * units)
    else:  # W_hh: its rows, into gh^T
        blocks, columns = (gates, units) if units < hidden else (1, width)  # GEMMs, their size
        for k in range(blocks):
            gemm(blas, False, True, columns, batch, hidden,
                 weights + _FLOAT * hidden * (k * hidden + start), hidden, state, hidden, zero,
                 numba.int64(gh_t.ctypes.data) + _FLOAT * k * units * batch, batch)
        for n in range(batch):
            if beta != zero:
                for r in range(gates * units):
                    gh[n, r] += gh_t[r, n]
            else:
                for r in range(gates * units):
                    gh[n, r] = gh_t[r, n]


def lstm_forward(x, w_ih, h0, c0, w_hh, bias, reverse):
    """The LSTM over all steps of the input ``x`` (T, N, I), the input projection included,
    with ``bias`` (b_ih + b_hh; None: no bias): returns (h of every step, activated gates, c,
    tanh(c)); h and c of the last step are the final states.
    NOTE: why the input projection inside: as one product beforehand (2048 x 64 by 64 x 1024
    in the lstm workload, split over the threads), its 8 MB result was written out and read
    back by the recurrence, and the threads met once more for it; here each thread multiplies
    its own units' columns, ``_input_chunk`` steps at a time, into a buffer that stays in its
    cache and that each step's product with h then adds to (beta = 1)."""
    steps, batch = x.shape[:2]
    width, hidden = w_hh.shape
    gates = np.empty((steps, batch, width), np.float32)
    keep_freed_memory()  # (real work: as ``threads.blas_matmul`` does for a big product)
    h, c, tanh_c = (np.empty((steps, batch, hidden), np.float32) for _ in range(3))
    threads.gemm(1)  # every thread's GEMMs on one BLAS thread
    bounds = _unit_bounds(batch, hidden)
    _split(_forward_units, bounds, np.ascontiguousarray(x), np.ascontiguousarray(w_ih),
           _input_chunk(steps, batch), np.ascontiguousarray(h0), np.ascontiguousarray(c0),
           *_step_weights(w_hh, steps, bounds, batch),
           np.zeros(width, np.float32) if bias is None else np.ascontiguousarray(bias), gates, c,
           tanh_c, h, reverse)
    return h, gates, c, tanh_c


def _input_chunk(steps, batch):
    """How many steps' input products the forward takes at once: ~256 rows a product (tall
    enough for BLAS to run near its speed, the result small enough to stay in cache)."""
    return max(1, min(steps, -(-256 // batch)))


def lstm_backward(d_out, dh, dc, gates, c, c0, tanh_c, w_hh, reverse, x, h0, h, w_ih,
                  need_x):
    """BPTT from the gradients of every step's h (``d_out``) and of the final states, with
    the layer's input ``x`` (T, N, I), states ``h0`` and ``h`` (T, N, H) from forward: returns
    (gradients {x (None unless ``need_x``), w_ih, w_hh, b_ih, b_hh}, of h0, of c0).
    ``d_out`` by batch is read so (``_by_batch``)."""
    batch, hidden = c0.shape
    d_out, by_batch = _by_batch(d_out)
    d_gates = np.empty_like(gates)
    dh, dc = np.array(dh, np.float32, order="C"), np.array(dc, np.float32, order="C")  # copies
    blas, progress, yield_to = kernel_sgemm_address(), np.zeros(1, np.int64), yield_address()
    w_hh = np.ascontiguousarray(w_hh)

    def recurrence():
        _backward_units(0, hidden, 0, blas, progress, yield_to, d_out, gates, c,
                        np.ascontiguousarray(c0), tanh_c, w_hh, d_gates, dh, dc, reverse,
                        packed_operand(w_hh, batch), by_batch)

    grads = _pipelined(recurrence, d_gates, d_gates, x, h0, h, w_ih, hidden, progress, reverse,
                       need_x)
    grads["b_hh"] = grads["b_ih"].copy()  # (one bias sum: LSTM's two biases add up)
    return grads, dh, dc


def _by_batch(d_out):
    """(``d_out`` (T, N, H) as BPTT reads it, whether that is by batch): the transpose of a
    C-contiguous (N, T, H), a batch_first caller's gradient (``ops.recurrent.Recurrent``), as
    that array, not copied (0.14 ms in the lstm workload; 10.98 against 11.23 ms for its
    backward at two threads); any other layout copied C-contiguous."""
    by_batch = not d_out.flags.c_contiguous and d_out.transpose(1, 0, 2).flags.c_contiguous
    return (d_out.transpose(1, 0, 2) if by_batch else np.ascontiguousarray(d_out)), by_batch


def _pipelined(recurrence, d_gx, d_gh, x, h0, h, w_ih, hidden, progress, reverse, need_x):
    """Run BPTT (``recurrence``, one thread: it publishes its progress) and the weight
    gradients from its d-gates; returns the gradients of x, w_ih, w_hh and the biases.

    NOTE: why a pipeline rather than splitting each step over the threads: with two free
    cores, the recurrence runs whole on this thread (its step GEMMs at full size, no barrier
    per step) while a pool thread turns each finished chunk of steps into its share of
    dW_ih, dW_hh and the bias sums (GEMMs over all steps: about as much work as the
    recurrence itself) and into one chunk of dx = d_gx W_ih; once BPTT is done, this thread
    takes the chunks still unclaimed, of the weight gradients (into sums of its own, added
    to the pool thread's at the end) and of dx, so that what remains after BPTT is about one
    chunk's work (measured on this Xeon at real-time priority, T=64, N=32, H=256, with the
    smaller chunks below: backward 14.7-15.8 -> 14.3-14.4 ms, where dx after BPTT, on both
    threads, came to 1.5-2 ms past BPTT's end). NOTE: the weight chunks too since BPTT's step
    GEMMs run on MKL (``_native.kernel_sgemm_address``): BPTT then ended ~2 ms before the
    pool thread's weight gradients, with dx alone left to share (lstm workload, two threads,
    chrt -f 50: see docs/architecture.md). One free core: the same work in sequence."""
    steps, batch, width = d_gx.shape
    x = np.ascontiguousarray(x, np.float32)
    w_ih = np.ascontiguousarray(w_ih)
    # (dW_ih as it is: accumulating its transpose, x^T d_gx, saved 0.9 ms of the pool thread's
    # GEMMs over 64 steps, off the critical path, and cost a 0.39 ms transposing copy on it)
    dw_ih, dw_hh = np.empty((width, x.shape[2]), np.float32), np.empty((width, hidden), np.float32)
    db_ih, db_hh = np.zeros(width), np.zeros(width)
    threads.gemm(1)  # every GEMM here on one BLAS thread
    two = (threads.threads_for(steps * batch * width * (hidden + x.shape[2]),
                               threads.GEMM_PARALLEL_MACS) > 1
           and not threading.current_thread().name.startswith(threads._POOL_PREFIX))
    # two threads: chunks of ~128 rows a GEMM, at least 4 chunks; one: all steps at once.
    # (The pool thread's last chunk is what it still has to do once BPTT ends; measured, T=64,
    # N=32, H=256, backward at two threads: 14.5 ms with chunks of 256 rows, 12.6-14.2 with 128)
    chunk = max(1, min(-(-128 // batch), -(-steps // 4))) if two else steps

    d_x = np.empty(x.shape if need_x else (0, 0, 0), np.float32)
    taken = np.zeros(1, np.int64)  # chunks of dx's rows claimed so far
    claimed = np.zeros(1, np.int64)  # chunks of the weight gradients claimed so far
    h0 = np.ascontiguousarray(h0)

    def weights(dw_ih, dw_hh, db_ih, db_hh):
        """The chunks this thread claims, into these sums: how many it took."""
        return _weight_grads(kernel_sgemm_address(), progress, yield_address(), hidden, chunk,
                             d_gx, d_gh, x, h0, h, dw_ih, dw_hh, db_ih, db_hh, reverse, taken,
                             w_ih, d_x, claimed)

    if not two:
        recurrence()
        weights(dw_ih, dw_hh, db_ih, db_hh)
    else:
        future = threads._pool().submit(weights, dw_ih, dw_hh, db_ih, db_hh)
        recurrence()
        mine = np.empty_like(dw_ih), np.empty_like(dw_hh), np.zeros(width), np.zeros(width)
        done_here = weights(*mine)
        _dx_chunks(kernel_sgemm_address(), progress, yield_address(), hidden, chunk, steps,
                   taken, d_gx, w_ih, d_x, reverse)
        done_there = future.result()
        if done_here:
            for total, part in zip((dw_ih, dw_hh, db_ih, db_hh), mine):
                if done_there:
                    total += part
                else:  # (the pool thread took none: its sums were never written)
                    total[...] = part
    same = d_gx is d_gh
    return {"x": d_x if need_x else None, "w_ih": dw_ih,
            "w_hh": dw_hh, "b_ih": db_ih.astype(np.float32),
            "b_hh": None if same else db_hh.astype(np.float32)}


@jit
def _dx_chunks(blas, progress, yield_to, hidden, chunk, most, taken, d_gx, w_ih, d_x, reverse):
    """d_x = d_gx W_ih, ``chunk`` steps at a time in BPTT's order (each chunk claimed from
    ``taken``, and taken once BPTT has finished it: ``progress`` as in ``_weight_grads``), at
    most ``most`` chunks; nothing when ``d_x`` is empty (no gradient of x wanted)."""
    steps, batch, width = d_gx.shape
    features, zero = w_ih.shape[1], np.float32(0.0)
    if d_x.size == 0:
        return
    gx_at, out_at = numba.int64(d_gx.ctypes.data), numba.int64(d_x.ctypes.data)
    for _ in range(most):
        s0 = claim(taken) * chunk
        if s0 >= steps:
            return
        s1 = min(s0 + chunk, steps)
        wait_until(progress, s1 * hidden, yield_to)
        t0, t1 = (s0, s1) if reverse else (steps - s1, steps - s0)  # BPTT runs against time
        gemm(blas, False, False, (t1 - t0) * batch, features, width,
             gx_at + _FLOAT * t0 * batch * width, width, numba.int64(w_ih.ctypes.data),
             features, zero, out_at + _FLOAT * t0 * batch * features, features)


@jit
def _weight_grads(blas, progress, yield_to, hidden, chunk, d_gx, d_gh, x, h0, h, dw_ih, dw_hh,
                  db_ih, db_hh, reverse, taken, w_ih, d_x, claimed):
    """dW_ih = d_gx^T x, dW_hh = d_gh^T h_prev (into arrays as they come: the first GEMM into
    each overwrites it) and the bias sums (float64, onto ``db_ih``, ``db_hh``) over the chunks
    of steps this thread claims from ``claimed`` (in BPTT's order, threads sharing the
    count), each once BPTT has finished it (``progress[0]`` reaches steps done times
    ``hidden``), and after each chunk one chunk of d_x (``_dx_chunks``, claimed from
    ``taken``). Returns the number of chunks taken (none: the sums are as they came).
    ``d_gh`` may be ``d_gx`` (LSTM: then ``db_hh`` stays zero)."""
    wide_vectors()  # (zmm registers: see _jit.wide_vectors)
    steps, batch, width = d_gx.shape
    features, step_rows = x.shape[2], batch * width
    zero, one, same = np.float32(0.0), np.float32(1.0), d_gx.ctypes.data == d_gh.ctypes.data
    onto_ih = onto_hh = zero  # (each: zero until this thread's first GEMM into it)
    gx_at, gh_at = numba.int64(d_gx.ctypes.data), numba.int64(d_gh.ctypes.data)
    x_at, h_at = numba.int64(x.ctypes.data), numba.int64(h.ctypes.data)
    w_ih_at, w_hh_at = numba.int64(dw_ih.ctypes.data), numba.int64(dw_hh.ctypes.data)
    done = 0
    while True:
        s0 = claim(claimed) * chunk
        if s0 >= steps:
            return done
        done += 1
        s1 = min(s0 + chunk, steps)
        wait_until(progress, s1 * hidden, yield_to)
        t0, t1 = (s0, s1) if reverse else (steps - s1, steps - s0)  # BPTT runs against time
        gemm(blas, True, False, width, features, (t1 - t0) * batch, gx_at + _FLOAT * t0 *
             step_rows, width, x_at + _FLOAT * t0 * batch * features, features, onto_ih,
             w_ih_at, features)
        onto_ih = one
        # h before step t: h[t - 1] (h[t + 1] in reverse), h0 before the first step
        first = steps - 1 if reverse else 0
        if t0 <= first < t1:
            gemm(blas, True, False, width, hidden, batch, gh_at + _FLOAT * first * step_rows,
                 width, numba.int64(h0.ctypes.data), hidden, onto_hh, w_hh_at, hidden)
            onto_hh = one
        lo, hi = (t0, min(t1, steps - 1)) if reverse else (max(t0, 1), t1)
        before = lo + 1 if reverse else lo - 1
        if hi > lo:
            gemm(blas, True, False, width, hidden, (hi - lo) * batch, gh_at + _FLOAT * lo *
                 step_rows, width, h_at + _FLOAT * before * batch * hidden, hidden, onto_hh,
                 w_hh_at, hidden)
            onto_hh = one
        for t in range(t0, t1):
            for n in range(batch):
                row = d_gx[t, n]
                for j in range(width):
                    db_ih[j] += row[j]
                if not same:
                    row = d_gh[t, n]
                    for j in range(width):
                        db_hh[j] += row[j]
        # and one chunk of d_x (the oldest not yet claimed: BPTT has finished it)
        _dx_chunks(blas, progress, yield_to, hidden, chunk, 1, taken, d_gx, w_ih, d_x, reverse)


@jit(fastmath=_FUSED)
def _gru_forward_units(start, stop, part, blas, sync, yield_to, gx, h0, w_hh, laid, packed,
                       b_hh, gates, gh_n, h, reverse):
    """Hidden units [start, stop) of every step of a GRU (gates r, z, n in PyTorch's order):
    r, z = sigmoid(gx + h_prev W_hh^T + b_hh) of their blocks; gh_n = (h_prev W_hh^T + b_hh)
    of the n block (kept for backward); n = tanh(gx_n + r gh_n); h = (1 - z) n + z h_prev.
    ``gx`` holds x W_ih^T + b_ih; loops as in ``_forward_units``."""
    wide_vectors()  # (zmm registers: see _jit.wide_vectors)
    steps, batch, width = gx.shape
    hidden, units = width // 3, stop - start
    gh, gh_t = np.empty((batch, 3 * units), np.float32), np.empty((3 * units, batch), np.float32)
    one = np.float32(1.0)
    weights = _part_weights(w_hh, laid, 3, start, units)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        h_prev = h0 if s == 0 else h[t + 1 if reverse else t - 1]
        _step_product(blas, packed, 3, start, units, h_prev, weights, gh, gh_t,
                      np.float32(0.0), laid.size != 0 and s > 0, sync, s * hidden, yield_to)
        for n in range(batch):
            row, pre_x, pre_h = gates[t, n], gx[t, n], gh[n]
            for k in range(2):
                first, last = k * hidden + start, k * hidden + stop
                into, x_part, bias = row[first:last], pre_x[first:last], b_hh[first:last]
                h_part = pre_h[k * units:(k + 1) * units]
                for j in range(units):
                    into[j] = sigmoid32(x_part[j] + (h_part[j] + bias[j]))
            first, last = 2 * hidden + start, 2 * hidden + stop
            kept, bias, h_part = gh_n[t, n, start:stop], b_hh[first:last], pre_h[2 * units:]
            for j in range(units):
                kept[j] = h_part[j] + bias[j]
            r, x_part, new = row[start:stop], pre_x[first:last], row[first:last]
            for j in range(units):
                new[j] = tanh32(x_part[j] + r[j] * kept[j])
            z, out = row[hidden + start:hidden + stop], h[t, n, start:stop]
            old = h_prev[n, start:stop]
            for j in range(units):
                out[j] = (one - z[j]) * new[j] + z[j] * old[j]
        atomic_add(sync, units)  # (this part of step s is written)


@jit(fastmath=_FUSED)
def _gru_backward_units(start, stop, part, blas, sync, yield_to, d_out, h0, h, gates, gh_n, w_hh,
                        d_gx, d_gh, dh, reverse, packed, by_batch):
    """Hidden units [start, stop) of a GRU's BPTT: the gradients of gx and of
    h W_hh^T + b_hh of every step, and dh = dh z + d_gh W_hh for the step before (dh comes out
    as the gradient of h0). ``d_out`` is (T, N, H), or (N, T, H) where ``by_batch``."""
    wide_vectors()  # (zmm registers: see _jit.wide_vectors)
    steps, batch, width = gates.shape
    hidden, units = width // 3, stop - start
    one = np.float32(1.0)
    weights, d_state = numba.int64(w_hh.ctypes.data), numba.int64(dh.ctypes.data)
    for s in range(steps):
        t = s if reverse else steps - 1 - s
        h_prev = h0 if s == steps - 1 else h[t + 1 if reverse else t - 1]
        for n in range(batch):
            row, dx_row, dh_row = gates[t, n], d_gx[t, n], d_gh[t, n]
            r, z = row[start:stop], row[hidden + start:hidden + stop]
            new = row[2 * hidden + start:2 * hidden + stop]
            kept, grad_h = gh_n[t, n, start:stop], dh[n, start:stop]
            above = d_out[n, t, start:stop] if by_batch else d_out[t, n, start:stop]
            old = h_prev[n, start:stop]
            d_r, d_z = dx_row[start:stop], dx_row[hidden + start:hidden + stop]
            d_new = dx_row[2 * hidden + start:2 * hidden + stop]
            for j in range(units):
                total = grad_h[j] + above[j]
                d_n = total * (one - z[j]) * (one - new[j] * new[j])
                d_r[j] = d_n * kept[j] * r[j] * (one - r[j])
                d_z[j] = total * (old[j] - new[j]) * z[j] * (one - z[j])
                d_new[j] = d_n
                grad_h[j] = total * z[j]  # the GEMM below adds d_gh W_hh to it
            h_r, h_z = dh_row[start:stop], dh_row[hidden + start:hidden + stop]
            h_new = dh_row[2 * hidden + start:2 * hidden + stop]
            for j in range(units):
                h_r[j] = d_r[j]
                h_z[j] = d_z[j]
                h_new[j] = d_new[j] * r[j]
        barrier(sync, units, (s + 1) * hidden, yield_to)  # all of d_gh[t] is written
        sgemm_by(blas, packed if units == hidden else NOT_PACKED, batch, units, width,
                 numba.int64(d_gh[t].ctypes.data), width, weights + _FLOAT * start, hidden,
                 one, d_state + _FLOAT * start, hidden)


def gru_forward(gx, h0, w_hh, b_hh, reverse):
    """A GRU over all steps from the input projections ``gx`` (T, N, 3H, b_ih added) and the
    hidden bias ``b_hh`` (None: no bias): returns (h of every step, activated gates r, z, n,
    the n block of h W_hh^T + b_hh)."""
    steps, batch, width = gx.shape
    hidden = width // 3
    gates = np.empty_like(gx)
    h, gh_n = (np.empty((steps, batch, hidden), np.float32) for _ in range(2))
    bias = np.zeros(width, np.float32) if b_hh is None else np.ascontiguousarray(b_hh)
    threads.gemm(1)
    bounds = _unit_bounds(batch, hidden)
    _split(_gru_forward_units, bounds, np.ascontiguousarray(gx), np.ascontiguousarray(h0),
           *_step_weights(w_hh, steps, bounds, batch), bias, gates, gh_n, h, reverse)
    return h, gates, gh_n


def gru_backward(d_out, dh, h0, h, gates, gh_n, w_hh, reverse, x, w_ih, need_x):
    """A GRU's BPTT from the gradients of every step's h and of the final state, with the
    layer's input ``x`` (T, N, I): returns (gradients {x (None unless ``need_x``), w_ih, w_hh,
    b_ih, b_hh}, gradient of h0). ``d_out`` by batch is read so (``_by_batch``)."""
    batch, hidden = h0.shape
    d_out, by_batch = _by_batch(d_out)
    d_gx, d_gh = np.empty_like(gates), np.empty_like(gates)
    dh = np.array(dh, np.float32, order="C")  # a copy: the kernel updates it
    blas, progress, yield_to = kernel_sgemm_address(), np.zeros(1, np.int64), yield_address()
    w_hh = np.ascontiguousarray(w_hh)

    def recurrence():
        _gru_backward_units(0, hidden, 0, blas, progress, yield_to, d_out,
                            np.ascontiguousarray(h0), h, gates, gh_n, w_hh, d_gx, d_gh, dh,
                            reverse, packed_operand(w_hh, batch), by_batch)

    grads = _pipelined(recurrence, d_gx, d_gh, x, h0, h, w_ih, hidden, progress, reverse,
                       need_x)
    return grads, dh
