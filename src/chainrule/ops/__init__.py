"""Differentiable operations, one module per family. Each op registers itself once
(``registry.register``), which makes it reachable as ``chainrule.X``, ``Tensor.X`` and
``nn.functional.X`` where PyTorch has it. Fused neural-network primitives (activations, losses,
normalisation, convolution, pooling, recurrent cells, attention) live beside the basic
families."""

from . import (
    activation,
    arithmetic,
    attention,
    bessel,
    bessel_more,
    compare,
    conv,
    ctc,
    decompositions,
    elementwise,
    factorizations,
    householder,
    incomplete_gamma,
    index,
    inplace,
    join,
    linalg,
    loss,
    math,
    matrix,
    nn_linear,
    normalization,
    polynomials,
    pooling,
    pooling_more,
    rearrange,
    rounding,
    scatter_reduce,
    scatter_views,
    recurrent,
    reduce,
    regression_loss,
    shape,
    softmax,
    sort,
    stats,
)
from . import inplace_forms  # last: it builds x.op_() from the methods registered above


