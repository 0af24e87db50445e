"""``Adafactor``: Adam-like steps with a factored (row x column) second moment."""

import numpy as np

from .optimizer import (
    Optimizer,
    _check,
    advance,
    check_lr,
    check_non_negative,
    new_state_tensor,
    step_counter,
)

__all__ = ["Adafactor"]


def _rms(array):
    return float(np.linalg.norm(array.reshape(-1))) / array.size**0.5


class Adafactor(Optimizer):
    """Adafactor (PyTorch's variant). At step ``t``, with ``G`` the gradient (negated when
    ``maximize``) and ``w = t^beta2_decay``:

        rho = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(param)) * rho
        param = param * (1 - lr * weight_decay)
        matrices (and stacks of them), over the last two dims:
            R = lerp(R, mean of G^2 over columns, w);  C = lerp(C, mean of G^2 over rows, w)
            V = R C / max(mean of R, eps1)
        vectors:  V = lerp(V, G^2, w)
        U = G / sqrt(max(V, eps1^2));  param = param - alpha * U / max(1, RMS(U) / d)

    ``eps1=None`` means the machine epsilon of the parameter's dtype.

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Adafactor(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0,
                 weight_decay=0.0, *, foreach=None, maximize=False):
        defaults = {
            "lr": lr, "beta2_decay": beta2_decay, "eps": tuple(eps), "d": d,
            "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        _check(group["beta2_decay"] <= 0,
               f"beta2_decay should be <= 0 but is: {group['beta2_decay']}")
        eps1, eps2 = group["eps"]
        _check(eps1 is None or eps1 >= 0, f"epsilon1 should be >= 0 but is: {eps1}")
        _check(eps2 >= 0, f"epsilon2 should be >= 0 but is: {eps2}")
        _check(group["d"] >= 1, f"Clipping threshold d should be >= 1 but is: {group['d']}")
        check_non_negative(group, "weight_decay")

    def _init_state(self, param, group):
        data = param._data
        state = {"step": step_counter()}
        if data.ndim > 1:
            state["row_var"] = new_state_tensor(np.zeros(data.shape[:-1] + (1,), data.dtype))
            state["col_var"] = new_state_tensor(
                np.zeros(data.shape[:-2] + (1,) + data.shape[-1:], data.dtype))
        else:
            state["variance"] = new_state_tensor(np.zeros_like(data))
        return state

    def _update(self, param, grad, state, group):
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        eps1, eps2 = group["eps"]
        if eps1 is None:
            eps1 = float(np.finfo(param.dtype).eps)
        step = advance(state["step"])
        if group["maximize"]:
            grad = np.negative(grad)
        weight = step ** float(group["beta2_decay"])
        rho = min(lr, 1 / step**0.5)
        alpha = max(float(eps2), _rms(param)) * rho
        if weight_decay != 0:
            param *= 1 - lr * weight_decay
        squared = grad * grad
        if grad.ndim > 1:
            row_var, col_var = state["row_var"]._data, state["col_var"]._data
            row_var += weight * (squared.mean(axis=-1, keepdims=True) - row_var)
            col_var += weight * (squared.mean(axis=-2, keepdims=True) - col_var)
            variance = row_var * col_var  # (..., n, 1) x (..., 1, m): the outer product
            variance /= np.maximum(row_var.mean(axis=-2, keepdims=True), eps1)
        else:
            variance = state["variance"]._data
            variance += weight * (squared - variance)
            variance = variance.copy()
        update = np.maximum(variance, eps1 * eps1, out=variance)
        update **= -0.5
        update *= grad
        scale = max(1.0, _rms(update) / float(group["d"]))
        param -= (alpha / scale) * update
