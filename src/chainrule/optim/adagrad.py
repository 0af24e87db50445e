"""``Adagrad``: per-coordinate learning rates from the sum of squared gradients."""

import numpy as np

from .optimizer import (
    Optimizer,
    advance,
    check_cpu_flags,
    check_lr,
    check_non_negative,
    new_state_tensor,
    regularized_gradient,
    scratch_like,
    step_counter,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``) plus ``weight_decay * param``:

        lr_t = lr / (1 + (t - 1) * lr_decay)
        s = s + g^2                       (s starts at initial_accumulator_value)
        param = param - lr_t * g / (sqrt(s) + eps)

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        defaults = {
            "lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)
        # PyTorch makes Adagrad's state at construction, so a fresh state_dict already has it.
        for group in self.param_groups:
            for param in group["params"]:
                self.state[param].update(self._init_state(param, group))

    def _validate_group(self, group):
        check_lr(group)
        check_non_negative(group, "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
        check_cpu_flags(group)

    def _init_state(self, param, group):
        initial = float(group["initial_accumulator_value"])
        return {
            "step": step_counter(),
            "sum": new_state_tensor(np.full_like(param._data, initial)),
        }

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        step = advance(state["step"])
        grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                    group["maximize"])
        clr = lr / (1 + (step - 1) * float(group["lr_decay"]))
        state_sum = state["sum"]._data
        scratch = np.multiply(grad, grad, out=scratch_like(state_sum))
        state_sum += scratch
        std = np.sqrt(state_sum, out=scratch)
        std += eps
        np.divide(grad, std, out=scratch)
        scratch *= clr
        param -= scratch
