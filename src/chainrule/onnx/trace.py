"""Tracing a forward pass: the ops it ran, in order, with their tensors, options and layer.

Two sources report what runs:

- the engine's forward observer (``autograd.engine.add_forward_observer``) reports every
  ``Function`` (one differentiable op) after it ran, with its tensors and keyword options;
- calls of chainrule's public functions are watched (``sys.setprofile``, in this thread and
  only while tracing): the ops of the registry (``chainrule.ops.registry``, which also covers
  their ``Tensor`` methods and ``nn.functional`` forms) and the tensor factories. A call is
  recorded with its arguments as the caller passed them (PyTorch's signature). When the
  exporter has a converter for that public name (``F.max_pool2d``, ``F.interpolate``,
  ``x == y``, ``arange``), the call becomes one step and the ops it ran inside are dropped;
  otherwise its inner ops stand for it. A call whose result was made by no traced op (an op
  computed on arrays, such as ``argsort``) is recorded too, so that an export that needs it
  fails naming it.

Writes in place (``x += y``, ``nn.ReLU(inplace=True)``, ``x.masked_fill_``, ``x[key] = v``)
are watched where ``ops/inplace.py`` makes them: each becomes a step whose output is the
written tensor's next version (its version counter), so that the graph reads every tensor at
the version a step saw; the old data is kept for constants. A write the trace does not see (a
view shares its base's counter, so writing through one changes the base's version) shows as a
tensor read at a version no step made, and the export refuses it (graph.py).

Module forward hooks say which layer is running, so that an error can name it. Sizes read
during the trace are SymInts (sizes.py). The trace keeps every tensor it saw alive, so that
``id()`` names one tensor for the whole run.
"""

import sys
from dataclasses import dataclass, field

from .. import creation
from ..autograd.engine import add_forward_observer
from ..ops import inplace
from ..ops.registry import OPS
from ..tensor import Tensor
from .sizes import SizeRecorder


@dataclass
class Step:
    """One op, or one call of a public function, of the forward pass."""

    op: str  # the Function class name, or the public function's name
    args: tuple  # the tensors it read (for a call: every tensor among its arguments)
    options: dict  # keyword options (ops) or every argument by parameter name (calls)
    outputs: tuple  # output tensors (non-tensors kept as they are)
    layer: str  # "path (Class)" of the innermost running module, or "the model"
    is_call: bool = False
    arg_versions: tuple = ()  # the version of each tensor arg when the step read it
    out_versions: tuple = ()  # the version of each output it made
    inputs: list = field(default_factory=list)  # filled by the graph: one value per arg
    twin: object = None  # the same step in the second run


# The tensor factories whose sizes may follow a dynamic axis (and the random ones, so that an
# export needing them names them). ``*_like`` share one closure: the call is named by its
# factory.
FACTORIES = ("zeros", "ones", "empty", "full", "arange", "full_like", "rand", "randn",
             "randint", "randperm", "normal", "bernoulli", "multinomial", "linspace", "eye")
_LIKE = creation.zeros_like.__code__


# Where ops/inplace.py writes into a tensor, the kind of write, and the argument written into.
# (Its fast path is private; if it changes, a write goes unseen and the export refuses it.)
WRITE_SITES = {
    inplace.modify_in_place.__code__: ("write:result", "tensor"),
    inplace._in_place_fast.__code__: ("write:ufunc", "tensor"),
    inplace.fill_.__code__: ("write:fill", "self"),
    inplace.copy_.__code__: ("write:copy", "self"),
    inplace.setitem.__code__: ("write:setitem", "self"),
}


def versions(tensors):
    return tuple(t._version if isinstance(t, Tensor) else None for t in tensors)


def watched_calls():
    """{code object: public name} of the functions whose calls are recorded."""
    watched = {}
    for op in OPS.values():
        for place in op.places.values():
            for function in place.values():
                function = getattr(function, "fget", function)  # Tensor.T is a property
                code = getattr(function, "__code__", None)
                if code is not None:
                    watched.setdefault(code, op.name)
    for name in FACTORIES:
        watched.setdefault(getattr(creation, name).__code__, name)
    watched[_LIKE] = "_like"  # named by its factory when called
    watched[Tensor.detach.__code__] = "detach"
    return watched


class _Call:
    __slots__ = ("name", "frame", "arguments", "tensors", "versions", "start", "layer",
                 "target")

    def __init__(self, name, frame, arguments, start, layer, target=None):
        self.name, self.frame, self.arguments = name, frame, arguments
        self.tensors = tuple(flat_tensors(list(arguments.values())))
        self.versions = versions(self.tensors)
        self.start, self.layer, self.target = start, layer, target


