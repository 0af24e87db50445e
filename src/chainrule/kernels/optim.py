"""Optimizer updates in one pass over each parameter, in place.
References: ``optim/adam.py`` and ``optim/sgd.py`` (``_update`` on NumPy arrays); Adam's
takes all of a group's parameters in one call (``adam_many``)."""

import math

import numba
import numpy as np

from ._jit import (
    float32_array,
    int64_array,
    jit,
    job_arguments,
    range_job,
    side_by_side,
    wide_vectors,
)
from .threads import compiled_ranges, parallel_ranges


@jit
def _adam_range(start, stop, part, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr,
                beta2, one_minus_beta1, one_minus_beta2, eps, bias_correction1,
                bias_correction2_sqrt, weight_decay, decay, maximize, amsgrad):
    # 1 - beta comes in computed in float64: in float32, 1 - 0.999f is 0.00099999 (1e-5 off)
    wide_vectors()
    step_size = lr / bias_correction1
    param, grad = param[start:stop], grad[start:stop]  # (slices: see activation._gelu_range)
    exp_avg, exp_avg_sq = exp_avg[start:stop], exp_avg_sq[start:stop]
    if amsgrad:
        max_exp_avg_sq = max_exp_avg_sq[start:stop]
    for i in range(param.size):
        p = param[i]
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * p  # L2 decay (0 when decoupled)
        p *= decay  # decoupled decay: 1 - lr * weight_decay (1 otherwise)
        m = exp_avg[i] + one_minus_beta1 * (g - exp_avg[i])
        v = beta2 * exp_avg_sq[i] + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        param[i] = p - step_size * m / (math.sqrt(v) / bias_correction2_sqrt + eps)


# NOTE: what a compiled call costs beyond its elements (~6 us), in elements (0.76 ns each, one
# thread): counted once per parameter where the threads' ranges are cut, so that the thread given
# the gpt's many small parameters is not also given as many elements as the one given its big
# ones (one call each).
CALL_COST = 8192


def adam_many(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
              beta2, eps, weight_decay, decoupled, maximize):
    """One Adam/AdamW step on lists of C-contiguous float32 arrays, in place
    (``max_exp_avg_sqs`` None unless AMSGrad); ``steps[i]`` is parameter i's count after this
    step (1 on the first). The parameters' elements are cut into ranges as one array, so a
    group of parameters that are each too small to split still uses the free cores; each
    parameter counts ``CALL_COST`` elements more than it has there. The group goes to the
    compiled ``_adam_table`` as tables of addresses: one compiled call per range, so a range
    runs without the GIL, side by side or as a job on the GEMM board (``compiled_ranges``)."""
    f = np.float32
    amsgrad = max_exp_avg_sqs is not None
    count = len(params)
    offsets = np.empty((count, 2), np.int64)  # (where its elements start, its size)
    addresses = np.empty((count, 5), np.int64)  # param, grad, exp_avg, exp_avg_sq, max
    corrections = np.empty((count, 2), np.float32)  # bias corrections 1 and 2 (its root)
    offset = 0
    for index, param in enumerate(params):
        arrays = (param, grads[index], exp_avgs[index], exp_avg_sqs[index],
                  max_exp_avg_sqs[index] if amsgrad else exp_avgs[index])
        addresses[index] = [array.ctypes.data for array in arrays]
        offset += CALL_COST  # (then its elements)
        offsets[index] = offset, param.size
        step = steps[index]
        corrections[index] = f(1 - beta1**step), f((1 - beta2**step) ** 0.5)
        offset += param.size
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    settings = np.array([lr, beta2, 1 - beta1, 1 - beta2, eps,
                         0.0 if decoupled else weight_decay, decay], np.float32)
    tables = (offsets, addresses, corrections, settings)
    block = np.array([count, *[table.ctypes.data for table in tables], maximize, amsgrad],
                     np.int64)
    compiled_ranges(_adam_table, _adam_tables, offset, 8, *tables, maximize, amsgrad,
                    job=(_adam_job, block))


@jit
def _adam_table(start, stop, part, offsets, addresses, corrections, settings, maximize,
                amsgrad):
    """``_adam_range`` on the part of each parameter that falls in ``[start, stop)`` of the
    parameters' elements laid end to end (a call's cost before each), its arrays by address."""
    wide_vectors()  # (LLVM may inline _adam_range's loop here)
    for i in range(offsets.shape[0]):
        offset, size = offsets[i, 0], offsets[i, 1]
        lo, hi = max(start - offset, 0), min(stop - offset, size)
        if lo < hi:
            at = addresses[i]
            _adam_range(lo, hi, part, float32_array(at[0], size), float32_array(at[1], size),
                        float32_array(at[2], size), float32_array(at[3], size),
                        float32_array(at[4], size if amsgrad else 0), settings[0],
                        settings[1], settings[2], settings[3], settings[4], corrections[i, 0],
                        corrections[i, 1], settings[5], settings[6], maximize, amsgrad)


@side_by_side
def _adam_tables(bounds, offsets, addresses, corrections, settings, maximize, amsgrad):
    for part in numba.prange(bounds.size - 1):
        _adam_table(bounds[part], bounds[part + 1], part, offsets, addresses, corrections,
                    settings, maximize, amsgrad)


@range_job
def _adam_job(start, stop, part, args):
    count, offsets, addresses, corrections, settings, maximize, amsgrad = job_arguments(args, 7)
    _adam_table(start, stop, part, int64_array(offsets, (count, 2)),
                int64_array(addresses, (count, 5)), float32_array(corrections, (count, 2)),
                float32_array(settings, 7), maximize != 0, amsgrad != 0)


@jit
def _sgd_range(start, stop, part, param, grad, buffer, lr, momentum, one_minus_dampening,
               weight_decay, maximize, nesterov, first):
    wide_vectors()
    param, grad = param[start:stop], grad[start:stop]
    if momentum != 0:
        buffer = buffer[start:stop]
    for i in range(param.size):
        g = -grad[i] if maximize else grad[i]
        g += weight_decay * param[i]
        if momentum != 0:
            b = g if first else momentum * buffer[i] + one_minus_dampening * g
            buffer[i] = b
            g = g + momentum * b if nesterov else b
        param[i] -= lr * g


def sgd(param, grad, buffer, *, lr, momentum, dampening, weight_decay, maximize, nesterov,
        first):
    """One SGD step on float32 arrays, in place; ``buffer`` is the momentum buffer (filled on
    the ``first`` step), unused without momentum."""
    f = np.float32
    flat_param = param.reshape(-1)
    flat_buffer = buffer.reshape(-1) if buffer is not None else flat_param[:0]
    parallel_ranges(_sgd_range, flat_param.size, 4, flat_param, grad.reshape(-1), flat_buffer,
                    f(lr), f(momentum), f(1 - dampening), f(weight_decay), maximize, nesterov,
                    first)
