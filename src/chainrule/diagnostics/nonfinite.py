"""Finding the first operation that produced NaN or Inf, and the Python line that called it.

Cheap by default: ``NonFiniteWatch`` checks the model's outputs after each forward and every
gradient the backward pass produces (one sum per array: a non-finite element makes the sum
non-finite). Only when something is non-finite does it re-run the step's forward under
``NonFiniteTracer``, which checks every op's outputs and records where each op was called.
"""

import dataclasses
import math
import sys
import weakref
from pathlib import Path

import numpy as np

from ..autograd import add_observer
from ..autograd.engine import add_forward_observer
from ..autograd.grad_mode import enable_grad, no_grad

_PACKAGE = Path(__file__).resolve().parents[1]
# Frames in these parts of chainrule are library plumbing, not the line a user wants to see.
_INTERNAL = tuple(str(_PACKAGE / part) for part in (
    "autograd", "ops", "tensor.py", "nn/functional", "nn/modules", "diagnostics", "_", "explain",
))
# Ops that place a value given as an option (masked_fill's -inf): not where a NaN is born.
_PLACING_OPS = {"Where", "IndexPut", "Scatter", "Fill"}


@dataclasses.dataclass
class Origin:
    """Where a non-finite value first appeared: ``op`` (e.g. "Log"), ``pass_`` ("forward" or
    "backward"), ``kind`` ("nan", "inf", "nan and inf"), the calling ``file``/``line`` (None if
    unknown) and the innermost ``layer`` (module name) it ran in."""

    op: str
    pass_: str
    kind: str
    file: str | None = None
    line: int | None = None
    code: str | None = None
    layer: str | None = None

    def where(self):
        if self.file is None:
            return "(call site unknown)"
        text = f"{self.file}:{self.line}"
        return text + (f" `{self.code}`" if self.code else "")


def _is_internal(filename):
    return filename.startswith(_INTERNAL) or filename.startswith("<")


def call_site(module_names=None):
    """(file, line, code, layer): the innermost frame outside chainrule's internals, and the
    innermost running module found on the way (a name from ``module_names``: id -> name)."""
    frame = sys._getframe(1)
    layer = None
    while frame is not None:
        if module_names and layer is None and frame.f_code.co_name == "forward":
            owner = frame.f_locals.get("self")
            layer = module_names.get(id(owner))
        filename = frame.f_code.co_filename
        if not _is_internal(filename):
            code = _source_line(filename, frame.f_lineno)
            return filename, frame.f_lineno, code, layer
        frame = frame.f_back
    return None, None, None, layer


def _source_line(filename, line):
    import linecache

    text = linecache.getline(filename, line).strip()
    return text or None


def _kind(array):
    nan, inf = bool(np.isnan(array).any()), bool(np.isinf(array).any())
    return "nan and inf" if nan and inf else ("nan" if nan else "inf")


def _finite(array):
    """True when every element is finite; one sum, then an exact check only if it is not."""
    if array.dtype.kind not in "fc":
        return True
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(np.sum(array))):
            return True
    return bool(np.isfinite(array).all())


def _tensors(value):
    if isinstance(value, (tuple, list)):
        return [v for v in value if hasattr(v, "_data")]
    return [value] if hasattr(value, "_data") else []


def _op_name(node):
    name = node.name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


class NonFiniteTracer:
    """While active (a context manager), checks every op's outputs and records the first op
    that made a non-finite value from finite inputs, with its call site; with ``record=True``
    it also lists every op it saw (name, input shapes, call site), for matching a backward node.
    """

    def __init__(self, module_names=None, record=False):
        self.module_names = module_names or {}
        self.record = record
        self.origin = None
        self.ops = []  # (op name, input_meta, Origin) when recording
        self._remove = None

    def __enter__(self):
        self._remove = add_forward_observer(self._observe)
        return self

    def __exit__(self, *exc):
        self._remove()

    def _observe(self, node, args, outputs):
        if self.record:
            file, line, code, layer = call_site(self.module_names)
            self.ops.append((_op_name(node), node.input_meta,
                             Origin(_op_name(node), "backward", "", file, line, code, layer)))
        if self.origin is not None:
            return
        for out in _tensors(outputs):
            if _finite(out._data):
                continue
            inputs_finite = all(_finite(a._data) for a in _tensors(args))
            if inputs_finite and _op_name(node) not in _PLACING_OPS:
                file, line, code, layer = call_site(self.module_names)
                self.origin = Origin(_op_name(node), "forward", _kind(out._data), file, line,
                                     code, layer)
            return


