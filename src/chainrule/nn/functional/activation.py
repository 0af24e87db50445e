"""Activations composed in nn from the fused ones (``chainrule.ops.activation``, where ReLU,
GELU, SiLU, ELU, LeakyReLU, Softplus and LogSigmoid live with their functional forms) and the
elementwise primitives."""

import numpy as np

from ...ops import activation as fused
from ...ops.inplace import maybe_in_place
from ...ops.registry import register
from ...ops.softmax import implicit_dim
from ...random import numpy_generator
from ...tensor import Tensor

# SELU's constants (Klambauer et al.), to the digits PyTorch uses
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = implicit_dim("softmin", input.dim())
    if dtype is not None:
        input = input.to(dtype)
    return (-input).softmax(dim)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's fixed constants (self-normalising)."""
    return maybe_in_place(input, inplace, lambda x: fused.elu(x, _SELU_ALPHA) * _SELU_SCALE)


def selu_(input):
    return selu(input, inplace=True)


def celu(input, alpha=1.0, inplace=False):
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (= alpha * elu(x / alpha))."""
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return maybe_in_place(input, inplace, lambda x: fused.elu(x / alpha) * alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def mish(input, inplace=False):
    """x * tanh(softplus(x))."""
    return maybe_in_place(input, inplace, lambda x: x * fused.softplus(x).tanh())


def softsign(input):
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):
    """x - tanh(x)."""
    return input - input.tanh()


def glu(input, dim=-1):
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    size = input.shape[dim]
    if size % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size {size}")
    first, second = input.chunk(2, dim)
    return first * second.sigmoid()


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution: softmax((logits + g) / tau) with
    g = -log(Exponential(1)) noise; ``hard`` returns one-hot vectors whose gradient is the
    soft sample's (the straight-through estimator)."""
    exponential = numpy_generator().exponential(size=tuple(logits.shape))
    noise = Tensor._from_array(-np.log(exponential).astype(logits._data.dtype))
    soft = ((logits + noise) / tau).softmax(dim)
    if not hard:
        return soft
    data = soft.detach().numpy()
    index = data.argmax(axis=dim)
    one_hot = np.zeros_like(data)
    np.put_along_axis(one_hot, np.expand_dims(index, dim), 1.0, axis=dim)
    return Tensor._from_array(one_hot) - soft.detach() + soft


register(softmin, top=False, method=False, functional=True)
register(selu, top=False, method=False, functional=True)
register(selu_, method=False, functional=True)
register(celu, top=False, method=False, functional=True)
register(celu_, method=False, functional=True)
register(mish, top=False, method=False, functional=True)
register(softsign, top=False, method=False, functional=True)
register(tanhshrink, top=False, method=False, functional=True)
register(glu, top=False, method=False, functional=True)
register(gumbel_softmax, top=False, method=False, functional=True)
