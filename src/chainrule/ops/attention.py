"""Scaled dot-product attention as one fused op: softmax(q k^T * scale + mask) v.

Forward works on arrays (two batched GEMMs and a stable softmax) and keeps only each row's
log-sum-exp, as PyTorch's CPU flash attention does: backward recomputes the probabilities
(one more small batched GEMM) rather than holding a (..., L, S) array per layer from forward to
backward. Without ``create_graph`` backward runs on arrays; under it, the tensor formula
recomputes the probabilities with tensor ops, so gradients of gradients are exact.
"""

import math

import numpy as np

from .. import kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ..creation import ones
from ..kernels import threads
from ..random import numpy_generator
from ..tensor import Tensor
from ._operands import wrap
from .elementwise import where
from .registry import register
from .shape import tril
from .softmax import softmax


class ScaledDotProductAttention(Function):
    """y = (P * D) v with P = softmax(q k^T * scale + M) (M the additive mask, D the scaled
    dropout keep-mask);  dv = (P D)^T dy,  dP = (dy v^T) * D,
    dS = P * (dP - rowsum(dP * P)),  dq = dS k * scale,  dk = dS^T q * scale.
    With ``need_weights`` it also returns P * D (a second output whose gradient adds to dP)."""

    @staticmethod
    def forward(ctx, query, key, value, *, mask, keep, scale, need_weights):
        ctx.mask, ctx.keep, ctx.scale = mask, keep, scale
        ctx.save_for_backward(query, key, value)
        out, weights, ctx.lse = _forward_arrays(query._data, key._data, value._data, mask, keep,
                                                scale, need_weights)
        return (wrap(out), wrap(weights)) if need_weights else wrap(out)

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        q, k, v = ctx.saved_tensors
        if not grad_mode.is_grad_enabled():
            return _backward_arrays(ctx, q._data, k._data, v._data, grad_out._data,
                                    None if grad_weights is None else grad_weights._data)
        # create_graph: P must depend on q and k in the graph
        scores = q.matmul(k.transpose(-2, -1)) * ctx.scale
        if ctx.mask is not None:
            scores = scores + wrap(ctx.mask)
        probs = softmax(scores, dim=-1)
        keep = wrap(ctx.keep) if ctx.keep is not None else None
        weights = probs * keep if keep is not None else probs
        grad_query = grad_key = grad_value = None
        if ctx.needs_input_grad[2]:
            grad_value = weights.transpose(-2, -1).matmul(grad_out)
        if ctx.needs_input_grad[0] or ctx.needs_input_grad[1]:
            grad_w = grad_out.matmul(v.transpose(-2, -1))
            if grad_weights is not None:
                grad_w = grad_w + grad_weights
            grad_p = grad_w * keep if keep is not None else grad_w
            grad_scores = probs * (grad_p - (grad_p * probs).sum(-1, keepdim=True)) * ctx.scale
            if ctx.needs_input_grad[0]:
                grad_query = grad_scores.matmul(k)
            if ctx.needs_input_grad[1]:
                grad_key = grad_scores.transpose(-2, -1).matmul(q)
        return grad_query, grad_key, grad_value


class _Batch:
    """The arrays of one attention call broadcast to a common batch shape (views, no copies;
    at least one batch axis), cut into ranges of the first batch axis: heads and batch items
    are independent, so ranges run side by side (``threads.parallel_gemms``)."""

    def __init__(self, *arrays):
        shapes = [a.shape[:-2] for a in arrays if a is not None]
        self.shape = np.broadcast_shapes(*shapes)
        self.invented = not self.shape  # unbatched (2-D) inputs get a batch axis of one
        self.shape = self.shape or (1,)
        self.arrays = [None if a is None else np.broadcast_to(a, self.shape + a.shape[-2:])
                       for a in arrays]

    def rows(self, start, stop):
        return [None if a is None else a[start:stop] for a in self.arrays]

    def empty(self, like, rows, columns):
        """An output (batch..., rows, columns) laid out in memory as ``like`` (a query with
        the sequence outermost gets an output the caller merges heads from without a copy)."""
        shape = self.shape + (rows, columns)
        if like.shape[:-2] == self.shape:
            return np.empty_like(like, shape=shape)
        return np.empty(shape, like.dtype)

    def unbatched(self, array):
        """``array`` without the batch axis added for unbatched (2-D) inputs."""
        return array[0] if array is not None and self.invented else array


