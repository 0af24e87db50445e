"""Dead and saturated units, measured on the outputs of activations during sampled forwards.

Activation modules (ReLU, Sigmoid, Tanh) are watched through forward hooks. Functional calls
(``F.relu``, ``torch.sigmoid``, ``x.tanh()``) inside other modules' ``forward`` are caught, on
sampled steps only, by an engine forward observer and named after the module they ran in
(``block.ff:Relu[0]``). Recurrent layers' gates are left out: they saturate by design, as is
an activation whose output is the model's output (a final sigmoid should be confident).
"""

import sys

import numpy as np

from .. import nn
from ..autograd.engine import add_forward_observer

RELU_MODULES = (nn.ReLU,)
SATURATING_MODULES = {nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
FUNCTIONAL_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}
RECURRENT = ("RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell")


def unit_axis(ndim):
    """Which axis holds the units: features for (N, F) and (N, L, F), channels for images."""
    return 1 if ndim >= 4 else ndim - 1


def dead_fraction(array):
    """Share of units that are <= 0 for every sample (and position) in ``array``."""
    if array.ndim == 0:
        return float(array <= 0)
    axis = unit_axis(array.ndim)
    others = tuple(a for a in range(array.ndim) if a != axis)
    alive = (array > 0).any(axis=others) if others else array > 0
    return float(1.0 - alive.mean())


def saturated_fraction(array, kind, eps):
    """Share of outputs within ``eps`` of the activation's asymptotes."""
    if kind == "sigmoid":
        return float(((array < eps) | (array > 1 - eps)).mean())
    return float((np.abs(array) > 1 - eps).mean())


class ActivationProbe:
    """Collects dead/saturated fractions while armed; ``collect()`` returns and clears them as
    {name: {"kind", "dead" or "saturated"}}."""

    def __init__(self, model, eps):
        self.eps = eps
        self.armed = False
        self.stats = {}
        self.output_activations = set()  # names whose output is the model's output
        self._last_output_ids = {}
        self._counts = {}
        self.names = {id(m): name for name, m in model.named_modules()}
        self.hooked = set()
        self._handles = []
        for name, module in model.named_modules():
            kind = "relu" if isinstance(module, RELU_MODULES) else None
            for cls, saturating in SATURATING_MODULES.items():
                if isinstance(module, cls):
                    kind = saturating
            if kind is not None:
                self.hooked.add(id(module))
                self._handles.append(module.register_forward_hook(self._module_hook(name, kind)))
        self._handles.append(model.register_forward_hook(self._model_output))
        self._remove_observer = None

    def close(self):
        self.disarm()
        for handle in self._handles:
            handle.remove()

    def arm(self):
        self.armed = True
        self._counts = {}
        if self._remove_observer is None:
            self._remove_observer = add_forward_observer(self._functional)

    def disarm(self):
        self.armed = False
        if self._remove_observer is not None:
            self._remove_observer()
            self._remove_observer = None

    def collect(self):
        stats, self.stats = self.stats, {}
        for name in self.output_activations:
            stats.pop(name, None)
        return stats

    def _measure(self, name, kind, array):
        if kind == "relu":
            self.stats[name] = {"kind": kind, "dead": dead_fraction(array)}
        else:
            self.stats[name] = {"kind": kind,
                                "saturated": saturated_fraction(array, kind, self.eps)}

    def _module_hook(self, name, kind):
        def hook(module, args, output):
            if self.armed and module.training and hasattr(output, "_data"):
                self._measure(name, kind, output._data)
                self._last_output_ids[name] = id(output)
        return hook

    def _model_output(self, module, args, output):
        for name, output_id in self._last_output_ids.items():
            if output_id == id(output):
                self.output_activations.add(name)
        self._last_output_ids = {}

    def _functional(self, node, args, outputs):
        op = type(node).__name__
        kind = FUNCTIONAL_OPS.get(op)
        if kind is None or not hasattr(outputs, "_data"):
            return
        owner = self._innermost_module()
        if owner is None or id(owner) in self.hooked or not owner.training:
            return
        if type(owner).__name__ in RECURRENT:
            return
        base = self.names.get(id(owner)) or type(owner).__name__
        index = self._counts.get((base, op), 0)
        self._counts[(base, op)] = index + 1
        name = f"{base}:{op}[{index}]"
        self._measure(name, kind, outputs._data)
        self._last_output_ids[name] = id(outputs)

    def _innermost_module(self):
        frame = sys._getframe(2)
        while frame is not None:
            if frame.f_code.co_name == "forward":
                owner = frame.f_locals.get("self")
                if id(owner) in self.names:
                    return owner
            frame = frame.f_back
        return None
