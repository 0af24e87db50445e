"""Linear layers: ``Identity``, ``Linear`` and ``Bilinear``."""

import math

from ... import creation
from .. import functional as F
from .. import init
from ..parameter import Parameter, UninitializedParameter, optional_parameter
from .lazy import LazyModuleMixin, checked_input
from .module import Module

__all__ = ["Identity", "Linear", "Bilinear", "NonDynamicallyQuantizableLinear", "LazyLinear"]


class Identity(Module):
    """Returns its input unchanged; the constructor accepts and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features).

    Initialised as PyTorch does: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform_ with
    a=sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)).

    >>> fc = nn.Linear(20, 30)
    >>> fc(chainrule.randn(128, 20)).shape
    chainrule.Size([128, 30])
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype,
                                               device=device))
        self.register_parameter("bias", optional_parameter(bias, out_features, dtype, device))
        self.reset_parameters()

    def reset_parameters(self):
        init._layer_default_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """A ``Linear`` under PyTorch's name for MultiheadAttention's ``out_proj`` (the name only
    matters to PyTorch's quantization, which chainrule does not have)."""


class Bilinear(Module):
    """y_k = x1^T A_k x2 + b_k, with A of shape (out_features, in1_features, in2_features).

    Initialised as PyTorch does: A and b ~ U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features,
                                               dtype=dtype, device=device))
        self.register_parameter("bias", optional_parameter(bias, out_features, dtype, device))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.size(1))
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last dim of its first input.

    >>> fc = nn.LazyLinear(3)
    >>> fc(chainrule.randn(2, 5)).shape, fc.weight.shape
    (chainrule.Size([2, 3]), chainrule.Size([3, 5]))
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False, device, dtype)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        input = checked_input(self, input)
        if input.dim() == 0:
            raise RuntimeError("LazyLinear: the input must have at least one dim (its last is "
                               "in_features), got a 0-d tensor")
        # (set from the input also when a state dict gave the weight its shape before)
        self.in_features = int(input.shape[-1])
        if self.has_uninitialized_params():
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()
