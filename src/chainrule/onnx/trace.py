"""Tracing a forward pass: the ops it ran, in order, with their tensors, options and layer.

Every op is one ``Function``; the engine's forward observer reports each one after it ran
(``autograd.engine.add_forward_observer``), with its positional arguments, keyword options and
outputs. Module forward hooks say which layer is running, so that an error can name it. A few
layers are traced whole, as one step (``LEAF_MODULES``): their ops carry data-dependent
arrays (an embedding's row indices, max pooling's argmax) rather than the layer's meaning.

The trace keeps every tensor it saw alive, so that ``id()`` names one tensor for the whole run.
"""

from dataclasses import dataclass, field

from ..autograd.engine import add_forward_observer
from ..nn.modules.module import Module
from ..tensor import Tensor

LEAF_MODULES = ("Embedding", "MaxPool1d", "MaxPool2d", "MaxPool3d")


@dataclass
class Step:
    """One op (or one leaf layer) of the forward pass."""

    op: str  # the Function class name, or the leaf module's class name
    args: tuple  # positional arguments: tensors and anything else
    options: dict  # keyword options (ops) or the module itself under "module" (leaf layers)
    outputs: tuple  # output tensors (non-tensors kept as they are)
    layer: str  # "path (Class)" of the innermost running module, or "the model"
    is_module: bool = False
    inputs: list = field(default_factory=list)  # filled by the exporter: one value per arg


class Trace:
    """Run ``model(*args)`` and record its steps."""

    def __init__(self, model, args, kwargs):
        self.steps = []
        self.alive = []
        self.layers = []
        self.leaf_depth = 0
        names = {id(m): name for name, m in model.named_modules()}
        handles = []
        for module in model.modules():
            label = f"{names[id(module)] or 'the model'} ({type(module).__name__})"
            handles.append(module.register_forward_pre_hook(self._enter(label, module)))
            handles.append(module.register_forward_hook(self._leave(module)))
        remove = add_forward_observer(self._observe)
        try:
            self.result = model(*args, **kwargs)
        finally:
            remove()
            for handle in handles:
                handle.remove()

    def _enter(self, label, module):
        leaf = type(module).__name__ in LEAF_MODULES

        def hook(mod, args):
            self.layers.append(label)
            if leaf:
                if self.leaf_depth == 0:
                    self.alive.append(args)
                self.leaf_depth += 1
        return hook

    def _leave(self, module):
        leaf = type(module).__name__ in LEAF_MODULES

        def hook(mod, args, output):
            label = self.layers.pop()
            if leaf:
                self.leaf_depth -= 1
                if self.leaf_depth == 0:
                    outputs = output if isinstance(output, tuple) else (output,)
                    self.steps.append(Step(type(mod).__name__, tuple(args), {"module": mod},
                                           outputs, label, is_module=True))
                    self.alive.append(outputs)
        return hook

    def _observe(self, node, args, outputs):
        if self.leaf_depth:
            return
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        self.steps.append(Step(type(node).__name__, tuple(args),
                               dict(getattr(node, "forward_options", {})), outputs,
                               self.layers[-1] if self.layers else "the model"))
        self.alive.append((args, outputs))


def flat_tensors(value):
    """The tensors of a (nested tuple/list of) forward result, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat_tensors(item)]
    return []


def is_module(obj):
    return isinstance(obj, Module)
