"""chainrule's dtypes: thin named wrappers over NumPy dtypes, spelled like PyTorch's."""

import builtins
import sys

import numpy as np


def shown_name():
    """The package name reprs print: ``torch`` while chainrule stands in for torch
    (``chainrule.as_torch``, ``sys.modules["torch"] = chainrule``), so that a program's printed
    shapes and dtypes read as under PyTorch; ``chainrule`` otherwise."""
    return "torch" if sys.modules.get("torch") is sys.modules.get(__package__) else __package__


class dtype:  # noqa: N801 - PyTorch's spelling
    """A tensor element type, e.g. ``chainrule.float32``; ``.numpy`` is the NumPy dtype."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, numpy_dtype):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.is_signed = self.numpy.kind in "fi"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"{shown_name()}.{self.name}"

    def __eq__(self, other):
        if isinstance(other, dtype):
            return self.name == other.name
        try:
            return self.numpy == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.numpy)


class _BFloat16(dtype):
    """bfloat16: float32's 8 exponent bits with 7 mantissa bits, 2 bytes a value. NumPy has
    no such type; ``ml_dtypes`` provides it, imported on first use (it costs import time)."""

    __slots__ = ()

    def __init__(self):
        self.name = "bfloat16"
        self.is_floating_point = True
        self.is_signed = True
        self.itemsize = 2

    @property
    def numpy(self):
        return bfloat16_numpy()

    def __hash__(self):
        return hash(self.name)


def bfloat16_numpy():
    """NumPy's view of bfloat16 (from ``ml_dtypes``)."""
    try:
        import ml_dtypes
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise TypeError("bfloat16 needs the ml_dtypes package (a chainrule dependency); "
                        "install it with: pip install ml_dtypes") from None
    return np.dtype(ml_dtypes.bfloat16)


def is_float(np_dtype):
    """True for NumPy's floating dtypes and for bfloat16 (whose NumPy kind is 'V')."""
    return np_dtype.kind == "f" or np_dtype.name == "bfloat16"


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool_ = dtype("bool", np.bool_)
bfloat16 = _BFloat16()

half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

_ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)

_BY_NUMPY = {d.numpy: d for d in _ALL}

# The dtype Python floats and float factories (zeros, randn, tensor([1.0])) take; a list so
# that set_default_dtype changes it for every module that reads it through default_float().
_default_float = [np.dtype(np.float32)]


def default_float():
    """The NumPy dtype of the default float type (float32 unless set_default_dtype changed it)."""
    return _default_float[0]


def get_default_dtype():
    """The default floating-point dtype, as ``torch.get_default_dtype``."""
    return from_numpy_dtype(_default_float[0])


def set_default_dtype(d):
    """Make ``d`` (a floating-point dtype) the default for float tensors and Python floats."""
    np_dtype = to_numpy_dtype(d)
    if np_dtype.kind != "f":
        raise TypeError(
            f"only floating-point types are supported as the default type, got "
            f"{from_numpy_dtype(np_dtype)}"
        )
    _default_float[0] = np_dtype


def from_numpy_dtype(np_dtype):
    """The chainrule dtype of a NumPy dtype; unsupported ones raise a clear TypeError."""
    try:
        return _BY_NUMPY[np_dtype]
    except KeyError:
        if np_dtype.name == "bfloat16":
            return bfloat16
        raise TypeError(
            f"NumPy dtype {np_dtype} is not supported by chainrule; convert the array to one of "
            "float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 or bool first"
        ) from None


def promote_numpy(da, db):
    """PyTorch's ``promote_types`` on NumPy dtypes: the higher category (bool < integer <
    float) wins; within one category, the smallest dtype that holds both (``uint8 + int8 ->
    int16``). NumPy would widen ``int64 + float32`` to float64; PyTorch gives float32."""
    if da == db:
        return da
    a_float, b_float = is_float(da), is_float(db)
    if a_float != b_float:
        return da if a_float else db
    if da.kind == "b" or db.kind == "b":
        return db if da.kind == "b" else da
    return np.promote_types(da, db)


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` convert to, as ``torch.promote_types``.

    >>> chainrule.promote_types(chainrule.uint8, chainrule.int8)
    chainrule.int16
    """
    return from_numpy_dtype(promote_numpy(to_numpy_dtype(type1), to_numpy_dtype(type2)))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def can_cast(from_, to):
    """Whether PyTorch's casting rules allow ``from_`` into ``to`` in an in-place op (never to a
    lower category: float to integer, or a number to bool)."""
    source, target = to_numpy_dtype(from_), to_numpy_dtype(to)
    return _CATEGORY[_category_kind(source)] <= _CATEGORY[_category_kind(target)]


def _category_kind(np_dtype):
    return "f" if is_float(np_dtype) else np_dtype.kind


def to_numpy_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype, or a Python type, and return the NumPy dtype."""
    if isinstance(d, dtype):
        return d.numpy
    if d is builtins.float:  # PyTorch reads Python's float as the default float dtype
        return default_float()
    if d is builtins.int:
        return np.dtype(np.int64)
    legacy = from_legacy_type(d)  # "torch.LongTensor", or the class torch.LongTensor
    if isinstance(legacy, dtype):
        return legacy.numpy
    np_dtype = np.dtype(d)
    from_numpy_dtype(np_dtype)
    return np_dtype


# PyTorch's legacy tensor type names (``x.type()`` answers "torch.FloatTensor").
LEGACY_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor",
                     "float16": "HalfTensor", "bfloat16": "BFloat16Tensor",
                     "uint8": "ByteTensor", "int8": "CharTensor", "int16": "ShortTensor",
                     "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor"}


def legacy_type_name(np_dtype):
    """"torch.FloatTensor" for float32, ... (what ``Tensor.type()`` says in PyTorch)."""
    return "torch." + LEGACY_TYPE_NAMES[from_numpy_dtype(np_dtype).name]


def from_legacy_type(t):
    """The dtype a legacy type names ("torch.DoubleTensor", ``torch.DoubleTensor`` the class);
    anything else is returned as it is. A CUDA type raises DeviceUnavailableError (a
    RuntimeError, as PyTorch's without CUDA), saying what to write."""
    name = t if isinstance(t, str) else getattr(t, "__name__", None)
    if not isinstance(name, str) or not (name.endswith("Tensor") or name.startswith("torch.")):
        return t
    if ".cuda." in name or (not isinstance(t, str) and getattr(t, "dtype", "") is None):
        from ._device import unavailable  # the device layer sits above the dtypes

        raise unavailable("cuda", f"hold tensors (type {name})")
    by_name = {legacy: dtype_name for dtype_name, legacy in LEGACY_TYPE_NAMES.items()}
    dtype_name = by_name.get(name.rsplit(".", 1)[-1])
    if dtype_name is None:
        raise ValueError(f"invalid type: {name!r}; e.g. 'torch.FloatTensor' or torch.float32")
    return bfloat16 if dtype_name == "bfloat16" else globals()["bool_" if dtype_name == "bool"
                                                               else dtype_name]
