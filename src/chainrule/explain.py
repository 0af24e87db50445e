"""Attribution: which input features a model's output depends on, from gradients with respect
to the input.

    attributions = integrated_gradients(model, x, target=3)   # same shape as x
"""

import numpy as np

from . import autograd
from .creation import from_numpy

__all__ = ["saliency", "integrated_gradients"]


def _select(output, target):
    """The per-sample scalar to explain: ``output[i, target[i]]``, or the output itself when it
    has one value per sample (``target=None``)."""
    if target is None:
        if output.dim() > 1 and output[0].numel() != 1:
            raise ValueError(
                f"the model's output has shape {tuple(output.shape)}: pass target= (the class "
                "index to explain, an int or one per sample)"
            )
        return output.reshape(-1)
    rows = np.arange(output.shape[0])
    columns = target._data if hasattr(target, "_data") else np.asarray(target)
    columns = np.broadcast_to(columns, rows.shape).astype(np.int64)
    return output[from_numpy(rows), from_numpy(np.ascontiguousarray(columns))]


def _input_gradient(model, x, target):
    x = x.detach().requires_grad_(True)
    selected = _select(model(x), target)
    (grad,) = autograd.grad(selected.sum(), x)
    return grad, selected.detach()


def saliency(model, x, target=None, abs=True):
    """The gradient of the explained output with respect to ``x`` (its absolute value unless
    ``abs=False``), per sample of the batch ``x``."""
    grad, _ = _input_gradient(model, x, target)
    return grad.abs() if abs else grad


def integrated_gradients(model, x, target=None, baseline=None, steps=64,
                         return_convergence_delta=False):
    """Integrated gradients (Sundararajan et al., 2017): ``(x - baseline)`` times the mean
    gradient along the straight path from ``baseline`` (zeros by default) to ``x``, by the
    midpoint rule with ``steps`` points. The attributions of a sample sum to
    ``F(x) - F(baseline)`` (completeness) up to the integration error; with
    ``return_convergence_delta=True`` that error is returned too, per sample."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    x = x.detach()
    baseline = x * 0 if baseline is None else baseline.detach().to(x.dtype).expand_as(x)
    difference = x - baseline
    total = None
    for k in range(steps):
        alpha = (k + 0.5) / steps
        grad, _ = _input_gradient(model, baseline + difference * alpha, target)
        total = grad if total is None else total + grad
    attributions = difference * (total / steps)
    if not return_convergence_delta:
        return attributions
    _, at_input = _input_gradient(model, x, target)
    _, at_baseline = _input_gradient(model, baseline, target)
    sums = attributions.reshape(x.shape[0], -1).sum(1)
    return attributions, sums - (at_input - at_baseline)
