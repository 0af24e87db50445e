"""``GradientTap``: each parameter's gradient norm, read the moment its gradient is complete.

A post-accumulate-grad hook on every watched parameter takes one dot product of its gradient
(the squared norm; a NaN or Inf anywhere makes it non-finite). This gives the monitor the total
and per-layer gradient norms every step for the price of one pass over the gradients, and it
sees a non-finite gradient during ``backward()``, before the optimizer has used it, while the
weights that made it are still there to run the step again.
"""

import math

import numpy as np

from .nonfinite import describe, kinds


def squared_norm(array):
    """The squared 2-norm of an array, without float32 overflow."""
    flat = array.reshape(-1)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(np.dot(flat, flat))
    except TypeError:  # a dtype BLAS does not take
        value = math.inf
    if math.isinf(value) and np.isfinite(flat).all():
        wide = flat.astype(np.float64)
        value = float(np.dot(wide, wide))
    return value


class GradientTap:
    """Hooks ``params`` ([(layer name, parameter)]). ``squares``: {id(parameter): squared
    gradient norm} seen since ``reset()`` (``total()``, ``layer_norms()`` read it); ``ever``:
    layers that ever got a gradient;
    ``on_nonfinite(layer, kind)`` is called for a non-finite gradient, during backward."""

    def __init__(self, params, on_nonfinite):
        self.layer_of = {id(p): layer for layer, p in params}
        self.on_nonfinite = on_nonfinite
        self.squares = {}  # id(parameter) -> squared norm of its latest gradient
        self.ever = set()
        self._handles = [p.register_post_accumulate_grad_hook(self._hook) for _, p in params]

    def close(self):
        for handle in self._handles:
            handle.remove()

    def reset(self):
        self.squares = {}

    def _hook(self, param):
        grad = param.grad
        if grad is None:
            return
        value = squared_norm(grad._data)
        self.squares[id(param)] = value
        layer = self.layer_of[id(param)]
        self.ever.add(layer)
        if not math.isfinite(value):
            found = kinds(grad._data)
            if found:
                self.on_nonfinite(layer, describe(found))

    def total(self):
        """The norm of every gradient seen since ``reset()`` together (0 if none)."""
        return math.sqrt(math.fsum(self.squares.values()))

    def layer_norms(self, squares=None):
        """{layer: gradient norm} from ``squares`` (this step's by default)."""
        totals = {}
        for key, value in (self.squares if squares is None else squares).items():
            layer = self.layer_of[key]
            totals[layer] = totals.get(layer, 0.0) + value
        return {layer: math.sqrt(value) for layer, value in totals.items()}
