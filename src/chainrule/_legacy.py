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


TYPED_TENSORS = {name: _typed(name, "bool_" if dtype_name == "bool" else dtype_name)
                 for dtype_name, name in _dtypes.LEGACY_TYPE_NAMES.items()}
FloatTensor, DoubleTensor = TYPED_TENSORS["FloatTensor"], TYPED_TENSORS["DoubleTensor"]
HalfTensor, BFloat16Tensor = TYPED_TENSORS["HalfTensor"], TYPED_TENSORS["BFloat16Tensor"]
ByteTensor, CharTensor = TYPED_TENSORS["ByteTensor"], TYPED_TENSORS["CharTensor"]
ShortTensor, IntTensor = TYPED_TENSORS["ShortTensor"], TYPED_TENSORS["IntTensor"]
LongTensor, BoolTensor = TYPED_TENSORS["LongTensor"], TYPED_TENSORS["BoolTensor"]


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