class Trace:
    """Run ``model(*args)`` and record its steps. ``collapse`` holds the public names whose
    calls become one step (those with a converter)."""

    def __init__(self, model, args, kwargs, watched, collapse):
        self.steps = []
        self.alive = []
        self.layers = []
        self._watched, self._collapse = watched, collapse
        self._open = []
        self._made = set()  # ids of tensors some step returned
        self.snapshots = {}  # (id, version) -> the data a tensor held before a write
        self._views = {}  # id of a view made by x[key] -> (x, key)
        self.initial = {id(t): t._version for t in [*flat_tensors(list(args)),
                                                    *model.parameters(), *model.buffers()]}
        names = {id(m): name for name, m in model.named_modules()}
        handles = []
        for module in model.modules():
            label = f"{names[id(module)] or 'the model'} ({type(module).__name__})"
            handles.append(module.register_forward_pre_hook(self._enter(label)))
            handles.append(module.register_forward_hook(self._leave))
        remove = add_forward_observer(self._observe)
        previous = sys.getprofile()
        try:
            with SizeRecorder() as self.sizes:
                sys.setprofile(self._profile)
                try:
                    self.result = model(*args, **kwargs)
                finally:
                    sys.setprofile(previous)
        finally:
            remove()
            for handle in handles:
                handle.remove()

    def _layer(self):
        return self.layers[-1] if self.layers else "the model"

    def _enter(self, label):
        def hook(mod, args):
            self.layers.append(label)
        return hook

    def _leave(self, mod, args, output):
        self.layers.pop()

    def _observe(self, node, args, outputs):
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        self._record(Step(type(node).__name__, tuple(args),
                          dict(getattr(node, "forward_options", {})), outputs, self._layer(),
                          arg_versions=versions(args), out_versions=versions(outputs)))

    def _record(self, step):
        self.steps.append(step)
        self.alive.append(step)
        self._made.update(id(t) for t in step.outputs if isinstance(t, Tensor))

    # -- watched calls ------------------------------------------------------------------------
    def _profile(self, frame, event, arg):
        if event == "call":
            site = WRITE_SITES.get(frame.f_code)
            if site is not None:
                self._open_write(frame, *site)
                return
            name = self._watched.get(frame.f_code)
            if name is not None:
                arguments = dict(frame.f_locals)
                if frame.f_code is _LIKE:
                    name = arguments["factory"].__name__ + "_like"
                self._open.append(_Call(name, frame, arguments, len(self.steps), self._layer()))
        elif event == "return" and self._open and self._open[-1].frame is frame:
            call = self._open.pop()
            if call.target is None:
                self._close(call, arg)
            else:
                self._close_write(call, frame)

    def _close(self, call, result):
        outputs = tuple(flat_tensors(result))
        if not outputs:
            return
        if call.name in self._collapse:
            del self.steps[call.start:]
        elif all(id(t) in self._made or any(t is a for a in call.tensors) for t in outputs):
            return  # the ops it ran stand for it
        self._record(Step(call.name, call.tensors, call.arguments, outputs, call.layer,
                          is_call=True, arg_versions=call.versions,
                          out_versions=versions(outputs)))
        base = call.arguments.get("self")
        if call.name == "__getitem__" and outputs[0]._version_box is base._version_box:
            self._views[id(outputs[0])] = (base, call.arguments["key"])  # shares its memory

    # -- writes in place ------------------------------------------------------------------------
    def _open_write(self, frame, kind, argument):
        arguments = dict(frame.f_locals)
        target = arguments[argument]
        self.snapshots.setdefault((id(target), target._version), target._data.copy())
        self._open.append(_Call(kind, frame, arguments, len(self.steps), self._layer(), target))

    def _close_write(self, call, frame):
        target = call.target
        before = call.versions[next(i for i, t in enumerate(call.tensors) if t is target)]
        if target._version == before or any(
                s.op.startswith("write:") and s.outputs[0] is target
                for s in self.steps[call.start:]):
            return  # nothing written, or a write inside it was recorded
        tensors, tensor_versions = call.tensors, call.versions
        if call.name == "write:result":  # the op's out-of-place result, written over it
            result = frame.f_locals["result"]
            tensors, tensor_versions = (result,), versions((result,))
        self._record(Step(call.name, tensors, call.arguments, (target,), call.layer,
                          is_call=True, arg_versions=tensor_versions,
                          out_versions=(target._version,)))
        while id(target) in self._views:  # x[key] += y: the write reaches x through the view
            base, key = self._views[id(target)]
            key_tensors = tuple(flat_tensors(key))
            self._record(Step("write:setitem", (base, *key_tensors, target),
                              {"self": base, "key": key, "value": target}, (base,),
                              call.layer, is_call=True,
                              arg_versions=(before, *versions(key_tensors), target._version),
                              out_versions=(base._version,)))
            target = base


def flat_tensors(value):
    """The tensors of a (nested tuple/list/dict of) value, in order."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat_tensors(item)]
    return []
