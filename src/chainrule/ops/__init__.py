"""Differentiable operations, one module per family; importing a module attaches its Tensor
methods. Fused neural-network primitives (activations, losses, normalisation, convolution,
pooling, recurrent cells, attention) live beside the basic families."""

from . import (
    activation,
    attention,
    conv,
    elementwise,
    index,
    join,
    linalg,
    loss,
    nn_linear,
    normalization,
    pooling,
    recurrent,
    reduce,
    regression_loss,
    shape,
    softmax,
)
