"""Sizes that remember where they came from, so that a dynamic axis stays dynamic.

While the exporter traces a forward pass, ``x.shape`` and ``x.size()`` give ``SymInt``s: ints
(every computation with them works as with ints) that also record the tensor and dim they were
read from, and the arithmetic done with them (``T - 1``, ``B * T``, ``C // heads``). When such a
size reaches an op (``arange(T)``, ``x.view(B, T, 3, C)``, ``mask[:T, :T]``), the converter
writes it as ONNX ``Shape`` arithmetic rather than as the number seen while tracing, if it
depends on an axis declared dynamic. A size that lost its record on the way (``int(T)``,
``len(x)``, NumPy arithmetic) is a plain number: when it changes with the dynamic axes the
export stops (see graph.py) instead of baking it in.
"""

import importlib
import operator
import threading

from ..tensor import Size

# the module itself (``chainrule.tensor`` is also the name of the factory function)
tensor_module = importlib.import_module("..tensor", __package__)


class SymInt(int):
    """An int with a record of how it was computed: ``("dim", tensor id, axis)`` or
    ``(operator name, left, right)`` / ``("neg", operand)``."""

    def __new__(cls, value, record):
        self = super().__new__(cls, value)
        self.record = record
        return self

    def __repr__(self):
        return int.__repr__(self)

    def __neg__(self):
        return SymInt(-int(self), ("neg", self))

    def __pos__(self):
        return self


def _arithmetic(name, function, reflected):
    def method(self, other):
        if not isinstance(other, int) or isinstance(other, bool):
            return getattr(int, f"__{'r' if reflected else ''}{name}__")(self, other)
        value = function(int(other), int(self)) if reflected else function(int(self), int(other))
        return SymInt(value, (name, other, self) if reflected else (name, self, other))
    return method


for _name, _function in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                         ("floordiv", operator.floordiv), ("mod", operator.mod)):
    setattr(SymInt, f"__{_name}__", _arithmetic(_name, _function, False))
    setattr(SymInt, f"__r{_name}__", _arithmetic(_name, _function, True))


class SizeRecorder:
    """While installed, ``tensor.shape`` / ``tensor.size()`` in this thread give SymInts; the
    tensors read are kept alive so that their ids stay theirs until the export ends."""

    def __init__(self):
        self.tensors = {}
        self._thread = threading.get_ident()

    def __call__(self, tensor):
        shape = tensor._data.shape
        if threading.get_ident() != self._thread:
            return Size(shape)
        self.tensors[id(tensor)] = tensor
        return Size(SymInt(n, ("dim", id(tensor), axis)) for axis, n in enumerate(shape))

    def __enter__(self):
        self._previous = tensor_module.size_hook
        tensor_module.size_hook = self
        return self

    def __exit__(self, *exc):
        tensor_module.size_hook = self._previous


def leaves(size):
    """The ``("dim", tensor id, axis)`` records a SymInt was computed from."""
    if not isinstance(size, SymInt):
        return []
    record = size.record
    if record[0] == "dim":
        return [record]
    return [leaf for part in record[1:] for leaf in leaves(part)]


_ONNX_ARITHMETIC = {"add": "Add", "sub": "Sub", "mul": "Mul"}


def emit(g, size, dims):
    """A 1-D int64 ONNX tensor of one element holding ``size``. ``dims(tensor_id, axis)`` gives
    the ONNX name of that dim (or None when it is static, so the number itself is written)."""
    if not isinstance(size, SymInt) or not any(dims(t, a) for _, t, a in leaves(size)):
        return g.ints([int(size)])
    record = size.record
    if record[0] == "dim":
        return dims(record[1], record[2])
    if record[0] == "neg":
        return g.node("Neg", [emit(g, record[1], dims)])
    left, right = emit(g, record[1], dims), emit(g, record[2], dims)
    if record[0] in _ONNX_ARITHMETIC:
        return g.node(_ONNX_ARITHMETIC[record[0]], [left, right])
    remainder = g.node("Mod", [left, right], fmod=0)  # Python's sign rule for ints
    if record[0] == "mod":
        return remainder
    return g.node("Div", [g.node("Sub", [left, remainder]), right])  # exact floor division


def is_dynamic(size, dims):
    return isinstance(size, SymInt) and any(dims(t, a) for _, t, a in leaves(size))
