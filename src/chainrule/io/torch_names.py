"""What the PyTorch names in a checkpoint's pickle become here: PyTorch's ``weights_only``
allowlist, mapped onto chainrule's own objects, and the policy the unpickler follows.

A name on the list stands for a chainrule object that does what PyTorch's does on load (the
tensor rebuild functions make NumPy views of the file's storages; ``torch.float16`` is
``chainrule.float16``), or for a plain container type. Anything else is refused, naming the
global and how to allow it; only a class or function the user passed to ``add_safe_globals``
is ever called besides these, exactly as in PyTorch.
"""

import _compat_pickle
import codecs
from collections import Counter, OrderedDict

import numpy as np

from .. import _dtypes
from ..tensor import Size, Tensor, device
from . import plain_data, torch_modules
from .safe_globals import full_name, is_user_allowed, user_global
from .unpickler import Refused

MAX_DIMS = 64


class Marker:
    """A PyTorch value with no chainrule counterpart that a file may still mention as data
    (a layout, a memory format, a dtype chainrule lacks)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


class StorageType:
    """``torch.FloatStorage`` and its kin: which dtype a storage holds."""

    def __init__(self, name, dtype_name):
        self.name, self.dtype_name = name, dtype_name

    def __repr__(self):
        return f"torch.{self.name}"


class StorageRef:
    """One tensor's view of a storage's bytes: the flat uint8 buffer read from the file and
    the dtype to read it as (several tensors may share one buffer)."""

    def __init__(self, buffer, dtype_name, key):
        self.buffer, self.dtype_name, self.key = buffer, dtype_name, key


# -- dtypes ------------------------------------------------------------------------------------
# PyTorch dtype name -> chainrule dtype name (None: chainrule has no such dtype)
_DTYPES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16", "int64": "int64",
    "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
    "int8": "int8", "uint8": "uint8", "bool": "bool",
    "uint16": None, "uint32": None, "uint64": None, "complex32": None, "chalf": None,
    "complex64": None, "cfloat": None, "complex128": None, "cdouble": None,
    "float8_e4m3fn": None, "float8_e5m2": None, "float8_e4m3fnuz": None,
    "float8_e5m2fnuz": None, "qint8": None, "quint8": None, "qint32": None, "quint4x2": None,
}
_STORAGES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
    "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "UntypedStorage": "uint8",
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
}


def chainrule_dtype(name):
    """The chainrule dtype for a PyTorch dtype name, or None when chainrule has none."""
    ours = _DTYPES.get(name, name)
    return getattr(_dtypes, "bool_" if ours == "bool" else ours, None) if ours else None


def _numpy_dtype(name, what):
    dtype = chainrule_dtype(name)
    if dtype is None:
        raise Refused(f"{what} holds {name} tensors, which chainrule does not support; "
                              "convert them in PyTorch (e.g. .float()) and save again")
    return dtype.numpy


_ADDRESSABLE = 2**63


# -- the rebuild functions ---------------------------------------------------------------------
def _ints(value, what):
    if not isinstance(value, (tuple, list)) or len(value) > MAX_DIMS:
        raise Refused(f"a tensor's {what} must be a tuple of at most {MAX_DIMS} ints, "
                              f"got {type(value).__name__}")
    if not all(type(v) is int for v in value):
        raise Refused(f"a tensor's {what} must hold ints, got {value!r:.80}")
    return tuple(value)


def _view(storage, offset, size, stride, dtype_name=None):
    """The tensor's array: a strided view into its storage, checked to stay inside it."""
    if not isinstance(storage, StorageRef):
        raise Refused(f"a tensor must be rebuilt from a storage of the file, got "
                              f"{type(storage).__name__}")
    size, stride = _ints(size, "size"), _ints(stride, "stride")
    if len(size) != len(stride) or type(offset) is not int:
        raise Refused(f"a tensor's size {size} and stride {stride} do not match")
    if any(s < 0 for s in size) or any(s < 0 for s in stride) or offset < 0:
        raise Refused(f"a tensor has a negative size, stride or offset ({size}, "
                              f"{stride}, {offset})")
    dtype = np.dtype(_numpy_dtype(dtype_name or storage.dtype_name, "the file"))
    _check_addressable(size, stride, dtype.itemsize)
    buffer = storage.buffer
    if len(buffer) % dtype.itemsize:
        raise Refused(f"storage {storage.key} holds {len(buffer)} bytes, not a whole "
                              f"number of {dtype} elements")
    flat = buffer.view(dtype)
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= len(flat):
            raise Refused(
                f"a tensor of size {size}, stride {stride} and offset {offset} reaches element "
                f"{last} of storage {storage.key}, which holds {len(flat)}")
        base = flat[offset:]
    else:
        base, stride = flat[:0], (0,) * len(size)
    return np.lib.stride_tricks.as_strided(
        base, shape=size, strides=tuple(s * dtype.itemsize for s in stride))


