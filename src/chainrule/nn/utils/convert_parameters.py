"""Flattening parameters into one vector and back (for second-order methods, line search)."""

from ...ops.join import cat
from ...ops.shape import reshape
from ...tensor import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one 1-D tensor (differentiable)."""
    return cat([reshape(p, -1) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter take its slice of ``vec``'s values (the parameters then share
    memory with ``vec``, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected vec to be a Tensor, but got type {type(vec).__name__}")
    if vec.dim() != 1:
        raise RuntimeError(f"vec must be 1-D, got shape {tuple(vec.shape)}")
    parameters = list(parameters)
    needed = sum(p.numel() for p in parameters)
    if needed != vec.numel():
        raise RuntimeError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters need "
            f"{needed}"
        )
    pointer = 0
    for param in parameters:
        count = param.numel()
        param._data = vec._data[pointer:pointer + count].reshape(param._data.shape)
        pointer += count
