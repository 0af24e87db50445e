"""Collation: turning a list of samples into one batch, as PyTorch's ``default_collate`` does.

Tensors and arrays are stacked along a new first dimension; Python floats become a float64
tensor, ints int64 and bools bool (PyTorch's choice); strings stay a list; tuples, lists,
dicts and namedtuples are collated field by field. Batches are new tensors; only samples
that require grad are stacked inside the autograd graph.
"""

import collections.abc
import numbers

import numpy as np

from ..creation import from_numpy, tensor
from ..ops.join import stack
from ..tensor import Tensor

__all__ = ["default_collate", "default_convert"]


def _stack(arrays, what):
    _check_shapes(arrays, what)
    return from_numpy(np.stack(arrays))


def _check_shapes(arrays, what):
    shapes = {array.shape for array in arrays}
    if len(shapes) > 1:
        listed = ", ".join(str(tuple(array.shape)) for array in arrays)
        raise RuntimeError(
            f"default_collate: cannot stack {what} of different shapes into a batch: {listed}. "
            "Make every sample the same shape (pad or crop it), or pass a collate_fn that "
            "handles ragged samples"
        )


def _stack_in_graph(samples):
    # Rare (samples that require grad): keep the graph, as torch.stack would.
    _check_shapes([sample._data for sample in samples], "tensors")
    return stack(samples)


def _check_numeric(array):
    if array.dtype.kind in "USOV":
        raise TypeError(
            f"default_collate: found a NumPy array of dtype {array.dtype}; batches can only "
            "hold numeric arrays"
        )


def default_collate(batch):
    """Collate a list of samples into a batch (stacking along a new first dimension).

    >>> default_collate([(1.0, 2), (3.0, 4)])
    [tensor([1., 3.], dtype=chainrule.float64), tensor([2, 4])]
    """
    if not isinstance(batch, collections.abc.Sequence) or len(batch) == 0:
        raise TypeError("default_collate takes a non-empty list of samples")
    first = batch[0]
    if isinstance(first, Tensor):
        if any(isinstance(sample, Tensor) and sample.requires_grad for sample in batch):
            return _stack_in_graph(batch)
        return _stack([sample._data for sample in batch], "tensors")
    if isinstance(first, np.ndarray):
        _check_numeric(first)
        return _stack([np.asarray(sample) for sample in batch], "arrays")
    if isinstance(first, np.generic):
        array = np.asarray(batch)
        _check_numeric(array)
        return from_numpy(array)
    if isinstance(first, bool):
        return tensor(batch)
    if isinstance(first, numbers.Integral):
        return tensor(batch, dtype=np.int64)
    if isinstance(first, float):
        return tensor(batch, dtype=np.float64)
    if isinstance(first, (str, bytes)):
        return batch  # as PyTorch: the list given, or the tuple of a transposed field
    if isinstance(first, collections.abc.Mapping):
        fields = {key: default_collate([sample[key] for sample in batch]) for key in first}
        try:
            return type(first)(fields)
        except TypeError:  # a mapping type that cannot be built from a dict
            return fields
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # namedtuple
        return type(first)(*(default_collate(field) for field in zip(*batch)))
    if isinstance(first, collections.abc.Sequence):
        sizes = {len(sample) for sample in batch}
        if len(sizes) > 1:
            raise RuntimeError(
                f"default_collate: each sample in the batch should have the same number of "
                f"fields, got lengths {sorted(sizes)}"
            )
        fields = [default_collate(field) for field in zip(*batch)]
        if isinstance(first, tuple):
            return fields  # PyTorch returns a list for tuples
        try:
            return type(first)(fields)
        except TypeError:
            return fields
    raise TypeError(
        "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
        f"found {type(first).__name__}. Pass a collate_fn to handle other types"
    )


def default_convert(data):
    """Convert NumPy arrays in a sample to tensors (what the loader does when batch_size=None)."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if data.dtype.kind in "USOV" else from_numpy(data)
    if isinstance(data, np.generic) and data.dtype.kind not in "USOV":
        return from_numpy(np.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({key: default_convert(value) for key, value in data.items()})
        except TypeError:
            return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(value) for value in data))
    if isinstance(data, tuple):
        return [default_convert(value) for value in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([default_convert(value) for value in data])
        except TypeError:
            return [default_convert(value) for value in data]
    return data