def _check_addressable(size, stride, itemsize):
    """NumPy refuses, with a message of its own, any shape whose element count or any stride
    whose byte step does not fit a signed 64-bit index, even with a zero in the shape (a
    stride-0 expand of one value can claim 2**66 elements): said here, naming the tensor."""
    numel = 1
    for n in size:
        numel *= max(n, 1)
    if numel * itemsize >= _ADDRESSABLE or any(s * itemsize >= _ADDRESSABLE for s in stride):
        raise Refused(f"a tensor of size {size} and stride {stride} spans more than 2**63 bytes, "
                      "more than any array can address; the file is damaged or forged")


def _check_hooks(hooks):
    if hooks is not None and (not isinstance(hooks, dict) or hooks):
        raise Refused("a tensor in the file carries backward hooks; they are code and "
                              "cannot be loaded")


def _tensor(array, requires_grad=False):
    tensor = Tensor._from_array(array)
    if requires_grad is True and _dtypes.is_float(array.dtype):
        tensor.requires_grad_()
    return tensor


def rebuild_tensor(storage, storage_offset, size, stride):
    return _tensor(_view(storage, storage_offset, size, stride))


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      metadata=None):
    _check_hooks(backward_hooks)
    return _tensor(_view(storage, storage_offset, size, stride), requires_grad)


def rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                      dtype, metadata=None):
    _check_hooks(backward_hooks)
    name = dtype.name if isinstance(dtype, (_dtypes.dtype, Marker)) else None
    if name is None:
        raise Refused(f"_rebuild_tensor_v3 needs a dtype, got {type(dtype).__name__}")
    return _tensor(_view(storage, storage_offset, size, stride, name), requires_grad)


def rebuild_parameter(data, requires_grad, backward_hooks):
    from ..nn.parameter import Parameter

    _check_hooks(backward_hooks)
    if not isinstance(data, Tensor):
        raise Refused(f"a Parameter must wrap a tensor, got {type(data).__name__}")
    return Parameter(data, requires_grad=bool(requires_grad) and _dtypes.is_float(data._data.dtype))


def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    parameter = rebuild_parameter(data, requires_grad, backward_hooks)
    _set_state(parameter, state)
    return parameter


def rebuild_from_type_v2(func, new_type, args, state):
    if func not in _REBUILDERS or not isinstance(args, tuple):
        raise Refused("_rebuild_from_type_v2 may only rebuild tensors")
    tensor = func(*args)
    if new_type is _PARAMETER_NAME:
        tensor = rebuild_parameter(tensor, tensor.requires_grad, None)
    elif new_type is not Tensor:
        raise Refused(f"a tensor subclass {new_type!r} cannot be rebuilt; only "
                              "torch.Tensor and torch.nn.Parameter are")
    _set_state(tensor, state)
    return tensor


def _set_state(tensor, state):
    """Python attributes PyTorch saved on a tensor: kept as plain data, but never one that
    would shadow a method or property of the class."""
    if isinstance(state, tuple) and len(state) == 2:
        state = {**(state[0] or {}), **(state[1] or {})}
    if not state:
        return
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise Refused("a tensor's saved attributes must be a dict of names")
    for name, value in state.items():
        if hasattr(type(tensor), name) or name.startswith("__"):
            raise Refused(f"a tensor's saved attribute {name!r} would replace a "
                                  "method or property; refused")
        setattr(tensor, name, value)


def _unsupported(what):
    def refuse(*args):
        raise Refused(f"the file holds {what}, which chainrule does not support; "
                              "convert them to ordinary dense CPU tensors in PyTorch first")
    return refuse


# -- plain constructors, checked so that no argument can ask for unbounded memory ------------
def _ordered_dict(*args):
    if args and not isinstance(args[0], (list, tuple, dict)):
        raise Refused("OrderedDict is rebuilt from a list of pairs")
    return OrderedDict(*args)


def _counter(*args):
    if args and not isinstance(args[0], (list, tuple, dict)):
        raise Refused("Counter is rebuilt from a list or a dict")
    return Counter(*args)


def _collection(kind):
    def make(*args):
        if args and not isinstance(args[0], (list, tuple, set, frozenset)):
            raise Refused(f"{kind.__name__} is rebuilt from a list")
        return kind(*args)
    return make


def _complex(*args):
    if not all(isinstance(a, (int, float)) for a in args):
        raise Refused("complex is rebuilt from numbers")
    return complex(*args)


def _bytearray(*args):
    if args and not isinstance(args[0], (bytes, str)):
        raise Refused("bytearray is rebuilt from bytes, never from a length")
    return bytearray(*args)


