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
from ..kernels.threads import blas_matmul
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
        q, k, v = query._data, key._data, value._data
        scores = blas_matmul(q, np.swapaxes(k, -1, -2))
        scores *= np.asarray(scale, dtype=scores.dtype)
        if mask is not None:
            scores = scores + mask
        shift = scores.max(axis=-1, keepdims=True)
        shift[~np.isfinite(shift)] = 0  # a row masked out entirely: its sum is 0, probs NaN
        scores -= shift
        np.exp(scores, out=scores)
        total = scores.sum(axis=-1, keepdims=True)
        probs = np.divide(scores, total, out=scores)
        weights = probs * keep if keep is not None else probs
        ctx.mask, ctx.keep, ctx.scale = mask, keep, scale
        ctx.save_for_backward(query, key, value)
        with np.errstate(divide="ignore"):
            ctx.lse = np.log(total) + shift  # per row: what backward needs to rebuild probs
        out = wrap(blas_matmul(weights, v))
        return (out, wrap(weights)) if need_weights else out

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


def _backward_arrays(ctx, q, k, v, grad_out, grad_weights):
    """NOTE: the backward above on arrays when nobody differentiates it (no tensors recorded,
    temporaries reused): P rebuilt from forward's log-sum-exp, dS by the softmax backward."""
    scores = blas_matmul(q, np.swapaxes(k, -1, -2))
    scores *= np.asarray(ctx.scale, dtype=scores.dtype)
    if ctx.mask is not None:
        scores = scores + ctx.mask
    scores -= ctx.lse
    probs = np.exp(scores, out=scores)
    weights = probs * ctx.keep if ctx.keep is not None else probs
    needs_q, needs_k, needs_v = ctx.needs_input_grad[:3]
    grad_query = grad_key = grad_value = None
    if needs_v:
        grad_value = wrap(blas_matmul(np.swapaxes(weights, -1, -2), grad_out))
    if needs_q or needs_k:
        grad_p = blas_matmul(grad_out, np.swapaxes(v, -1, -2))
        if grad_weights is not None:
            grad_p += grad_weights
        if ctx.keep is not None:
            grad_p *= ctx.keep
        fast = kernels.load("softmax", probs, grad_p)
        if fast is not None:
            grad_scores = fast.softmax_backward(probs, grad_p, log=False)
        else:  # dS = P (dP - rowsum(dP P))
            row = np.sum(grad_p * probs, axis=-1, keepdims=True)
            grad_p -= row
            grad_scores = np.multiply(grad_p, probs, out=grad_p)
        grad_scores *= np.asarray(ctx.scale, dtype=grad_scores.dtype)
        if needs_q:
            grad_query = wrap(blas_matmul(grad_scores, k))
        if needs_k:
            grad_key = wrap(blas_matmul(np.swapaxes(grad_scores, -1, -2), q))
    return grad_query, grad_key, grad_value


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
        keep /= np.asarray(1.0 - dropout_p, dtype=dtype)
    return ScaledDotProductAttention.apply(query, key, value, mask=mask, keep=keep, scale=scale,
                                           need_weights=need_weights)


register(scaled_dot_product_attention, ScaledDotProductAttention, top=False, method=False,
         functional=True)