class NonFiniteWatch:
    """Watches ``model``'s forward outputs and every backward gradient; ``origin`` is the first
    non-finite value's Origin (None while all is finite). Call ``close()`` to detach."""

    def __init__(self, model, record_sites=False):
        self.model = model
        self.record_sites = record_sites
        self.module_names = {id(m): name or type(m).__name__
                             for name, m in model.named_modules()}
        self.origin = None
        self.on_origin = None  # called once, as soon as ``origin`` is known
        self.sites = weakref.WeakKeyDictionary()  # node -> Origin, when recording sites
        self._last_call = None
        self._rerunning = False
        self._handles = [
            model.register_forward_pre_hook(self._before_forward, with_kwargs=True),
            model.register_forward_hook(self._after_forward, with_kwargs=True),
        ]
        self._removers = [add_observer(self._on_backward)]
        if record_sites:
            self._removers.append(add_forward_observer(self._record_site))

    def close(self):
        for handle in self._handles:
            handle.remove()
        for remove in self._removers:
            remove()

    # -- forward --------------------------------------------------------------------------------
    def _before_forward(self, module, args, kwargs):
        if not self._rerunning:
            from ..random import get_rng_state

            self._last_call = (args, kwargs, get_rng_state())

    def _after_forward(self, module, args, kwargs, output):
        if self._rerunning or self.origin is not None:
            return
        if all(_finite(t._data) for t in _tensors(output)):
            return
        tracer = self.rerun(NonFiniteTracer(self.module_names))
        if tracer is not None and tracer.origin is not None:
            self.origin = tracer.origin
        else:
            self.origin = self._from_parameters("forward", output)
        if self.on_origin is not None:
            self.on_origin()

    def _from_parameters(self, pass_, output):
        """No op made the value from finite inputs: a parameter (or the input) was already."""
        for name, param in self.model.named_parameters():
            if not _finite(param._data):
                return Origin("parameter", pass_, _kind(param._data), layer=name)
        if self._last_call is not None:
            for tensor in _tensors(list(self._last_call[0])):
                if not _finite(tensor._data):
                    return Origin("input", pass_, _kind(tensor._data))
        kind = _kind(_tensors(output)[0]._data) if _tensors(output) else "nan"
        return Origin("unknown", pass_, kind)

    def rerun(self, tracer):
        """Run the last forward again (same inputs, same random state, buffers restored) with
        ``tracer`` active; returns the tracer, or None when no forward has been seen."""
        if self._last_call is None:
            return None
        from ..random import get_rng_state, set_rng_state

        args, kwargs, rng = self._last_call
        now = get_rng_state()
        buffers = [(b, b._data.copy()) for b in self.model.buffers()]
        self._rerunning = True
        try:
            set_rng_state(rng)
            with (enable_grad() if tracer.record else no_grad()), tracer:
                self.model(*args, **kwargs)
        finally:
            self._rerunning = False
            set_rng_state(now)
            for buffer, saved in buffers:
                buffer._data[...] = saved
        return tracer

    # -- backward -------------------------------------------------------------------------------
    def _record_site(self, node, args, outputs):
        if node.next_edges:
            file, line, code, layer = call_site(self.module_names)
            self.sites[node] = Origin(_op_name(node), "backward", "", file, line, code, layer)

    def _on_backward(self, node, grad_inputs):
        if self.origin is not None or self._rerunning:
            return
        for grad in grad_inputs:
            if grad is not None and not _finite(grad._data):
                self.origin = self._backward_origin(node, _kind(grad._data))
                if self.on_origin is not None:
                    self.on_origin()
                return

    def _backward_origin(self, node, kind):
        known = self.sites.get(node)
        if known is None:
            known = self._match_in_rerun(node)
        origin = Origin(_op_name(node), "backward", kind)
        if known is not None:
            origin.file, origin.line, origin.code, origin.layer = (
                known.file, known.line, known.code, known.layer)
        return origin

    def _match_in_rerun(self, node):
        """Re-run the forward recording every op, and take the first op of the same kind and
        input shapes as ``node``. None when the op is not in the model's forward (the loss)."""
        tracer = self.rerun(NonFiniteTracer(self.module_names, record=True))
        if tracer is None:
            return None
        for name, meta, site in tracer.ops:
            if name == _op_name(node) and meta == node.input_meta:
                return site
        return None

    def message(self, step):
        """The finding's text for ``origin``, first seen at ``step``."""
        o = self.origin
        layer = f" in layer '{o.layer}'" if o.layer else ""
        if o.op == "parameter":
            return (f"parameter '{o.layer}' holds {o.kind} values ({o.pass_} pass): an earlier "
                    "update made it non-finite. Remedy: lower the learning rate, clip gradients, "
                    "and look for the first non-finite gradient with GradientMonitor(every=1)")
        if o.op == "input":
            return (f"the model's input holds {o.kind} values. Remedy: clean or normalise the "
                    "data (check for missing values and divisions by zero in preprocessing)")
        if o.op == "loss":
            return ("the loss is non-finite while the model's outputs are finite: the loss "
                    "computation made it. Remedy: use the fused, stable losses "
                    "(F.cross_entropy on logits, F.binary_cross_entropy_with_logits) and clamp "
                    "what you take the log of")
        if o.op == "unknown":
            return (f"{o.kind} appeared in the {o.pass_} pass, but no single op made it from "
                    "finite inputs. Remedy: check custom Functions and in-place edits of tensors")
        remedy = ("keep the op's input inside its domain: clamp it (x.clamp(min=1e-12)) before "
                  "log/sqrt/division, use log_softmax/logsigmoid instead of log(softmax(...)), "
                  "add an epsilon, or lower the learning rate")
        where = f"called at {o.where()}" if o.file else (
            "outside the model's forward (in the loss?); GradientMonitor(record_sites=True) "
            "records every op's call site")
        return f"{o.op} produced {o.kind} in the {o.pass_} pass{layer}, {where}. Remedy: {remedy}"
