"""The engine: graph nodes (``Function``), the backward sweep, grad mode and gradient checks."""

import warnings

import numpy as np

from .engine import add_observer, run_backward
from .function import Function, TensorBase
from .grad_ops import Accumulate, Cast, Clone
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .gradcheck import gradcheck, gradgradcheck
from .anomaly_mode import detect_anomaly, set_detect_anomaly
from .variable import Variable
from . import profiler  # noqa: E402 - torch.autograd.profiler

__all__ = [
    "Function", "backward", "grad", "gradcheck", "gradgradcheck", "no_grad", "enable_grad",
    "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled",
    "add_observer", "Variable",
    "detect_anomaly", "set_detect_anomaly",
]


def _as_sequence(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _initial_gradients(outputs, grad_outputs):
    grads = []
    for position, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {position} of tensors does not require grad and does not have a "
                "grad_fn: nothing it depends on requires grad. Create the leaf with "
                "requires_grad=True (or call .requires_grad_()) before computing it"
            )
        if grad is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, and this one "
                    f"has shape {tuple(out.shape)}; pass gradient= (a tensor of that shape), "
                    "or reduce it first, e.g. out.sum().backward()"
                )
            one = np.empty(out._data.shape, out._data.dtype)  # (np.ones, less its two
            one.fill(1)  # Python calls: this runs once per backward())
            grads.append(out._from_array(one))
            continue
        if not hasattr(grad, "_data"):
            grad = out._from_array(np.asarray(grad, dtype=out._data.dtype))
        if grad._data.shape != out._data.shape:
            raise RuntimeError(
                f"gradient has shape {tuple(grad.shape)} but the output has shape "
                f"{tuple(out.shape)}; they must match"
            )
        if not grad.is_floating_point():
            raise RuntimeError(
                f"gradient must be a floating point tensor, got {grad.dtype}; use .float()"
            )
        if grad._data.dtype != out._data.dtype:
            grad = Cast.apply(grad, dtype=out._data.dtype)
        grads.append(grad)
    return grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves of their graph.

    >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> chainrule.autograd.backward((x * x).sum())   # the same as (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """
    if isinstance(tensors, TensorBase):
        tensors = [tensors]
        grads = [grad_tensors] if isinstance(grad_tensors, TensorBase) \
            else _as_sequence(grad_tensors) or [None]
    else:
        tensors = _as_sequence(tensors)
        grads = _as_sequence(grad_tensors) or [None] * len(tensors)
    grads = _initial_gradients(tensors, grads)
    if inputs is not None:
        inputs = _as_sequence(inputs)
        results = run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs)
        for leaf, grad in zip(inputs, results):
            if grad is None:
                continue
            if not create_graph:
                grad = grad.detach()
            # a fresh array: the returned gradient may be the caller's own gradient tensor
            if leaf._grad is None:
                leaf._grad = Clone.apply(grad)
            else:
                leaf._grad = Accumulate.apply(leaf._grad, grad)
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """Return d(outputs)/d(inputs) without touching any ``.grad``. ``only_inputs`` is
    PyTorch's deprecated flag, ignored there and here (False warns, as there).

    >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> (dx,) = chainrule.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> dx                                   # 3 x^2, itself differentiable
    tensor([ 3., 12.], grad_fn=<MulBackward>)
    >>> x.grad is None
    True
    """
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if is_grads_batched:
        raise NotImplementedError("grad(is_grads_batched=True) needs vmap, which chainrule "
                                  "lacks; call grad once per row of grad_outputs instead")
    outputs = _as_sequence(outputs)
    inputs = _as_sequence(inputs)
    for position, tensor in enumerate(inputs):
        if not tensor._requires_grad:
            raise RuntimeError(
                f"input {position} of grad() does not require grad; make it with "
                "requires_grad=True"
            )
    grads = _as_sequence(grad_outputs) or [None] * len(outputs)
    grads = _initial_gradients(outputs, grads)
    results = run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs)
    for position, result in enumerate(results):
        if result is None:
            if materialize_grads:
                results[position] = inputs[position]._from_array(
                    np.zeros_like(inputs[position]._data)
                )
            elif not allow_unused:
                raise RuntimeError(
                    f"input {position} of grad() was not used to compute the outputs; pass "
                    "allow_unused=True to get None for it"
                )
        elif not create_graph:
            results[position] = result.detach()
    return tuple(results)