def _probabilities(scores, mask, scale, lse=None):
    """softmax(scores * scale + mask) in place on ``scores`` and each row's log-sum-exp; with
    ``lse`` (forward's) the probabilities are rebuilt from it instead."""
    scores *= np.asarray(scale, dtype=scores.dtype)
    if mask is not None:
        scores += mask
    # (a row masked out entirely gives NaN, as in PyTorch, without a warning)
    with np.errstate(divide="ignore", invalid="ignore"):
        if lse is not None:
            scores -= lse
            return np.exp(scores, out=scores), lse
        shift = scores.max(axis=-1, keepdims=True)
        shift[~np.isfinite(shift)] = 0  # a row masked out entirely: its sum is 0
        scores -= shift
        np.exp(scores, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        row_lse = np.log(total) + shift  # per row: what backward needs to rebuild probs
        return np.divide(scores, total, out=scores), row_lse


def _softmax_backward(probs, grad_p):
    """dS = P (dP - rowsum(dP P)), in place on ``grad_p``."""
    row = np.sum(grad_p * probs, axis=-1, keepdims=True)
    grad_p -= row
    return np.multiply(grad_p, probs, out=grad_p)


def _softmax_path(batch, q, k, v, mask):
    """(probabilities, softmax_backward, mask argument) for this call: the compiled kernels
    (``kernels/attention.py``) when they apply, with the mask as one (L, S) matrix shared by
    the whole batch; the NumPy functions above, with the mask cut per range, otherwise."""
    length, source = q.shape[-2], k.shape[-2]
    shared = None
    if mask is not None and all(size == 1 for size in mask.shape[:-2]):
        matrix = np.broadcast_to(mask, mask.shape[:-2] + (length, source))
        shared = np.ascontiguousarray(matrix.reshape(length, source))
    fast = None
    if mask is None or shared is not None:
        fast = kernels.load("attention", q, k, v, *([] if shared is None else [shared]))
    if fast is None:
        return _probabilities, _softmax_backward, None
    return fast.probabilities, fast.softmax_backward, shared


def _forward_arrays(q, k, v, mask, keep, scale, need_weights):
    """out = (P * keep) v and each row's log-sum-exp, range by range of the batch."""
    batch = _Batch(q, k, v, mask, keep)
    probabilities, _, shared = _softmax_path(batch, q, k, v, mask)
    length, source = q.shape[-2], k.shape[-2]
    out = batch.empty(q, length, v.shape[-1])
    lse = np.empty(batch.shape + (length, 1), q.dtype)
    weights_out = np.empty(batch.shape + (length, source), q.dtype) if need_weights else None

    def task(start, stop, matmul):
        q, k, v, mask, keep = batch.rows(start, stop)
        scores = matmul(q, np.swapaxes(k, -1, -2))
        probs, lse[start:stop] = probabilities(scores, mask if shared is None else shared,
                                               scale)
        weights = probs * keep if keep is not None else probs
        matmul(weights, v, out[start:stop])
        if need_weights:
            weights_out[start:stop] = weights

    threads.parallel_gemms(task, batch.shape[0], _macs(batch, q, k, v))
    return batch.unbatched(out), batch.unbatched(weights_out), lse


def _macs(batch, q, k, v):
    """Multiply-adds of one pass (q k^T and P v) over the whole batch."""
    return int(np.prod(batch.shape)) * q.shape[-2] * k.shape[-2] * (q.shape[-1] + v.shape[-1])


def _backward_arrays(ctx, q, k, v, grad_out, grad_weights):
    """NOTE: the backward above on arrays when nobody differentiates it (no tensors recorded,
    temporaries reused), range by range of the batch: P rebuilt from forward's log-sum-exp,
    dS by the softmax backward. Gradients have the batch shape; the engine sums broadcast
    ones back to their input's shape."""
    batch = _Batch(q, k, v, ctx.mask, ctx.keep, grad_out, grad_weights, ctx.lse)
    probabilities, softmax_backward, shared = _softmax_path(batch, q, k, v, ctx.mask)
    needs_q, needs_k, needs_v = ctx.needs_input_grad[:3]
    grad_query = batch.empty(q, q.shape[-2], q.shape[-1]) if needs_q else None
    grad_key = batch.empty(k, k.shape[-2], k.shape[-1]) if needs_k else None
    grad_value = batch.empty(v, v.shape[-2], v.shape[-1]) if needs_v else None
    scale = np.asarray(ctx.scale, dtype=q.dtype)  # (a Python float would make float64)

    def task(start, stop, matmul):
        q, k, v, mask, keep, grad, grad_w, lse = batch.rows(start, stop)
        probs, _ = probabilities(matmul(q, np.swapaxes(k, -1, -2)),
                                 mask if shared is None else shared, ctx.scale, lse)
        weights = probs * keep if keep is not None else probs
        if needs_v:
            matmul(np.swapaxes(weights, -1, -2), grad, grad_value[start:stop])
        if not (needs_q or needs_k):
            return
        grad_p = matmul(grad, np.swapaxes(v, -1, -2))
        if grad_w is not None:
            grad_p += grad_w
        if keep is not None:
            grad_p *= keep
        grad_scores = softmax_backward(probs, grad_p)  # dq = dS k scale, dk = dS^T q scale
        for needed, grad_input, left, right in ((needs_q, grad_query, grad_scores, k),
                                                 (needs_k, grad_key,
                                                  np.swapaxes(grad_scores, -1, -2), q)):
            if needed:
                rows = matmul(left, right, grad_input[start:stop])
                rows *= scale

    threads.parallel_gemms(task, batch.shape[0], 2 * _macs(batch, q, k, v))
    return tuple(None if g is None else wrap(batch.unbatched(g))
                 for g in (grad_query, grad_key, grad_value))


def attention_mask(query, key, attn_mask=None, is_causal=False):
    """The additive float mask (or None) for boolean (True = take part) or float masks, as the
    array of a tensor made with tensor ops: the ONNX exporter follows it from the inputs."""
    dtype = query._data.dtype
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                               "is_causal=True, not both")
        attn_mask = tril(ones(length, source, dtype=bool))
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, Tensor):
        attn_mask = wrap(np.asarray(attn_mask))
    if attn_mask._data.dtype == np.bool_:
        attn_mask = where(attn_mask, 0.0, float("-inf"))
    return attn_mask.to(dtype)._data


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(q k^T / sqrt(E) + mask) v over (..., L, E) queries and (..., S, E) keys.

    A boolean ``attn_mask`` marks with True the positions that take part; a float one is added
    to the scores. ``is_causal`` lets position i attend to positions <= i only.
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be at least 2-D "
                               f"(..., length, features), got shape {tuple(t.shape)}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            "scaled_dot_product_attention: expected query (..., L, E), key (..., S, E) and "
            f"value (..., S, Ev), got {tuple(query.shape)}, {tuple(key.shape)} and "
            f"{tuple(value.shape)}"
        )
    if len({query.dtype, key.dtype, value.dtype}) != 1:
        raise RuntimeError("scaled_dot_product_attention: query, key and value must have the "
                           f"same dtype, got {query.dtype}, {key.dtype} and {value.dtype}")
    if enable_gqa:
        key, value = _repeat_heads(key, query.shape[-3]), _repeat_heads(value, query.shape[-3])
    mask = attention_mask(query, key, attn_mask, is_causal)
    return attend(query, key, value, mask, dropout_p,
                  1.0 / math.sqrt(query.shape[-1]) if scale is None else scale, False)


