"""Functional attention: ``scaled_dot_product_attention`` (the fused op in
``chainrule.ops.attention``) and ``multi_head_attention_forward``, the computation of
``nn.MultiheadAttention`` with every weight passed in, as in PyTorch."""

import math

import numpy as np

from ..._dtypes import is_float
from ...ops.attention import attend
from ...ops.elementwise import where
from ...ops.join import cat, split
from ...ops.nn_linear import linear
from ...ops.registry import register
from ...ops.shape import pad
from ...tensor import Tensor


def _as_tensor(mask):
    return mask if isinstance(mask, Tensor) else Tensor._from_array(np.asarray(mask))


def _additive(mask, dtype, name):
    """A float tensor to add to the scores, for a mask where True (bool) means *masked out*
    (tensor ops, so that the ONNX exporter follows a mask computed from the inputs)."""
    mask = _as_tensor(mask)
    if mask._data.dtype == np.bool_:
        return where(mask, float("-inf"), 0.0).to(dtype)
    if not is_float(mask._data.dtype):
        raise RuntimeError(f"MultiheadAttention: only bool and floating types of {name} are "
                           f"supported, got {mask._data.dtype}")
    return mask.to(dtype)


def _scores_mask(attn_mask, key_padding_mask, batch, heads, length, source, dtype):
    """One additive (N, heads, L, S) array (or None) from both masks."""
    mask = None
    if attn_mask is not None:
        mask = _additive(attn_mask, dtype, "attn_mask")
        if mask.shape == (length, source):
            mask = mask.reshape(1, 1, length, source)
        elif mask.shape == (batch * heads, length, source):
            mask = mask.reshape(batch, heads, length, source)
        else:
            raise RuntimeError(
                f"MultiheadAttention: attn_mask should have shape {(length, source)} or "
                f"{(batch * heads, length, source)}, got {tuple(mask.shape)}")
    if key_padding_mask is not None:
        padding = _additive(key_padding_mask, dtype, "key_padding_mask")
        if padding.shape != (batch, source):
            raise RuntimeError(f"MultiheadAttention: key_padding_mask should have shape "
                               f"{(batch, source)}, got {tuple(padding.shape)}")
        padding = padding.reshape(batch, 1, 1, source)
        mask = padding if mask is None else mask + padding
    return None if mask is None else mask._data


def _pad_last(mask):
    """A mask with one more (unmasked) source position, for an appended key."""
    if mask is None:
        return None
    return pad(_as_tensor(mask), (0, 1))


def _projections(embed_dim, in_proj_weight, in_proj_bias, separate, q_proj_weight,
                 k_proj_weight, v_proj_weight):
    e = embed_dim
    if separate:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        weights = (in_proj_weight[:e], in_proj_weight[e:2 * e], in_proj_weight[2 * e:])
    if in_proj_bias is None:
        return [(w, None) for w in weights]
    b = in_proj_bias
    return list(zip(weights, (b[:e], b[e:2 * e], b[2 * e:])))


