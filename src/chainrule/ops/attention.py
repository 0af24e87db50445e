"""Scaled dot-product attention as one fused op: softmax(q k^T * scale + mask) v.

Forward works on arrays (two batched GEMMs and a stable softmax) and keeps the probabilities
for backward. Backward is written with differentiable tensor ops; under ``create_graph=True`` it
recomputes the probabilities from q and k with tensor ops, so gradients of gradients are exact.
"""

import math

import numpy as np

from ..autograd import grad_mode
from ..autograd.function import Function
from ..random import numpy_generator
from ..tensor import Tensor
from ._operands import wrap
from .registry import register
from .softmax import softmax


class ScaledDotProductAttention(Function):
    """y = (P * D) v with P = softmax(q k^T * scale + M) (M the additive mask, D the scaled
    dropout keep-mask);  dv = (P D)^T dy,  dP = (dy v^T) * D,
    dS = P * (dP - rowsum(dP * P)),  dq = dS k * scale,  dk = dS^T q * scale.
    With ``need_weights`` it also returns P * D (a second output whose gradient adds to dP)."""

    @staticmethod
    def forward(ctx, query, key, value, *, mask, keep, scale, need_weights):
        q, k, v = query._data, key._data, value._data
        scores = np.matmul(q, np.swapaxes(k, -1, -2))
        scores *= np.asarray(scale, dtype=scores.dtype)
        if mask is not None:
            scores = scores + mask
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        probs = scores / scores.sum(axis=-1, keepdims=True)
        weights = probs * keep if keep is not None else probs
        ctx.mask, ctx.keep, ctx.scale = mask, keep, scale
        ctx.save_for_backward(query, key, value)
        ctx.probs = probs
        out = wrap(np.matmul(weights, v))
        return (out, wrap(weights)) if need_weights else out

    @staticmethod
    def backward(ctx, grad_out, grad_weights=None):
        q, k, v = ctx.saved_tensors
        if grad_mode.is_grad_enabled():  # create_graph: P must depend on q and k in the graph
            scores = q.matmul(k.transpose(-2, -1)) * ctx.scale
            if ctx.mask is not None:
                scores = scores + wrap(ctx.mask)
            probs = softmax(scores, dim=-1)
        else:
            probs = wrap(ctx.probs)
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


def attention_mask(query, key, attn_mask=None, is_causal=False):
    """The additive float mask (or None) for boolean (True = take part) or float masks."""
    dtype = query._data.dtype
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("scaled_dot_product_attention: pass either attn_mask or "
                               "is_causal=True, not both")
        allowed = np.tril(np.ones((length, source), dtype=bool))
        return np.where(allowed, 0.0, -np.inf).astype(dtype)
    if attn_mask is None:
        return None
    array = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
    if array.dtype == np.bool_:
        return np.where(array, 0.0, -np.inf).astype(dtype)
    return array.astype(dtype, copy=False)


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
