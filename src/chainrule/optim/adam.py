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

    def _update_many(self, items, group):
        """The group's float32 parameters in one kernel call, when their total size reaches
        the kernels' (the others, and all of them without kernels, through ``_update``: the
        reference the kernel's tests hold it to).
        NOTE: one pass over each parameter instead of about ten NumPy passes, and the group's
        elements cut into one range per free core as one array: one at a time, each of the
        mlp step's parameters was below the size that splits (670k in all, 0.58 ms on one
        thread)."""
        amsgrad = group["amsgrad"]
        fused, rest = [], []
        for item in items:
            (fused if _kernel_takes(*item, amsgrad) else rest).append(item)
        kernel = kernels.load("optim", size=sum(param.size for param, _, _ in fused)) \
            if fused else None
        if kernel is None:
            rest = items
        else:
            states = [state for _, _, state in fused]
            moments = [_moments(state, amsgrad) for state in states]
            beta1, beta2 = (float(beta) for beta in group["betas"])
            kernel.adam_many([param for param, _, _ in fused], [grad for _, grad, _ in fused],
                             [exp_avg for exp_avg, _, _ in moments],
                             [exp_avg_sq for _, exp_avg_sq, _ in moments],
                             [most for _, _, most in moments] if amsgrad else None,
                             [advance(state["step"]) for state in states],
                             lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                             eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                             decoupled=group["decoupled_weight_decay"],
                             maximize=group["maximize"])
        for param, grad, state in rest:
            self._update(param, grad, state, group)

    def _update(self, param, grad, state, group):
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(beta) for beta in group["betas"])
        weight_decay = float(group["weight_decay"])
        step = advance(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        max_exp_avg_sq = state["max_exp_avg_sq"]._data if group["amsgrad"] else None
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


def _moments(state, amsgrad):
    """A parameter's moment arrays: (exp_avg, exp_avg_sq, max_exp_avg_sq or None)."""
    return (state["exp_avg"]._data, state["exp_avg_sq"]._data,
            state["max_exp_avg_sq"]._data if amsgrad else None)


def _kernel_takes(param, grad, state, amsgrad):
    """Whether the compiled update can write this parameter and its state in place."""
    arrays = (param, grad, *_moments(state, amsgrad))
    return all(a is None or a.dtype == np.float32 for a in arrays) and \
        kernels.writable_in_place(*arrays)