def _encode(text, encoding="utf-8"):
    # protocol-2 pickles write bytes as _codecs.encode(str, 'latin1')
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "ascii"):
        raise Refused("_codecs.encode is allowed only to turn a string into bytes")
    return codecs.encode(text, encoding)


def _size(*args):
    if len(args) > 1 or (args and not isinstance(args[0], (tuple, list))):
        raise Refused("torch.Size is rebuilt from one tuple")
    return Size(_ints(args[0], "Size") if args else ())


def _device(*args):
    try:
        return device(*args)
    except (RuntimeError, TypeError, ValueError) as error:
        raise Refused(f"the file holds a device object chainrule cannot make: {error}"
                              ) from None


def _get_layout(name):
    if not isinstance(name, str):
        raise Refused("_get_layout takes a layout's name")
    return Marker(name)


_PARAMETER_NAME = Marker("torch.nn.parameter.Parameter")
_REBUILDERS = {rebuild_tensor, rebuild_tensor_v2, rebuild_tensor_v3}


def _builtin_names():
    """``module.name`` -> (object, the function that calling it means, or None)."""
    names = {
        "collections.OrderedDict": (OrderedDict, _ordered_dict),
        "collections.Counter": (Counter, _counter),
        "builtins.set": (set, _collection(set)),
        "builtins.frozenset": (frozenset, _collection(frozenset)),
        "builtins.complex": (complex, _complex),
        "builtins.bytearray": (bytearray, _bytearray),
        "_codecs.encode": (_encode, _encode),
        "torch._utils._rebuild_tensor": (rebuild_tensor, rebuild_tensor),
        "torch._utils._rebuild_tensor_v2": (rebuild_tensor_v2, rebuild_tensor_v2),
        "torch._utils._rebuild_tensor_v3": (rebuild_tensor_v3, rebuild_tensor_v3),
        "torch._utils._rebuild_parameter": (rebuild_parameter, rebuild_parameter),
        "torch._utils._rebuild_parameter_with_state": (rebuild_parameter_with_state,
                                                       rebuild_parameter_with_state),
        "torch._tensor._rebuild_from_type_v2": (rebuild_from_type_v2, rebuild_from_type_v2),
        "torch.Size": (Size, _size),
        "torch.device": (device, _device),
        "torch.Tensor": (Tensor, None),
        "torch._tensor.Tensor": (Tensor, None),
        "torch.nn.parameter.Parameter": (_PARAMETER_NAME, None),
        "torch.serialization._get_layout": (_get_layout, _get_layout),
    }
    for what, functions in {
        "sparse tensors": ["_rebuild_sparse_tensor", "_rebuild_sparse_csr_tensor"],
        "quantized tensors": ["_rebuild_qtensor"],
        "nested tensors": ["_rebuild_nested_tensor"],
        "meta tensors": ["_rebuild_meta_tensor_no_storage"],
        "tensor subclasses": ["_rebuild_wrapper_subclass"],
        "device tensors": ["_rebuild_device_tensor_from_numpy",
                           "_rebuild_device_tensor_from_cpu_tensor"],
    }.items():
        for function in functions:
            refuse = _unsupported(what)
            names[f"torch._utils.{function}"] = (refuse, refuse)
    for name in _DTYPES:
        names[f"torch.{name}"] = (chainrule_dtype(name) or Marker(f"torch.{name}"), None)
    for name, dtype_name in _STORAGES.items():
        names[f"torch.{name}"] = (StorageType(name, dtype_name), None)
    names["torch.storage.UntypedStorage"] = names["torch.UntypedStorage"]
    names["torch.storage.TypedStorage"] = (StorageType("TypedStorage", None), None)
    for layout in ("strided", "sparse_coo", "sparse_csr", "_mkldnn"):
        names[f"torch.{layout}"] = (Marker(f"torch.{layout}"), None)
    for memory_format in ("contiguous_format", "channels_last", "channels_last_3d",
                          "preserve_format"):
        names[f"torch.{memory_format}"] = (Marker(f"torch.{memory_format}"), None)
    return names


BUILTIN = _builtin_names()
_CALLS = {id(obj): call for obj, call in BUILTIN.values() if call is not None}


def _refusal_hint(name):
    if name.startswith("torch.nn.modules.") or name.startswith("__main__."):
        return (" This file seems to hold a whole pickled object (such as torch.save(model)): "
                "load it with weights_only=False, as PyTorch needs too (chainrule then "
                "rebuilds torch.nn's modules as its own, and your model's class if it is "
                "defined in this program, without running code from the file), or in PyTorch "
                "save model.state_dict() instead and load that into a chainrule model with "
                "load_state_dict.")
    if name.startswith("numpy."):
        return (" NumPy values in a checkpoint need numpy's reconstruct functions, which "
                "PyTorch's weights_only loading refuses too.")
    return ""


