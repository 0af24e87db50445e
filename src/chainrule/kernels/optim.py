"""Optimizer updates in one pass over each parameter, in place.
References: ``optim/adam.py`` and ``optim/sgd.py`` (``_update`` on NumPy arrays); Adam's
takes all of a group's parameters in one call (``adam_many``)."""

import math

import numpy as np

from ._jit import jit, wide_vectors
from .threads import parallel_ranges


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
# NOTE: a pool thread starts its range 35-55 us after the caller starts its own (it takes the GIL
# first), and cut evenly, its range of the mlp's parameters ended ~100 us after the caller's: the
# work is cut as if this many more elements (~100 us) came last, which nobody runs, so the last
# range holds that much less. Measured on the loaded Xeon, the mlp's Adam step on two threads
# forced: 0.445-0.467 -> 0.403-0.422 ms (one thread: 0.47-0.50).
LATE_START = 131072


def adam_many(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, *, lr, beta1,
              beta2, eps, weight_decay, decoupled, maximize):
    """One Adam/AdamW step on lists of C-contiguous float32 arrays, in place
    (``max_exp_avg_sqs`` None unless AMSGrad); ``steps[i]`` is parameter i's count after this
    step (1 on the first). The parameters' elements are cut into ranges as one array, so a
    group of parameters that are each too small to split still uses the free cores; each
    parameter counts ``CALL_COST`` elements more than it has there, and the last range
    ``LATE_START`` fewer."""
    f = np.float32
    amsgrad = max_exp_avg_sqs is not None
    pieces, offset = [], 0
    for index, param in enumerate(params):
        flats = [a.reshape(-1) for a in (param, grads[index], exp_avgs[index],
                                          exp_avg_sqs[index])]
        flats.append(max_exp_avg_sqs[index].reshape(-1) if amsgrad else flats[2][:0])
        step = steps[index]
        offset += CALL_COST  # (then its elements)
        pieces.append((offset, flats, f(1 - beta1**step), f((1 - beta2**step) ** 0.5)))
        offset += param.size
    decay = 1.0 - lr * weight_decay if decoupled else 1.0
    # _adam_range's arguments: these, a parameter's two bias corrections, then ``last``
    settings = (f(lr), f(beta2), f(1 - beta1), f(1 - beta2), f(eps))
    last = (f(0.0 if decoupled else weight_decay), f(decay), maximize, amsgrad)
    parallel_ranges(_adam_pieces, offset + LATE_START, 8, pieces, settings, last)


def _adam_pieces(start, stop, part, pieces, settings, last):
    """``_adam_range`` on the part of each parameter that falls in ``[start, stop)`` of the
    parameters' elements laid end to end (a call's cost before each)."""
    for offset, flats, bias_correction1, bias_correction2_sqrt in pieces:
        size = flats[0].size
        lo, hi = max(start - offset, 0), min(stop - offset, size)
        if lo < hi:
            _adam_range(lo, hi, part, *flats, *settings, bias_correction1,
                        bias_correction2_sqrt, *last)


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
