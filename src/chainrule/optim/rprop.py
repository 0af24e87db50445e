"""``Rprop``: resilient backpropagation, per-coordinate step sizes driven by gradient signs."""

import numpy as np

from .optimizer import (
    Optimizer,
    _check,
    advance,
    check_cpu_flags,
    check_lr,
    new_state_tensor,
    step_counter,
)

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop (PyTorch's algorithm). With ``g`` the gradient (negated when ``maximize``) and
    ``g_prev`` the one kept from the previous step (0 at first):

        s = s * etaplus   where g * g_prev > 0,   s * etaminus where < 0;  clamped to step_sizes
        g = 0             where g * g_prev < 0   (a sign change: no move, and no memory of it)
        param = param - sign(g) * s;   g_prev = g

    Step sizes ``s`` start at ``lr``.

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Rprop(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        defaults = {
            "lr": lr, "etas": tuple(etas), "step_sizes": tuple(step_sizes), "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        etaminus, etaplus = group["etas"]
        _check(0.0 < etaminus < 1.0 < etaplus,
               f"Invalid eta values: {etaminus}, {etaplus} (they need 0 < etaminus < 1 < "
               "etaplus)")
        check_cpu_flags(group)

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "prev": new_state_tensor(np.zeros_like(param._data)),
            "step_size": new_state_tensor(np.full_like(param._data, group["lr"])),
        }

    def _update(self, param, grad, state, group):
        etaminus, etaplus = (float(eta) for eta in group["etas"])
        smallest, largest = (float(size) for size in group["step_sizes"])
        advance(state["step"])
        grad = np.negative(grad) if group["maximize"] else np.array(grad, copy=True)
        prev, step_size = state["prev"]._data, state["step_size"]._data
        agreement = np.sign(grad * prev)
        factor = np.where(agreement > 0, etaplus, np.where(agreement < 0, etaminus, 1.0))
        step_size *= factor.astype(step_size.dtype, copy=False)
        np.clip(step_size, smallest, largest, out=step_size)
        grad[agreement < 0] = 0
        param -= np.sign(grad) * step_size
        prev[...] = grad
