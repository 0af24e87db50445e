"""Negative log-likelihood losses for counts (Poisson) and for Gaussians with a predicted
variance, composed from differentiable tensor operations."""

import math

from ...ops.loss import _reduction
from ...ops.registry import register
from ...tensor import Tensor
from .loss_margin import reduce_loss


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(x) - y x for a log-rate x (``log_input``), else x - y log(x + eps); ``full`` adds
    Stirling's approximation of log(y!), y log y - y + log(2 pi y) / 2, where y > 1."""
    reduction = _reduction("poisson_nll_loss", size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        t = target.detach() if isinstance(target, Tensor) else target
        safe = t.clamp(min=1)  # the approximation is used only where y > 1
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + stirling.masked_fill(t <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 when ``full``).

    ``var`` has the input's shape, or lacks its last dim, or has 1 there (one variance for
    all). As in PyTorch, the clamp to ``eps`` passes the gradient to ``var`` unchanged."""
    reduction = _reduction("gaussian_nll_loss", None, None, reduction)
    if not isinstance(var, Tensor):
        var = input.new_full((), float(var))
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)  # one variance per sample: (N,) for input (N, D)
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError(f"gaussian_nll_loss: var of shape {tuple(var.shape)} does not fit "
                             f"input of shape {tuple(input.shape)}")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    # clamp the value, not the gradient: PyTorch clamps a copy under no_grad
    var = var + (var.clamp(min=eps) - var).detach()
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


register(poisson_nll_loss, top=False, method=False, functional=True)
register(gaussian_nll_loss, top=False, method=False, functional=True)
