"""``NAdam``: Adam with Nesterov momentum and a momentum schedule."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance,
    check_adam_like,
    decoupled_decay,
    new_state_tensor,
    regularized_gradient,
    scalar_state,
    step_counter,
    update_moments,
)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``), plus ``weight_decay * param`` unless the decay is decoupled:

        param = param * (1 - lr * weight_decay)          (decoupled_weight_decay only)
        mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2);  P_t = mu_1 * ... * mu_t
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        param = param - lr (1 - mu_t) / (1 - P_t) * g / d
                      - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / d

    ``P_t`` is kept as the float32 state ``mu_product``, as in PyTorch.

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.NAdam(model.parameters(), lr=2e-3)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize, "foreach": foreach, "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_adam_like(group, "momentum_decay")

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "mu_product": scalar_state(1.0),
            "exp_avg": new_state_tensor(np.zeros_like(param._data)),
            "exp_avg_sq": new_state_tensor(np.zeros_like(param._data)),
        }

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay, decay = float(group["weight_decay"]), float(group["momentum_decay"])
        step = advance(state["step"])
        weight_decay = decoupled_decay(param, lr, weight_decay, group["decoupled_weight_decay"])
        grad = regularized_gradient(param, grad, weight_decay, group["maximize"])
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        product = state["mu_product"]._data
        product *= product.dtype.type(mu)  # rounded to the state's dtype, as PyTorch's is
        mu_product = float(product)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        denom = np.sqrt(exp_avg_sq / (1 - beta2**step))
        denom += eps
        param -= lr * (1.0 - mu) / (1.0 - mu_product) * grad / denom
        param -= lr * mu_next / (1.0 - mu_product * mu_next) * exp_avg / denom
