"""Dropout: zero elements at random while training, scaling the rest by 1 / (1 - p)."""

import numpy as np

from ...ops.inplace import modify_in_place
from ...ops.registry import register
from ...random import numpy_generator
from ...tensor import Tensor


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` (drawn from the default generator) and scale
    the kept ones by 1 / (1 - p), so the expected value is unchanged; identity when not
    ``training``."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    data = input._data
    if p == 1.0:
        scale = np.zeros(data.shape, dtype=data.dtype)
    else:
        draws = numpy_generator().random(data.shape, dtype=np.float32)
        scale = (draws >= p).astype(data.dtype) * np.asarray(1.0 / (1.0 - p), dtype=data.dtype)
    mask = Tensor._from_array(scale)  # a constant: the gradient is dy * mask
    if inplace:
        return modify_in_place(input, lambda x: x * mask)
    return input * mask


register(dropout, top=False, method=False, functional=True)
