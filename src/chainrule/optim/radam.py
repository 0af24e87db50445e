"""``RAdam``: Adam whose adaptive step is switched on once its variance is tractable."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance,
    check_adam_like,
    decoupled_decay,
    new_state_tensor,
    regularized_gradient,
    step_counter,
    update_moments,
)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """RAdam (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``), plus ``weight_decay * param`` unless the decay is decoupled:

        param = param * (1 - lr * weight_decay)          (decoupled_weight_decay only)
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        m^ = m / (1 - beta1^t)
        rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                    param = param - lr * m^ * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
        otherwise:  param = param - lr * m^

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_adam_like(group)

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "exp_avg": new_state_tensor(np.zeros_like(param._data)),
            "exp_avg_sq": new_state_tensor(np.zeros_like(param._data)),
        }

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay = float(group["weight_decay"])
        step = advance(state["step"])
        weight_decay = decoupled_decay(param, lr, weight_decay, group["decoupled_weight_decay"])
        grad = regularized_gradient(param, grad, weight_decay, group["maximize"])
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        update = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * beta2**step / bias_correction2
        update *= lr
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            update *= bias_correction2**0.5 / (np.sqrt(exp_avg_sq) + eps)
            update *= rect
        param -= update