def _repeat_heads(tensor, heads):
    """(..., Hk, S, E) -> (..., heads, S, E), each key/value head shared by heads / Hk queries."""
    shape = tuple(tensor.shape)
    if heads % shape[-3]:
        raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa, the query's {heads} "
                           f"heads must be a multiple of the key/value heads ({shape[-3]})")
    groups = heads // shape[-3]
    expanded = tensor.unsqueeze(-3).expand(shape[:-2] + (groups,) + shape[-2:])
    return expanded.reshape(shape[:-3] + (heads,) + shape[-2:])


def attend(query, key, value, mask, dropout_p, scale, need_weights):
    """The fused op with an additive mask array already built (MultiheadAttention uses this)."""
    keep = None
    if dropout_p > 0:
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
        shape = batch + (query.shape[-2], key.shape[-2])
        dtype = query._data.dtype
        keep = (numpy_generator().random(shape) >= dropout_p).astype(dtype)
        if dropout_p < 1:  # (p=1 drops every weight: zeros, as F.dropout gives, not 0/0)
            keep /= np.asarray(1.0 - dropout_p, dtype=dtype)
    return ScaledDotProductAttention.apply(query, key, value, mask=mask, keep=keep, scale=scale,
                                           need_weights=need_weights)


register(scaled_dot_product_attention, ScaledDotProductAttention, top=False, method=False,
         functional=True)
