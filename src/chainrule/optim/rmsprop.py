"""``RMSprop``: divide the gradient by a running root mean square of recent gradients."""

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

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (PyTorch's algorithm). With ``g`` the gradient (negated when ``maximize``)
    plus ``weight_decay * param``:

        v = alpha * v + (1 - alpha) * g^2
        a = alpha * a + (1 - alpha) * g;  v~ = v - a^2   (centered; otherwise v~ = v)
        b = momentum * b + g / (sqrt(v~) + eps);  param = param - lr * b    (momentum > 0)
        param = param - lr * g / (sqrt(v~) + eps)                            (otherwise)

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.RMSprop(model.parameters(), lr=1e-2)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        defaults = {
            "lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
            "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
            "maximize": maximize, "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        check_non_negative(group, "eps", "momentum", "weight_decay", "alpha")
        check_cpu_flags(group)

    def _init_state(self, param, group):
        state = {
            "step": step_counter(),
            "square_avg": new_state_tensor(np.zeros_like(param._data)),
        }
        if group["momentum"] > 0:
            state["momentum_buffer"] = new_state_tensor(np.zeros_like(param._data))
        if group["centered"]:
            state["grad_avg"] = new_state_tensor(np.zeros_like(param._data))
        return state

    def _update(self, param, grad, state, group):
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum = float(group["momentum"])
        advance(state["step"])
        grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                    group["maximize"])
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        scratch = np.multiply(grad, 1 - alpha, out=scratch_like(square_avg))
        scratch *= grad
        square_avg += scratch

        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            np.subtract(grad, grad_avg, out=scratch)  # grad_avg += (1 - alpha) * (g - grad_avg)
            scratch *= 1 - alpha
            grad_avg += scratch
            np.multiply(grad_avg, grad_avg, out=scratch)
            np.subtract(square_avg, scratch, out=scratch)
            avg = np.sqrt(scratch, out=scratch)
        else:
            avg = np.sqrt(square_avg, out=scratch)
        avg += eps

        np.divide(grad, avg, out=scratch)
        if momentum > 0:
            buffer = state["momentum_buffer"]._data
            buffer *= momentum
            buffer += scratch
            np.multiply(buffer, lr, out=scratch)
        else:
            scratch *= lr
        param -= scratch
