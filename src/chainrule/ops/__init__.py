"""Differentiable operations, one module per family. Each op registers itself once
(``registry.register``), which makes it reachable as ``chainrule.X``, ``Tensor.X`` and
``nn.functional.X`` where PyTorch has it. Fused neural-network primitives (activations, losses,
normalisation, convolution, pooling, recurrent cells, attention) live beside the basic
families."""

from . import (
    activation,
    attention,
    conv,
    ctc,
    elementwise,
    index,
    inplace,
    join,
    linalg,
    loss,
    nn_linear,
    normalization,
    pooling,
    pooling_more,
    recurrent,
    reduce,
    regression_loss,
    shape,
    softmax,
    sort,
)

