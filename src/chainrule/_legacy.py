"""PyTorch's legacy spellings that old scripts still use: the typed tensor classes
(``torch.FloatTensor(2, 3)``, ``isinstance(x, torch.LongTensor)``) and
``set_default_tensor_type``. (``Variable`` is in chainrule.autograd.variable.)"""

from . import _dtypes
from ._device import unavailable
from .tensor import Tensor, constructor_array


class _TypedTensorMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and cls.dtype is not None and (
            instance._data.dtype == _dtypes.to_numpy_dtype(cls.dtype))

    def __call__(cls, *args, device=None):
        if cls.dtype is None:
            raise unavailable("cuda")
        return Tensor._from_array(constructor_array(_dtypes.to_numpy_dtype(cls.dtype), args))


def _typed(name, dtype_name):
    return _TypedTensorMeta(name, (), {"dtype": getattr(_dtypes, dtype_name, None),
                                       "__doc__": f"The legacy spelling of a {dtype_name} tensor."})


FloatTensor = _typed("FloatTensor", "float32")
DoubleTensor = _typed("DoubleTensor", "float64")
HalfTensor = _typed("HalfTensor", "float16")
ByteTensor = _typed("ByteTensor", "uint8")
CharTensor = _typed("CharTensor", "int8")
ShortTensor = _typed("ShortTensor", "int16")
IntTensor = _typed("IntTensor", "int32")
LongTensor = _typed("LongTensor", "int64")
BoolTensor = _typed("BoolTensor", "bool_")
BFloat16Tensor = _typed("BFloat16Tensor", "bfloat16")
TYPED_TENSORS = {cls.__name__: cls for cls in (
    FloatTensor, DoubleTensor, HalfTensor, ByteTensor, CharTensor, ShortTensor, IntTensor,
    LongTensor, BoolTensor, BFloat16Tensor)}


def cuda_typed_tensors():
    """``torch.cuda.FloatTensor`` and the rest: they exist, nothing is ever one, and making
    one raises DeviceUnavailableError."""
    return {name: _TypedTensorMeta(name, (), {"dtype": None}) for name in TYPED_TENSORS}


def set_default_tensor_type(t):
    """``set_default_tensor_type(torch.DoubleTensor)`` or ``("torch.FloatTensor")``: sets the
    default float dtype; a CUDA tensor type raises DeviceUnavailableError."""
    name = t if isinstance(t, str) else t.__name__
    if ".cuda." in name or getattr(t, "dtype", "") is None:
        raise unavailable("cuda", "be the default tensor type")
    typed = TYPED_TENSORS.get(name.rsplit(".", 1)[-1])
    if typed is None:
        raise TypeError(f"invalid type: {name!r}; e.g. 'torch.FloatTensor'")
    _dtypes.set_default_dtype(typed.dtype)
