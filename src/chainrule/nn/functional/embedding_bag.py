"""``embedding_bag``: sums, means or maxima of bags of embedding rows, without materialising
each bag's rows as a separate tensor (rows are gathered once, then summed per bag with one
``index_add``)."""

import numpy as np

from ...ops.join import stack
from ...ops.registry import register
from ...tensor import Tensor
from .sparse import _check_indices, embedding


def _bags(input, offsets, include_last_offset):
    """Flat indices and, per index, the bag it belongs to; and the number of bags."""
    data = input._data
    if data.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated "
                             "is a mini-batch of fixed length sequences. However, found offsets "
                             f"of type {type(offsets).__name__}")
        bags, length = data.shape
        return data.reshape(-1), np.repeat(np.arange(bags), length), bags
    if data.ndim != 1:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                         f"{data.ndim}")
    if offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    starts = (offsets._data if isinstance(offsets, Tensor) else np.asarray(offsets))
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    if include_last_offset:
        starts, end = starts[:-1], starts[-1]
        data = data[:end]
    if len(starts) and (starts[0] != 0 or (np.diff(starts) < 0).any()
                        or starts[-1] > len(data)):
        raise ValueError(f"offsets must start at 0, not decrease and stay within the input's "
                         f"{len(data)} indices, got {starts.tolist()}")
    owner = np.searchsorted(starts, np.arange(len(data)), side="right") - 1
    return data, owner, len(starts)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Per bag of indices, the 'sum', 'mean' or 'max' of their rows of ``weight``.

    Bags are the rows of a 2-D ``input``, or the slices of a 1-D ``input`` that start at
    ``offsets``. ``per_sample_weights`` scales each row (mode 'sum' only); indices equal to
    ``padding_idx`` are left out (and do not count in the mean); an empty bag gives zeros."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"mode has to be one of sum, mean or max, got {mode!r}")
    _check_indices("embedding_bag", input, weight.shape[0])
    flat, owner, count = _bags(input, offsets, include_last_offset)
    if padding_idx is not None:
        padding_idx %= weight.shape[0]
        keep = flat != padding_idx
    else:
        keep = np.ones(len(flat), dtype=bool)
    rows = embedding(Tensor._from_array(flat), weight, None, max_norm, norm_type,
                     scale_grad_by_freq)
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. "
                                      f"per_sample_weights is only supported for mode='sum' "
                                      f"(got mode='{mode}'). Please open a feature request on "
                                      f"GitHub.")
        rows = rows * per_sample_weights.reshape(-1)[:len(flat)].unsqueeze(1)
    chosen = np.flatnonzero(keep)
    rows = rows.index_select(0, Tensor._from_array(chosen))
    owner = owner[chosen]
    width = weight.shape[1]
    if mode == "max":
        empty = weight.new_zeros(width)
        pieces = [rows.index_select(0, Tensor._from_array(np.flatnonzero(owner == bag))).amax(0)
                  if (owner == bag).any() else empty for bag in range(count)]
        return stack(pieces)
    out = weight.new_zeros(count, width).index_add(0, Tensor._from_array(owner), rows)
    if mode == "mean":
        sizes = np.bincount(owner, minlength=count).astype(weight._data.dtype)
        out = out / Tensor._from_array(np.maximum(sizes, 1)[:, None])
    return out


register(embedding_bag, top=False, method=False, functional=True)
