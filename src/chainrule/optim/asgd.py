"""``ASGD``: averaged stochastic gradient descent."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance,
    check_cpu_flags,
    check_lr,
    check_non_negative,
    new_state_tensor,
    regularized_gradient,
    scalar_state,
    step_counter,
)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """ASGD (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``) plus ``weight_decay * param``, and ``eta``, ``mu`` from the previous step
    (``eta = lr``, ``mu = 1`` at first):

        param = param * (1 - lambd * eta) - eta * g
        ax = ax + mu * (param - ax)          (ax = param while mu is 1)
        eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)

    ``ax`` is the running average of the parameter; ``eta`` and ``mu`` are float32 state, as
    in PyTorch.

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.ASGD(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        defaults = {
            "lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
            "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        check_non_negative(group, "weight_decay")
        check_cpu_flags(group)

    def _init_state(self, param, group):
        return {
            "step": step_counter(),
            "eta": scalar_state(group["lr"]),
            "mu": scalar_state(1.0),
            "ax": new_state_tensor(np.zeros_like(param._data)),
        }

    def _update(self, param, grad, state, group):
        lr, lambd = float(group["lr"]), float(group["lambd"])
        step = advance(state["step"])
        grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                    group["maximize"])
        eta, mu = float(state["eta"]._data), float(state["mu"]._data)
        param *= 1 - lambd * eta
        param -= eta * grad
        ax = state["ax"]._data
        if mu != 1:
            ax += (param - ax) * mu
        else:
            ax[...] = param
        state["eta"]._data[...] = lr / ((1 + lambd * lr * step) ** float(group["alpha"]))
        state["mu"]._data[...] = 1 / max(1, step - float(group["t0"]))
