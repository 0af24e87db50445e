"""``grad`` and ``value_and_grad`` of ``torch.func`` (the package module ``chainrule.func``
gathers every transform), as in JAX.

``grad(f)(x)`` is df/dx for a function ``f`` that returns a scalar tensor; the inputs need not
require grad. Transforms nest (``grad(grad(f))`` is the second derivative), and when an input
already takes part in an outer graph, the gradient stays differentiable with respect to it.
An argument may be a tensor or a tuple, list or dict of tensors; its gradient has the same
structure.
"""

import functools

import numpy as np

from ._transforms import Traced, argument_positions
from .autograd import grad as autograd_grad
from .autograd import grad_mode
from .tensor import Tensor

__all__ = ["grad", "value_and_grad"]

def grad(func, argnums=0, has_aux=False):
    """A function computing the gradient of ``func``'s scalar output with respect to the
    arguments in ``argnums`` (an int: one gradient; a tuple: a tuple of them). With
    ``has_aux=True``, ``func`` returns ``(output, aux)`` and the result is ``(gradient, aux)``.

    >>> cube = lambda x: (x ** 3).sum()
    >>> chainrule.func.grad(cube)(chainrule.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    """
    both = value_and_grad(func, argnums, has_aux)

    @functools.wraps(func)
    def gradient_of_func(*args, **kwargs):
        value, gradients = both(*args, **kwargs)
        if has_aux:
            return gradients, value[1]
        return gradients

    return gradient_of_func


def value_and_grad(func, argnums=0, has_aux=False):
    """Like ``grad``, but the function returns ``(value, gradient)`` (with ``has_aux=True``:
    ``((value, aux), gradient)``), computing ``func`` once.

    >>> value, slope = chainrule.func.value_and_grad(chainrule.sin)(chainrule.tensor(0.0))
    """
    positions = argument_positions(argnums)

    @functools.wraps(func)
    def value_and_gradient_of_func(*args, **kwargs):
        traced = Traced("value_and_grad", func, args, kwargs, positions, argnums)
        output, aux = _split_output(traced.result, has_aux)
        with grad_mode.enable_grad():
            if output.requires_grad:
                flat = autograd_grad(output, traced.inputs, create_graph=traced.create_graph,
                                     allow_unused=True, materialize_grads=True)
            else:  # the output does not depend on the inputs at all
                flat = [Tensor._from_array(np.zeros_like(h._data)) for h in traced.inputs]
        gradients = traced.per_argument(flat, single=isinstance(argnums, int))
        output, aux = traced.finish(output), traced.finish(aux)
        return ((output, aux) if has_aux else output), gradients

    return value_and_gradient_of_func


def _split_output(result, has_aux):
    if has_aux:
        if not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError(
                "grad(..., has_aux=True): the function must return a tuple (output, aux), got "
                f"{type(result).__name__}"
            )
        output, aux = result
    else:
        output, aux = result, None
    if not isinstance(output, Tensor) or output.numel() != 1:
        described = (f"a tensor of shape {tuple(output.shape)}" if isinstance(output, Tensor)
                     else type(output).__name__)
        raise RuntimeError(
            f"grad: the function must return a tensor with one element, got {described}; "
            "reduce it first (e.g. .sum()), or use autograd.grad with grad_outputs"
        )
    if not output.is_floating_point():
        raise RuntimeError(f"grad: the output must be floating point, got {output.dtype}")
    return output, aux


