"""Helpers the distributions share (``torch.distributions.utils``)."""

import functools
from numbers import Number

from .. import creation
from .._torch_functions import finfo
from ..autograd.grad_mode import enable_grad
from ..ops.rearrange import broadcast_tensors
from ..tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits",
           "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant

def broadcast_all(*values):
    """Tensors of one broadcast shape from tensors and numbers; numbers take the first tensor's
    dtype (the default dtype when there is none)."""
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number or chainrule.Tensor.")
    if not all(isinstance(v, Tensor) for v in values):
        dtype = next((v.dtype for v in values if isinstance(v, Tensor)), None)
        values = [v if isinstance(v, Tensor) else creation.tensor(v, dtype=dtype)
                  for v in values]
    return broadcast_tensors(*values)


def _sum_rightmost(value, dim):
    """Sum out the ``dim`` rightmost dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) for a binary variable, softmax over the last dim otherwise."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def clamp_probs(probs):
    """Probabilities kept within [eps, 1 - eps] of their dtype."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """log(p) - log(1 - p) for a binary variable, log(p) otherwise (probabilities clamped)."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (-clamped).log1p()
    return clamped.log()


class lazy_property:
    """A property computed on first access (with gradients recorded) and then stored on the
    instance, as PyTorch's: ``Categorical(logits=...).probs`` is computed once."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value
