"""``Muon``: momentum whose update is orthogonalized by a Newton-Schulz iteration."""

import math

import numpy as np

from .optimizer import Optimizer, _check, check_lr, check_non_negative, new_state_tensor

__all__ = ["Muon"]

_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def round_to_bfloat16(array):
    """float32 values rounded to the nearest bfloat16 (ties to even), kept as float32: the
    top 16 bits of each float32, rounded."""
    array = np.array(array, dtype=np.float32)  # a C-ordered copy, 0-d stays 0-d
    bits = array.view(np.uint32)
    lower = (bits >> 16) & 1
    rounded = ((bits + 0x7FFF + lower) & 0xFFFF0000).astype(np.uint32)
    return np.where(np.isnan(array), array, rounded.view(np.float32)).astype(np.float32)


def zeropower_via_newtonschulz(grad, coefficients, steps, eps):
    """An approximately orthogonal matrix with ``grad``'s singular vectors (PyTorch's quintic
    Newton-Schulz iteration, in bfloat16 precision as PyTorch computes it)."""
    a, b, c = coefficients
    x = round_to_bfloat16(grad)
    tall = x.shape[0] > x.shape[1]
    if tall:
        x = x.T
    x = round_to_bfloat16(x / max(float(round_to_bfloat16(np.linalg.norm(x))), eps))
    for _ in range(steps):
        gram = round_to_bfloat16(x @ x.T)
        gram_update = round_to_bfloat16(b * gram + c * (gram @ gram))
        x = round_to_bfloat16(a * x + gram_update @ x)
    return x.T if tall else x


class Muon(Optimizer):
    """Muon (PyTorch's algorithm), for 2-D parameters only. With ``g`` the gradient:

        B = momentum * B + (1 - momentum) * g      (PyTorch's lerp form)
        U = lerp(g, B, momentum) if nesterov else B
        O = NewtonSchulz(U)                         (``ns_steps`` quintic steps, bfloat16)
        param = param * (1 - lr * weight_decay) - lr' * O

    with ``lr' = lr * sqrt(max(1, rows / cols))`` (``adjust_lr_fn`` None or "original") or
    ``lr * 0.2 * sqrt(max(rows, cols))`` ("match_rms_adamw").

    >>> model = chainrule.nn.Linear(3, 2)
    >>> opt = chainrule.optim.Muon([p for p in model.parameters() if p.ndim == 2], lr=0.02)
    """

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=_NS_COEFFICIENTS, eps=1e-7, ns_steps=5, adjust_lr_fn=None):
        defaults = {
            "lr": lr, "weight_decay": weight_decay, "momentum": momentum,
            "nesterov": nesterov, "ns_coefficients": tuple(ns_coefficients), "eps": eps,
            "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)

    def _validate_group(self, group):
        check_lr(group)
        check_non_negative(group, "momentum", "weight_decay")
        _check(group["adjust_lr_fn"] in (None, "original", "match_rms_adamw"),
               f"Adjust learning rate function {group['adjust_lr_fn']} is not supported "
               "(use None, 'original' or 'match_rms_adamw')")
        _check(group["ns_steps"] < 100,
               "Number of steps must be less than 100 for computational efficiency")
        _check(len(group["ns_coefficients"]) == 3,
               "Coefficients must be a tuple of exactly 3 values")
        for param in group.get("params", ()):
            _check(param.ndim == 2, "Muon only supports 2D parameters whereas we found a "
                   f"parameter with size: {tuple(param.shape)}; optimize the others with "
                   "AdamW")

    def _init_state(self, param, group):
        return {"momentum_buffer": new_state_tensor(np.zeros_like(param._data))}

    def _update(self, param, grad, state, group):
        lr, momentum = float(group["lr"]), float(group["momentum"])
        buffer = state["momentum_buffer"]._data
        buffer += (1 - momentum) * (grad - buffer)
        update = grad + momentum * (buffer - grad) if group["nesterov"] else buffer
        ortho = zeropower_via_newtonschulz(update, group["ns_coefficients"],
                                           int(group["ns_steps"]), float(group["eps"]))
        rows, cols = param.shape
        if group["adjust_lr_fn"] == "match_rms_adamw":
            adjusted = lr * 0.2 * math.sqrt(max(rows, cols))
        else:
            adjusted = lr * math.sqrt(max(1, rows / cols))
        param *= 1 - lr * float(group["weight_decay"])
        param -= adjusted * ortho.astype(param.dtype)
