"""Connectionist temporal classification loss: the forward-backward (alpha-beta) recursions
over the blank-extended target, in log space, fused into one op.

With l' the target with blanks around and between its labels (length 2S + 1), alpha[t, s]
is the log-probability of all partial alignments that are at l'[s] at time t, beta[t, s] of
all that finish from there (both include log_probs[t, l'[s]]), and the loss is
nll = -log(exp(alpha[T-1, L'-1]) + exp(alpha[T-1, L'-2]))."""

import numpy as np

from .._dtypes import is_float
from ..autograd.function import Function, once_differentiable
from ..tensor import Tensor
from ._operands import wrap
from .loss import _reduction
from .registry import register


def _extended(labels, blank):
    """l' = blank, l1, blank, l2, ..., lS, blank."""
    out = np.full(2 * len(labels) + 1, blank, dtype=np.int64)
    out[1::2] = labels
    return out


def _logsumexp(*terms):
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe = np.where(np.isfinite(top), top, 0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(stacked - safe).sum(axis=0))


def _alpha_beta(lp, ext, length):
    """alpha and beta (length, L') for one sample's log-probs lp (T, C), extended target ext."""
    size = len(ext)
    emit = lp[:length, ext]  # (t, s): log-prob of emitting l'[s] at t
    # a move from s - 2 skips a blank; allowed unless l'[s] is blank or repeats l'[s - 2]
    skip = np.zeros(size, dtype=bool)  # labels sit at odd s, blanks at even s
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    neg_inf = np.full(size, -np.inf, dtype=lp.dtype)
    alpha = np.full((length, size), -np.inf, dtype=lp.dtype)
    alpha[0, :2] = emit[0, :2]
    for t in range(1, length):
        prev = alpha[t - 1]
        one = np.concatenate([neg_inf[:1], prev[:-1]])
        two = np.where(skip, np.concatenate([neg_inf[:2], prev[:-2]]), -np.inf)
        alpha[t] = _logsumexp(prev, one, two) + emit[t]
    beta = np.full((length, size), -np.inf, dtype=lp.dtype)
    beta[-1, -2:] = emit[-1, -2:]
    skip_back = np.zeros(size, dtype=bool)  # a move from s + 2 into s skips a blank
    skip_back[:-2] = skip[2:]
    for t in range(length - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[1:], neg_inf[:1]])
        two = np.where(skip_back, np.concatenate([nxt[2:], neg_inf[:2]]), -np.inf)
        beta[t] = _logsumexp(nxt, one, two) + emit[t]
    return alpha, beta


class CtcLoss(Function):
    """y_n = -log p(target_n | log_probs[:, n]) summed over all alignments (alpha-beta);
    dlog_probs[t, n, c] = dy_n * (exp(log_probs[t, n, c]) - sum over s with l'[s] = c of
    exp(alpha[t, s] + beta[t, s] - log_probs[t, n, c] + y_n)), for t < T_n, 0 after.

    As in PyTorch, the gradient is the one of the loss as a function of the logits that a
    log_softmax turned into ``log_probs`` (it equals d loss / d log_probs plus softmax(...),
    which the log_softmax's backward removes): chain ``log_softmax`` before this op. The
    gradient is not itself differentiable (PyTorch's is not either)."""

    @staticmethod
    def forward(ctx, log_probs, *, targets, input_lengths, target_lengths, blank,
                zero_infinity):
        lp = log_probs._data  # (T, N, C)
        steps, batch, classes = lp.shape
        losses = np.zeros(batch, dtype=lp.dtype)
        grad = np.zeros_like(lp)
        for n in range(batch):
            length = int(input_lengths[n])
            ext = _extended(targets[n], blank)
            if length == 0:
                losses[n] = 0.0 if len(targets[n]) == 0 else np.inf
            else:
                alpha, beta = _alpha_beta(lp[:, n], ext, length)
                losses[n] = -_logsumexp(alpha[-1, -1], alpha[-1, -2] if len(ext) > 1
                                        else -np.inf)
                if np.isfinite(losses[n]):
                    posterior = np.zeros((length, classes), dtype=lp.dtype)
                    with np.errstate(under="ignore"):
                        share = np.exp(alpha + beta - lp[:length, n][:, ext] + losses[n])
                    np.add.at(posterior, (slice(None), ext), share)
                    grad[:length, n] = np.exp(lp[:length, n]) - posterior
            if zero_infinity and not np.isfinite(losses[n]):
                losses[n] = 0.0
                grad[:, n] = 0.0
        ctx.grad = grad
        return wrap(losses)

    @staticmethod
    @once_differentiable  # differentiating it again raises instead of giving zeros
    def backward(ctx, grad_out):
        return grad_out.unsqueeze(0).unsqueeze(2) * wrap(ctx.grad)


def _lengths(name, value, batch):
    array = value._data if isinstance(value, Tensor) else np.asarray(value)
    array = np.asarray(array).reshape(-1)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"ctc_loss: {name} must be integers, got {array.dtype}")
    if len(array) != batch:
        raise RuntimeError(f"ctc_loss: {name} must have one entry per batch element ({batch}), "
                           f"got {len(array)}")
    return array.astype(np.int64)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of (T, N, C) (or unbatched (T, C)) log-probabilities against targets given as
    (N, S) padded rows or one 1-D concatenation; 'mean' divides each loss by its target
    length, then averages over the batch."""
    reduction = _reduction("ctc_loss", None, None, reduction)
    unbatched = log_probs.dim() == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    if log_probs.dim() != 3 or not is_float(log_probs._data.dtype):
        raise RuntimeError(f"ctc_loss: log_probs must be a float (T, N, C) or (T, C) tensor, "
                           f"got shape {tuple(log_probs.shape)} ({log_probs.dtype})")
    steps, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"ctc_loss: blank must be in label range [0, {classes}), got {blank}")
    inputs = _lengths("input_lengths", input_lengths, batch)
    lengths = _lengths("target_lengths", target_lengths, batch)
    if (inputs > steps).any() or (inputs < 0).any():
        raise RuntimeError(f"ctc_loss: input_lengths must be in [0, {steps}] (the time "
                           f"steps of log_probs), got {inputs.tolist()}")
    flat = (targets._data if isinstance(targets, Tensor) else np.asarray(targets))
    if unbatched and flat.ndim == 1 and len(lengths) == 1:
        flat = flat.reshape(1, -1)
    rows = []
    offset = 0
    for n, length in enumerate(lengths):
        if flat.ndim == 2:
            if length > flat.shape[1]:
                raise RuntimeError(f"ctc_loss: target_lengths[{n}] = {length} exceeds the "
                                   f"targets' width {flat.shape[1]}")
            row = flat[n, :length]
        else:
            row = flat[offset:offset + length]
            offset += length
        if len(row) and ((row < 0).any() or (row >= classes).any() or (row == blank).any()):
            raise RuntimeError(f"ctc_loss: targets of sample {n} must be class indices in "
                               f"[0, {classes}) other than the blank {blank}")
        rows.append(np.asarray(row, dtype=np.int64))
    loss = CtcLoss.apply(log_probs, targets=rows, input_lengths=inputs, target_lengths=lengths,
                         blank=int(blank), zero_infinity=bool(zero_infinity))
    if reduction == "mean":
        divisor = np.maximum(lengths, 1).astype(log_probs._data.dtype)
        return (loss / wrap(divisor)).mean()
    if reduction == "sum":
        return loss.sum()
    return loss.squeeze(0) if unbatched else loss


register(ctc_loss, CtcLoss, top=False, method=False, functional=True)
