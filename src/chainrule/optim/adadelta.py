"""``Adadelta``: step sizes from running averages of squared gradients and squared updates."""

import numpy as np

from .optimizer import (
    Optimizer,
    _check,
    advance,
    check_cpu_flags,
    check_lr,
    check_non_negative,
    new_state_tensor,
    regularized_gradient,
    step_counter,
)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (PyTorch's algorithm). With ``g`` the gradient (negated when ``maximize``)
    plus ``weight_decay * param``:

        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        param = param - lr * delta

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Adadelta(model.parameters(), lr=1.0)
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        defaults = {
            "lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
            "maximize": maximize, "capturable": capturable, "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        _check(0.0 <= group["rho"] <= 1.0, f"Invalid rho value: {group['rho']} (it must be in "
               "[0, 1])")
        check_non_negative(group, "eps", "weight_decay")
        check_cpu_flags(group)

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "square_avg": new_state_tensor(np.zeros_like(param._data)),
            "acc_delta": new_state_tensor(np.zeros_like(param._data)),
        }

    def _update(self, param, grad, state, group):
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        advance(state["step"])
        grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                    group["maximize"])
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = np.sqrt(acc_delta + eps)
        delta /= np.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        delta *= lr
        param -= delta
