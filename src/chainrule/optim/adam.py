"""``Adam``: adaptive moment estimation, with optional AMSGrad."""

import numpy as np

from .. import kernels
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

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (PyTorch's algorithm). At step ``t``, with ``g`` the gradient (negated when
    ``maximize``), plus ``weight_decay * param`` unless the decay is decoupled:

        param = param * (1 - lr * weight_decay)        (decoupled_weight_decay only)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                          (amsgrad; then v_max replaces v)
        param = param - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Adam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
            "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
            "capturable": capturable, "differentiable": differentiable, "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_adam_like(group)

    def _init_state(self, param, group):
        state = {
            "step": step_counter(),
            "exp_avg": new_state_tensor(np.zeros_like(param._data)),
            "exp_avg_sq": new_state_tensor(np.zeros_like(param._data)),
        }
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = new_state_tensor(np.zeros_like(param._data))
        return state

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay = float(group["weight_decay"])
        step = advance(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        max_exp_avg_sq = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
        # (below min_size, load() would say None: skip its four dtype checks)
        fused = (kernels.load("optim", param, grad, exp_avg, exp_avg_sq)
                 if param.size >= kernels.min_size() else None)
        if fused is not None and kernels.writable_in_place(param, exp_avg, exp_avg_sq,
                                                           max_exp_avg_sq):
            # NOTE: one pass over the parameter instead of about ten NumPy passes (the
            # reference below, which the kernel's tests hold it to)
            fused.adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr=lr, beta1=beta1,
                       beta2=beta2, eps=eps, step=step, weight_decay=weight_decay,
                       decoupled=group["decoupled_weight_decay"], maximize=group["maximize"])
            return
        weight_decay = decoupled_decay(param, lr, weight_decay, group["decoupled_weight_decay"])
        grad = regularized_gradient(param, grad, weight_decay, group["maximize"])
        scratch = update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)

        second_moment = exp_avg_sq
        if group["amsgrad"]:
            second_moment = max_exp_avg_sq
            np.maximum(second_moment, exp_avg_sq, out=second_moment)
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = np.sqrt(second_moment, out=scratch)
        denom /= bias_correction2_sqrt
        denom += eps
        np.divide(exp_avg, denom, out=scratch)
        scratch *= lr / bias_correction1
        param -= scratch