def allowed_global(module, name):
    """``("module.name", the object it stands for)``, the object None when loading refuses it:
    the built-in allowlist, then the user's ``add_safe_globals``."""
    # Python 2 names that protocol-2 pickles write (__builtin__.set), as pickle maps them
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    full = f"{module}.{name}"
    if full in BUILTIN:
        return full, BUILTIN[full][0]
    return full, user_global(full)


class Policy:
    """What the unpickler may do with globals: PyTorch's ``weights_only=True`` rules."""

    def __init__(self, persistent_load, weights_only=True):
        self._persistent_load = persistent_load
        self.weights_only = weights_only
        self._module_classes = set()  # the classes of whole modules met (weights_only=False)

    def find_global(self, module, name):
        full, obj = allowed_global(module, name)
        if obj is not None:
            return obj
        if self.weights_only is False:  # whole modules, as chainrule's classes (torch_modules)
            obj = plain_data.plain_global(full)
            if obj is not None:
                return obj
            obj = torch_modules.module_global(full)
            if obj is not None:
                if torch_modules.is_module_class(obj):
                    self._module_classes.add(obj)
                return obj
        short = full.rsplit(".", 1)[-1]
        note = ("" if self.weights_only is not False else
                " chainrule never runs code named by a file, whatever weights_only says: it "
                "rebuilds torch.nn's modules as its own, and a model class only if it is a "
                "chainrule nn.Module defined in this program before load is called.")
        raise Refused(
            f"Unsupported global: GLOBAL {full} was not an allowed global by "
            f"default. Loading a file never runs code from it, so only the globals that "
            f"rebuild tensors and plain containers are allowed.{note} If you trust this file "
            f"and {full} is a class or function of yours, allow it with "
            f"chainrule.serialization.add_safe_globals([{short}]) or inside `with "
            f"chainrule.serialization.safe_globals([{short}]):` (torch.serialization under "
            f"`import chainrule as torch`).{_refusal_hint(full)}")

    def call(self, func, args, opcode):
        if (isinstance(func, type) and func in self._module_classes and not args
                and opcode.startswith("NEWOBJ")):
            return func.__new__(func)  # a whole module, made without its __init__
        call = _CALLS.get(id(func))
        if call is None and self.weights_only is False:
            try:
                made = plain_data.call(func, args, opcode)
            except (TypeError, ValueError, OverflowError, MemoryError) as error:
                raise Refused(f"calling {_describe(func)} with the file's arguments failed: "
                              f"{error}") from None
            if made is not None:
                return made
        if call is None and is_user_allowed(func):
            if opcode.startswith("NEWOBJ"):
                if not isinstance(func, type):
                    raise Refused(f"{opcode} on {full_name(func)}, "
                                          "which is not a class")
                return func.__new__(func, *args)
            call = func
        if call is None:
            raise Refused(
                f"the pickle calls ({opcode}) {_describe(func)}, which is not an "
                "allowed function or class")
        try:
            return call(*args)
        except (TypeError, ValueError, OverflowError, MemoryError) as error:
            raise Refused(f"calling {_describe(func)} with the file's arguments failed: "
                          f"{error}") from None

    def build(self, target, state):
        """BUILD: set saved state on an object the pickle made."""
        if state is None or (isinstance(state, dict) and not state):
            return
        if type(target) in (OrderedDict, Counter) and isinstance(state, dict) and all(
                isinstance(k, str) and not hasattr(type(target), k) for k in state):
            target.__dict__.update(state)  # e.g. a state dict's _metadata; never a method
            return
        if type(target) in self._module_classes:
            torch_modules.build_module(target, state)
            return
        if self.weights_only is False and plain_data.build(target, state):
            return
        if is_user_allowed(type(target)):
            setstate = getattr(target, "__setstate__", None)
            if setstate is not None:
                setstate(state)
            else:
                _default_setstate(target, state)
            return
        kind = type(target)
        name = f"{kind.__module__}.{kind.__qualname__}"
        raise Refused(f"the pickle sets state (BUILD) on a {kind.__name__}, which is not "
                      f"allowed. If you trust this file, allow the type as well (a NumPy array "
                      f"needs its dtype's class, e.g. numpy.dtypes.Float32DType): "
                      f"chainrule.serialization.add_safe_globals([{name}])")

    def may_fill(self, target, kind):
        if kind == "setitem" and type(target) in (OrderedDict, Counter):
            return True
        if self.weights_only is False and plain_data.may_fill(target, kind):
            return True
        return is_user_allowed(type(target))

    def persistent_load(self, pid):
        return self._persistent_load(pid)


def _describe(obj):
    if isinstance(obj, (Marker, StorageType)):
        return repr(obj)
    return full_name(obj) or f"a {type(obj).__name__} value"


def _default_setstate(target, state):
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        target.__dict__.update(state)
    for name, value in (slots or {}).items():
        setattr(target, name, value)
