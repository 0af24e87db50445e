"""Function transforms, as in ``torch.func`` and JAX: ``grad`` and ``value_and_grad``.

``grad(f)(x)`` is df/dx for a function ``f`` that returns a scalar tensor; the inputs need not
require grad. Transforms nest (``grad(grad(f))`` is the second derivative), and when an input
already takes part in an outer graph, the gradient stays differentiable with respect to it.
An argument may be a tensor or a tuple, list or dict of tensors; its gradient has the same
structure.
"""

import functools
import threading

import numpy as np

from .autograd import grad as autograd_grad
from .autograd import grad_mode
from .autograd.function import Function
from .tensor import Tensor

__all__ = ["grad", "value_and_grad"]

_nesting = threading.local()  # how many transforms are running on this thread


class _Alias(Function):
    """y = x, sharing memory;  dx = dy. Gives a transform its own handle on an input that
    already belongs to an outer graph."""

    @staticmethod
    def forward(ctx, x):
        return Tensor._from_array(x._data)._share_version(x)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out


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
    positions = _positions(argnums)

    @functools.wraps(func)
    def value_and_gradient_of_func(*args, **kwargs):
        if max(positions) >= len(args) or min(positions) < -len(args):
            raise RuntimeError(
                f"value_and_grad: argnums={argnums} is out of range for a call with "
                f"{len(args)} positional arguments"
            )
        args = list(args)
        outer = getattr(_nesting, "depth", 0) > 0 or any(
            t.requires_grad for t in _flatten([args, kwargs], None)[0]
        )
        # Record the backward pass only when someone outside may differentiate the result.
        create_graph = grad_mode.is_grad_enabled() and outer
        tracked = []
        _nesting.depth = getattr(_nesting, "depth", 0) + 1
        try:
            with grad_mode.enable_grad():
                for p in positions:
                    leaves, rebuild = _flatten(args[p], p)
                    handles = [_track(t, p) for t in leaves]
                    tracked.append((handles, rebuild))
                    args[p] = rebuild(handles)
                result = func(*args, **kwargs)
                output, aux = _split_output(result, has_aux)
                inputs = [h for handles, _ in tracked for h in handles]
                if output.requires_grad:
                    flat = autograd_grad(output, inputs, create_graph=create_graph,
                                         allow_unused=True, materialize_grads=True)
                else:  # the output does not depend on the inputs at all
                    flat = [Tensor._from_array(np.zeros_like(h._data)) for h in inputs]
        finally:
            _nesting.depth -= 1
        gradients, start = [], 0
        for handles, rebuild in tracked:
            gradients.append(rebuild(list(flat[start:start + len(handles)])))
            start += len(handles)
        gradients = gradients[0] if isinstance(argnums, int) else tuple(gradients)
        if not create_graph:
            output, aux = output.detach(), _detach_all(aux)
        return ((output, aux) if has_aux else output), gradients

    return value_and_gradient_of_func


def _positions(argnums):
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),)
    if isinstance(argnums, tuple) and argnums and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums):
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums must not repeat a position, got {argnums}")
        return tuple(int(a) for a in argnums)
    raise RuntimeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def _track(tensor, position):
    """A handle on ``tensor`` that ``autograd.grad`` can differentiate with respect to."""
    if not tensor.is_floating_point():
        raise RuntimeError(
            f"grad: argument {position} holds a {tensor.dtype} tensor; only floating point "
            "tensors have gradients (convert it with .float(), or leave it out of argnums)"
        )
    if tensor.requires_grad:
        return _Alias.apply(tensor)  # stays connected to the outer graph
    return tensor.detach().requires_grad_()


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


def _flatten(value, position):
    """The tensors in ``value`` (a tensor, or tuple/list/dict of them) and a function that
    rebuilds the same structure from a list of replacements. ``position`` names the argument
    in errors; with None, non-tensors are simply skipped."""
    if isinstance(value, Tensor):
        return [value], lambda items: items[0]
    if isinstance(value, (tuple, list, dict)):
        keys = list(value) if isinstance(value, dict) else range(len(value))
        parts = [_flatten(value[k], position) for k in keys]
        sizes = [len(leaves) for leaves, _ in parts]
        leaves = [t for part, _ in parts for t in part]

        def rebuild(items):
            out, start = [], 0
            for (_, rebuild_part), size in zip(parts, sizes):
                out.append(rebuild_part(items[start:start + size]))
                start += size
            if isinstance(value, dict):
                return type(value)(zip(keys, out))
            return type(value)(out)

        return leaves, rebuild
    if position is None:
        return [], lambda items: value
    raise RuntimeError(
        f"grad: argument {position} is a {type(value).__name__}; differentiated arguments must "
        "be tensors or tuples, lists or dicts of tensors"
    )


def _detach_all(value):
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detach_all(v) for v in value)
    if isinstance(value, dict):
        return type(value)((k, _detach_all(v)) for k, v in value.items())
    return value