def _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias, separate,
             q_proj_weight, k_proj_weight, v_proj_weight):
    """q, k, v = the input projections. NOTE: self-attention (query is key is value, one
    packed weight) is one GEMM of width 3E whose output is split into views, as PyTorch does;
    backward joins the three gradients (one 2048 x 384 x 128 product for the input's gradient
    instead of three and two sums of them, one for the weight's instead of three and a zero
    copy of the packed weight per slice); on two threads one handoff to the pool instead of
    three. This was slower before ``kernels/heap.py`` kept freed memory (its 3 MB arrays were
    page-faulted in every step); measured since, gpt step at one thread, CPU time at real-time
    priority, three alternations: 156/154/152 ms three GEMMs, 153/152/130 packed."""
    if not separate and query is key and key is value:
        return split(linear(query, in_proj_weight, in_proj_bias), embed_dim, dim=-1)
    (wq, bq), (wk, bk), (wv, bv) = _projections(embed_dim, in_proj_weight, in_proj_bias,
                                                 separate, q_proj_weight, k_proj_weight,
                                                 v_proj_weight)
    return linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention of (L, N, E) query over (S, N, E) keys and values (or unbatched
    (L, E), (S, E)): project, split into heads, attend, merge, project out. ``bias_k`` and
    ``bias_v`` append one learned key and value; ``add_zero_attn`` appends a zero one;
    ``static_k``/``static_v`` (N * heads, S, E / heads) replace the projected keys/values.
    Returns (output, weights averaged over heads, or per head, or None)."""
    return batched_attention(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
        key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
        k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal,
        batch_first=False)


def batched_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight,
                      in_proj_bias, bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight,
                      out_proj_bias, training, key_padding_mask, need_weights, attn_mask,
                      use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight,
                      static_k, static_v, average_attn_weights, is_causal, batch_first):
    """``multi_head_attention_forward``, for inputs (N, L, E) as well with ``batch_first``
    (``MultiheadAttention(batch_first=True)``). NOTE: batch-first inputs are worked on in
    their own layout rather than transposed to (L, N, E): a transposed input made every
    projection copy it (forward, and again for its weight's gradient), and the heads split
    and merge as views either way (gpt step, 1 thread: -9 ms of copies)."""
    if is_causal and attn_mask is None:
        raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal hint "
                           "(pass the causal mask itself as attn_mask)")
    batched = query.dim() == 3
    if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
        raise RuntimeError(
            "MultiheadAttention: query, key and value must all be 3-D (batched) or all 2-D "
            f"(unbatched), got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
            f"{tuple(value.shape)}")
    if not batched:
        batch_first = False
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    seq_axis = 1 if batch_first else 0  # (N, L, E) or (L, N, E)
    length, batch, embed_dim = query.shape[seq_axis], query.shape[1 - seq_axis], query.shape[2]
    if embed_dim != embed_dim_to_check:
        raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of "
                           f"{embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise RuntimeError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    q, k, v = _project(query, key, value, embed_dim, in_proj_weight, in_proj_bias,
                       use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight)
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise RuntimeError("bias cannot be added to static key/value.")
        one = (batch, 1, embed_dim) if batch_first else (1, batch, embed_dim)
        k = cat([k, bias_k.reshape(1, 1, embed_dim).expand(one)], dim=seq_axis)
        v = cat([v, bias_v.reshape(1, 1, embed_dim).expand(one)], dim=seq_axis)
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)

    def heads(x):  # (S, N, E) or (N, S, E) -> (N, heads, S, head_dim): views, never a copy
        if batch_first:
            return x.reshape(batch, x.shape[1], num_heads, head_dim).permute(0, 2, 1, 3)
        return x.reshape(x.shape[0], batch, num_heads, head_dim).permute(1, 2, 0, 3)

    def static(x):  # PyTorch's layout (N * heads, S, head_dim) -> (N, heads, S, head_dim)
        return x.reshape(batch, num_heads, x.shape[1], head_dim)

    q, k, v = heads(q), heads(k) if static_k is None else static(static_k), (
        heads(v) if static_v is None else static(static_v))
    if add_zero_attn:
        k = pad(k, (0, 0, 0, 1))  # one more source position of zeros
        v = pad(v, (0, 0, 0, 1))
        attn_mask, key_padding_mask = _pad_last(attn_mask), _pad_last(key_padding_mask)
    source = k.shape[2]
    mask = _scores_mask(attn_mask, key_padding_mask, batch, num_heads, length, source,
                        query._data.dtype)
    dropout = dropout_p if training else 0.0
    result = attend(q, k, v, mask, dropout, 1.0 / math.sqrt(head_dim), need_weights)
    out, weights = result if need_weights else (result, None)
    if batch_first:  # (a view when the output is laid out as q is: attend sees to that)
        out = out.permute(0, 2, 1, 3).reshape(batch, length, embed_dim)
    else:
        out = out.permute(2, 0, 1, 3).reshape(length, batch, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(dim=1)
    if not batched:
        out = out.squeeze(1)
        weights = weights.squeeze(0) if weights is not None else None
    return out, weights


register(multi_head_attention_forward, top=False, method=False, functional=True)
