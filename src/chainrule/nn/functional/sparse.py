"""Lookups: ``embedding`` (rows of a table by index) and ``one_hot``."""

import numpy as np

from ...ops.registry import register
from ...tensor import Tensor


def _check_indices(op, input, num_rows=None):
    if not isinstance(input, Tensor) or input._data.dtype.kind not in "iu":
        kind = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise RuntimeError(
            f"{op}: expected an integer (Long) index tensor, got {kind}; use indices.long()"
        )
    if num_rows is not None and input._data.size:
        low, high = int(input._data.min()), int(input._data.max())
        if low < 0 or high >= num_rows:
            bad = low if low < 0 else high
            raise IndexError(
                f"{op}: index {bad} is out of range for a table of {num_rows} rows "
                f"(valid: 0 to {num_rows - 1})"
            )


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` at the integer indices ``input``: output shape input.shape + (dim,).

    The row at ``padding_idx`` gets no gradient; ``max_norm`` first rescales (in place) the
    looked-up rows whose ``norm_type``-norm exceeds it; ``scale_grad_by_freq`` divides each
    row's gradient by how often its index occurs in ``input``. ``sparse=True`` is accepted,
    but the gradient is a dense tensor."""
    _check_indices("embedding", input, weight.shape[0])
    indices = input._data.astype(np.int64, copy=False)
    if padding_idx is not None:
        if not -weight.shape[0] <= padding_idx < weight.shape[0]:
            raise ValueError("Padding_idx must be within num_embeddings")
        padding_idx %= weight.shape[0]
    if max_norm is not None:
        _renorm_rows(weight, np.unique(indices), max_norm, norm_type)
    rows = weight[indices]
    if not rows.requires_grad or (padding_idx is None and not scale_grad_by_freq):
        return rows
    # Scale the gradient that reaches the lookup; forward values stay exactly weight's rows.
    factor = np.ones(indices.shape, dtype=weight._data.dtype)
    if scale_grad_by_freq:
        _, inverse, counts = np.unique(indices, return_inverse=True, return_counts=True)
        factor /= counts[inverse.reshape(indices.shape)]
    if padding_idx is not None:
        factor[indices == padding_idx] = 0
    factor = Tensor._from_array(factor[..., None])
    rows.register_hook(lambda grad: grad * factor)
    return rows


def _renorm_rows(weight, rows, max_norm, norm_type):
    """Scale ``weight[rows]`` in place so that no row's norm exceeds ``max_norm``."""
    table = weight._data
    norms = np.linalg.norm(table[rows], ord=norm_type, axis=-1)
    too_long = norms > max_norm
    if np.any(too_long):
        picked = rows[too_long]
        scale = (max_norm / (norms[too_long] + 1e-7)).astype(table.dtype)
        table[picked] *= scale[:, None]
        weight._bump_version()


def one_hot(tensor, num_classes=-1):
    """int64 tensor with a trailing dim of ``num_classes`` holding 1 at each index
    (``num_classes=-1``: max index + 1)."""
    _check_indices("one_hot", tensor)
    data = tensor._data
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and (data.min() < 0 or data.max() >= num_classes):
        raise RuntimeError(
            f"one_hot: class values must be in [0, {num_classes}), got values from "
            f"{int(data.min())} to {int(data.max())}"
        )
    out = (data[..., None] == np.arange(num_classes)).astype(np.int64)
    return Tensor._from_array(out)


register(embedding, top=False, method=False, functional=True)
register(one_hot, top=False, method=False, functional=True)
