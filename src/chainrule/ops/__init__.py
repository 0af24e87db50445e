"""Differentiable operations, one module per family; importing a module attaches its Tensor
methods. Fused neural-network primitives (activations, losses, normalisation, convolution,
pooling, recurrent cells, attention) live beside the basic families."""

from . import (
    activation,
    attention,
    conv,
    ctc,
    elementwise,
    index,
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
)


def _vouch_for_builtin_ops():
    """Mark the Function classes of these modules as built-in ops (see Function._builtin_op)."""
    from ..autograd.function import Function

    stack = list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith(__name__ + "."):
            cls._builtin_op = True


_vouch_for_builtin_ops()
