"""Differentiable operations, one module per family; importing a module attaches its Tensor
methods. Fused neural-network primitives (activations, losses, normalisation, convolution,
pooling, recurrent cells, attention) live beside the basic families."""

from . import activation, nn_linear  # noqa: I001 (one line per helper's additions)
from . import elementwise, index, linalg, loss, normalization, reduce, shape
from . import attention, conv, pooling, recurrent
