"""``MultiheadAttention`` with PyTorch's parameters (in_proj_weight, in_proj_bias, out_proj),
initialisation, mask conventions and return values; attention itself is the fused op in
``chainrule.ops.attention``."""

import math

import numpy as np

from ... import creation
from ...ops.attention import attend
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .linear import Linear
from .module import Module

__all__ = ["MultiheadAttention"]


def _additive(mask, dtype, name):
    """A float array to add to the scores, for a mask where True (bool) means *masked out*."""
    array = mask._data if hasattr(mask, "_data") else np.asarray(mask)
    if array.dtype == np.bool_:
        return np.where(array, -np.inf, 0.0).astype(dtype)
    if array.dtype.kind != "f":
        raise RuntimeError(f"MultiheadAttention: only bool and floating types of {name} are "
                           f"supported, got {array.dtype}")
    return array.astype(dtype, copy=False)


class MultiheadAttention(Module):
    """Attention over ``num_heads`` subspaces of ``embed_dim``, as in "Attention Is All You
    Need". Inputs are (L, N, E), or (N, L, E) with ``batch_first``, or unbatched (L, E).

    >>> attention = chainrule.nn.MultiheadAttention(16, 4)
    >>> x = chainrule.randn(5, 2, 16)
    >>> output, weights = attention(x, x, x)
    >>> output.shape, weights.shape
    (chainrule.Size([5, 2, 16]), chainrule.Size([2, 5, 5]))
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn:
            raise ValueError("MultiheadAttention: add_bias_kv and add_zero_attn are not "
                             "supported by chainrule; leave them False")
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = dropout, batch_first
        self.head_dim = embed_dim // num_heads
        empty = lambda *shape: Parameter(creation.empty(shape, dtype=dtype, device=device))  # noqa: E731
        if self._qkv_same_embed_dim:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, device=device, dtype=dtype)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self):
        # PyTorch: xavier_uniform_ projections, zero in-projection and out-projection biases
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _projections(self):
        e = self.embed_dim
        if self._qkv_same_embed_dim:
            weights = (self.in_proj_weight[:e], self.in_proj_weight[e:2 * e],
                       self.in_proj_weight[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        if self.in_proj_bias is None:
            return [(w, None) for w in weights]
        b = self.in_proj_bias
        return list(zip(weights, (b[:e], b[e:2 * e], b[2 * e:])))

    def _heads(self, x):
        """(L, N, E) -> (N, heads, L, head_dim)."""
        length, batch = x.shape[0], x.shape[1]
        return x.reshape(length, batch, self.num_heads, self.head_dim).permute(1, 2, 0, 3)

    def _mask(self, attn_mask, key_padding_mask, batch, length, source, dtype):
        """One additive (N, heads, L, S) array (or None) from both masks."""
        mask = None
        if attn_mask is not None:
            mask = _additive(attn_mask, dtype, "attn_mask")
            if mask.shape == (length, source):
                mask = mask.reshape(1, 1, length, source)
            elif mask.shape == (batch * self.num_heads, length, source):
                mask = mask.reshape(batch, self.num_heads, length, source)
            else:
                raise RuntimeError(
                    f"MultiheadAttention: attn_mask should have shape {(length, source)} or "
                    f"{(batch * self.num_heads, length, source)}, got {tuple(mask.shape)}"
                )
        if key_padding_mask is not None:
            padding = _additive(key_padding_mask, dtype, "key_padding_mask")
            if padding.shape != (batch, source):
                raise RuntimeError(f"MultiheadAttention: key_padding_mask should have shape "
                                   f"{(batch, source)}, got {tuple(padding.shape)}")
            padding = padding.reshape(batch, 1, 1, source)
            mask = padding if mask is None else mask + padding
        return mask

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if is_causal and attn_mask is None:
            raise RuntimeError("MultiheadAttention: need attn_mask if specifying the is_causal "
                               "hint (pass the causal mask itself as attn_mask)")
        batched = query.dim() == 3
        if query.dim() not in (2, 3) or key.dim() != query.dim() or value.dim() != query.dim():
            raise RuntimeError(
                "MultiheadAttention: query, key and value must all be 3-D (batched) or all 2-D "
                f"(unbatched), got shapes {tuple(query.shape)}, {tuple(key.shape)} and "
                f"{tuple(value.shape)}"
            )
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        if query.shape[-1] != self.embed_dim:
            raise RuntimeError(f"MultiheadAttention: was expecting embedding dimension of "
                               f"{self.embed_dim}, but got {query.shape[-1]}")
        length, batch, source = query.shape[0], query.shape[1], key.shape[0]
        (wq, bq), (wk, bk), (wv, bv) = self._projections()
        q = self._heads(F.linear(query, wq, bq))
        k = self._heads(F.linear(key, wk, bk))
        v = self._heads(F.linear(value, wv, bv))
        mask = self._mask(attn_mask, key_padding_mask, batch, length, source,
                          query._data.dtype)
        dropout = self.dropout if self.training else 0.0
        result = attend(q, k, v, mask, dropout, 1.0 / math.sqrt(self.head_dim), need_weights)
        out, weights = result if need_weights else (result, None)
        out = out.permute(2, 0, 1, 3).reshape(length, batch, self.embed_dim)
        out = self.out_proj(out)
        if weights is not None and average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0) if weights is not None else None
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, weights
