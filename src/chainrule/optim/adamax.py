"""``Adamax``: Adam with the infinity norm in place of the second moment."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance,
    check_adam_like,
    new_state_tensor,
    regularized_gradient,
    step_counter,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``) plus ``weight_decay * param``:

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        param = param - lr / (1 - beta1^t) * m / u

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Adamax(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_adam_like(group)

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "exp_avg": new_state_tensor(np.zeros_like(param._data)),
            "exp_inf": new_state_tensor(np.zeros_like(param._data)),
        }

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        step = advance(state["step"])
        grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                    group["maximize"])
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        exp_avg += (1 - beta1) * (grad - exp_avg)  # PyTorch's lerp
        exp_inf *= beta2
        np.maximum(exp_inf, np.abs(grad) + eps, out=exp_inf)
        param -= lr / (1 - beta1**step) * exp_avg / exp_inf
