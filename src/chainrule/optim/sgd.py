"""``SGD``: stochastic gradient descent, with optional momentum, dampening and Nesterov."""

import numpy as np

from .. import kernels
from .optimizer import (
    Optimizer,
    _check,
    check_cpu_flags,
    check_lr,
    check_non_negative,
    new_state_tensor,
    regularized_gradient,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's algorithm). With ``g`` the gradient (negated
    when ``maximize``) plus ``weight_decay * param``:

        b = g                           on the first step,
        b = momentum * b + (1 - dampening) * g   after it       (when momentum != 0)
        g = g + momentum * b  if nesterov  else  b
        param = param - lr * g

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening,
            "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
            "foreach": foreach, "differentiable": differentiable, "fused": fused,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        check_non_negative(group, "momentum", "weight_decay")
        _check(not group["nesterov"] or (group["momentum"] > 0 and group["dampening"] == 0),
               "Nesterov momentum requires a momentum and zero dampening")
        check_cpu_flags(group)

    def _update_many(self, items, group):
        """Plain SGD (no momentum, decay or maximize) on the group's small parameters: the
        same update as ``_update``'s with its checks made once for the group (NOTE: per
        parameter they were a tenth of a small network's optimizer step)."""
        if group["momentum"] != 0 or group["weight_decay"] or group["maximize"]:
            return super()._update_many(items, group)
        lr, kernel_size = float(group["lr"]), kernels.min_size()
        scale, scale_dtype = lr, None
        for param, grad, state in items:
            if param.size >= kernel_size:
                self._update(param, grad, state, group)
                continue
            if grad.dtype is not scale_dtype:
                # NOTE: lr as a 0-d array of the gradient's dtype: the product NumPy makes of a
                # Python float (rounded to that dtype first), without the 0.2 us it takes to
                # convert one on every call
                scale_dtype = grad.dtype
                scale = np.array(lr, scale_dtype) if scale_dtype.kind == "f" else lr
            param -= scale * grad

    def _update(self, param, grad, state, group):
        lr, momentum = float(group["lr"]), float(group["momentum"])
        if param.size >= kernels.min_size():  # (below it, load() would say None: skip asking)
            fused = kernels.load("optim", param, grad)
            if fused is not None and kernels.writable_in_place(param):
                self._fused_update(fused, param, grad, state, group)
                return
        if group["weight_decay"] or group["maximize"]:
            grad = regularized_gradient(param, grad, float(group["weight_decay"]),
                                        group["maximize"])
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = np.array(grad, copy=True)
                state["momentum_buffer"] = new_state_tensor(buffer)
            else:
                buffer = buffer._data
                buffer *= momentum
                dampening = float(group["dampening"])
                buffer += grad if dampening == 0 else (1 - dampening) * grad
            grad = grad + momentum * buffer if group["nesterov"] else buffer
        param -= lr * grad

    def _fused_update(self, fused, param, grad, state, group):
        """The update above in one pass (NOTE: kernels/optim.py; the NumPy code in _update is
        its reference)."""
        momentum = float(group["momentum"])
        buffer, first = state.get("momentum_buffer"), False
        if momentum != 0 and buffer is None:
            buffer, first = new_state_tensor(np.empty_like(param)), True
            state["momentum_buffer"] = buffer
        fused.sgd(param, grad, None if buffer is None else buffer._data, lr=float(group["lr"]),
                  momentum=momentum, dampening=float(group["dampening"]),
                  weight_decay=float(group["weight_decay"]), maximize=group["maximize"],
                  nesterov=group["nesterov"], first=first)
