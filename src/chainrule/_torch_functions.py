"""Top-level helpers of PyTorch's namespace that are not ops: type queries (``is_tensor``),
dtype limits (``finfo``), print options, constants, a few factories (``asarray``,
``scalar_tensor``, the signal windows) and random draws (``poisson``, ``binomial``)."""

import math
import warnings

import numpy as np

from . import _dtypes, _tensor_str
from ._device import as_cpu
from .random import numpy_generator
from .tensor import Tensor

__all__ = [
    "is_tensor", "is_storage", "is_floating_point", "is_inference", "is_nonzero", "is_same_size",
    "numel",
    "typename", "set_printoptions", "finfo", "iinfo", "e", "pi", "nan", "inf", "newaxis",
    "get_num_interop_threads", "set_num_interop_threads", "set_warn_always",
    "is_warn_always_enabled", "get_deterministic_debug_mode", "set_deterministic_debug_mode",
    "set_flush_denormal", "asarray", "scalar_tensor", "empty_strided", "range", "frombuffer",
    "poisson", "binomial", "hann_window", "hamming_window", "blackman_window",
    "bartlett_window", "kaiser_window", "memory_format", "contiguous_format", "channels_last",
    "channels_last_3d", "preserve_format", "layout", "strided", "is_signed", "detach",
    "detach_", "fill", "get_device", "is_distributed", "OutOfMemoryError", "AcceleratorError",
    "has_lapack", "has_mkl", "has_openmp", "has_spectral", "from_dlpack", "to_dlpack",
    "nonzero_static", "empty_permuted", "solve", "lstsq", "symeig", "matrix_rank",
]

_wrap = Tensor._from_array
e, pi, nan, inf, newaxis = math.e, math.pi, math.nan, math.inf, None
has_lapack, has_spectral = True, True  # NumPy's LAPACK and FFT
has_mkl = has_openmp = False


class OutOfMemoryError(RuntimeError):
    """``torch.OutOfMemoryError`` (an accelerator ran out of memory; chainrule has none)."""


class AcceleratorError(RuntimeError):
    """``torch.AcceleratorError`` (an accelerator failed; chainrule has none)."""


def detach(input):
    return input.detach()


def detach_(input):
    return input.detach_()


def fill(input, value):
    """A new tensor of ``input``'s shape and dtype, every element ``value``."""
    from .creation import full

    return full(tuple(input.shape), value.item() if isinstance(value, Tensor) else value,
                dtype=input.dtype)


def get_device(input):
    return -1  # the CPU


def is_distributed(input):
    return False


def from_dlpack(ext_tensor):
    """A tensor sharing memory with any DLPack-capable array (NumPy, CuPy on the host ...)."""
    array = np.from_dlpack(ext_tensor)
    return _wrap(array)


def to_dlpack(tensor):
    """A DLPack capsule of the tensor's memory."""
    return tensor._data.__dlpack__()


def nonzero_static(input, *, size, fill_value=-1):
    """The indices of the nonzero elements, as ``nonzero`` but exactly ``size`` rows (cut or
    padded with ``fill_value``)."""
    found = np.argwhere(input._data)
    out = np.full((size, input.ndim), fill_value, dtype=np.int64)
    out[: min(size, len(found))] = found[:size]
    return _wrap(out)


def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size`` (chainrule's memory is always in C order, so the physical
    layout is accepted and changes nothing)."""
    from .creation import empty

    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def _removed(name, replacement):
    """Functions PyTorch removed in 1.9 and keeps only to raise; so does chainrule."""
    def removed(*args, **kwargs):
        raise RuntimeError(
            f"This function was deprecated since version 1.9 and is now removed. `torch.{name}` "
            f"is deprecated in favor of `torch.{replacement}`."
        )

    removed.__name__ = removed.__qualname__ = name
    return removed


solve = _removed("solve", "linalg.solve")
lstsq = _removed("lstsq", "linalg.lstsq")
symeig = _removed("symeig", "linalg.eigh")
matrix_rank = _removed("matrix_rank", "linalg.matrix_rank")


# torch.X_(input, ...) for the in-place methods PyTorch also offers as functions
IN_PLACE_FUNCTIONS = [
    "abs_", "acos_", "acosh_", "addmv_", "arccos_", "arccosh_", "arcsin_", "arcsinh_",
    "arctan_", "arctanh_", "as_strided_", "asin_", "asinh_", "atan_", "atanh_", "ceil_",
    "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_",
    "erfc_", "exp2_", "exp_", "expm1_", "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_",
    "index_put_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_",
    "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "resize_as_", "round_",
    "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_", "tanh_",
    "trunc_", "xlogy_", "zero_",
]


def _method_as_function(name):
    def in_place(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    in_place.__name__ = in_place.__qualname__ = name
    in_place.__doc__ = f"``input.{name}(...)``."
    return in_place


globals().update({name: _method_as_function(name) for name in IN_PLACE_FUNCTIONS})
__all__ += IN_PLACE_FUNCTIONS


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_storage(obj):
    return False  # chainrule tensors hold NumPy arrays, not storage objects


def is_floating_point(input):
    return input.is_floating_point()


def is_inference(input):
    return input.is_inference()


def is_signed(input):
    return input._data.dtype.kind in "if" or input._data.dtype.name == "bfloat16"


def is_nonzero(input):
    """bool(input) for a one-element tensor, as PyTorch."""
    if input.numel() != 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous"
                           if input.numel() else "Boolean value of Tensor with no values is "
                           "ambiguous")
    return bool(input._data.reshape(()))


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def numel(input):
    return input.numel()


def typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else (
        f"{module}.{type(obj).__qualname__}")


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print: digits, the element count before summarising, edge items, width,
    and ``sci_mode`` (True / False: always / never scientific; None, the default: when the
    values need it; like PyTorch, each call sets it)."""
    presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3,
                                                                               80)}
    if profile is not None:
        (_tensor_str.PRECISION, _tensor_str.THRESHOLD, _tensor_str.EDGE_ITEMS,
         _tensor_str.LINE_WIDTH) = presets[profile]
    for name, value in (("PRECISION", precision), ("THRESHOLD", threshold),
                        ("EDGE_ITEMS", edgeitems), ("LINE_WIDTH", linewidth)):
        if value is not None:
            setattr(_tensor_str, name, value)
    _tensor_str.SCI_MODE = sci_mode


class finfo:  # noqa: N801 - PyTorch's spelling
    """Limits of a floating dtype: ``finfo(torch.float32).eps``, ``.max``, ``.tiny`` ..."""

    def __init__(self, type=None):
        np_dtype = _dtypes.to_numpy_dtype(type if type is not None else
                                          _dtypes.get_default_dtype())
        if np_dtype.kind != "f" and np_dtype.name != "bfloat16":
            raise TypeError(f"torch.finfo() requires a floating point input type, got {type}")
        info = np.finfo(np_dtype)
        self.bits, self.eps, self.max, self.min = info.bits, float(info.eps), float(info.max), \
            float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        # PyTorch's is 10 ** -digits10 as a double (1e-06 for float32); NumPy's is that value
        # rounded to the dtype itself (9.99999997e-07)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = str(np_dtype)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's spelling
    """Limits of an integer dtype: ``iinfo(torch.int64).max`` ..."""

    def __init__(self, type):
        np_dtype = _dtypes.to_numpy_dtype(type)
        if np_dtype.kind not in "iub":
            raise TypeError(f"torch.iinfo() requires an integer input type, got {type}")
        info = np.iinfo(np.uint8 if np_dtype.kind == "b" else np_dtype)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), \
            str(np_dtype)

    def __repr__(self):
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"


_switches = {"warn_always": False, "debug_mode": 0}


def get_num_interop_threads():
    return 1  # chainrule runs ops one after another; parallelism is inside BLAS and kernels


def set_num_interop_threads(num):
    if int(num) < 1:
        raise RuntimeError(f"Number of interop threads must be positive, got {num}")


def set_warn_always(b):
    _switches["warn_always"] = bool(b)


def is_warn_always_enabled():
    return _switches["warn_always"]


def get_deterministic_debug_mode():
    return _switches["debug_mode"]


def set_deterministic_debug_mode(debug_mode):
    modes = {"default": 0, "warn": 1, "error": 2}
    _switches["debug_mode"] = modes.get(debug_mode, debug_mode)


def set_flush_denormal(mode):
    return False  # not supported by NumPy: PyTorch answers False where the CPU lacks it too


# -- factories -------------------------------------------------------------------------------
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor from ``obj``, sharing memory with an array or tensor when it can."""
    as_cpu(device)
    if isinstance(obj, Tensor):
        out = obj if dtype is None or obj.dtype == dtype else obj.to(dtype)
        out = out.clone() if copy else out
    elif isinstance(obj, np.ndarray) and not copy and (
            dtype is None or _dtypes.to_numpy_dtype(dtype) == obj.dtype):
        _dtypes.from_numpy_dtype(obj.dtype)
        out = _wrap(obj)
    else:
        from .creation import tensor

        out = tensor(obj, dtype=dtype)
    return out.requires_grad_() if requires_grad else out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``s`` (the default float dtype unless ``dtype`` is given)."""
    as_cpu(device)
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.default_float()
    out = _wrap(np.asarray(s, dtype=np_dtype))
    return out.requires_grad_() if requires_grad else out


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    """A new tensor of ``size`` (chainrule's arrays are contiguous; ``stride`` is checked
    only for its length)."""
    as_cpu(device)
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: {len(stride)} vs "
                           f"{len(size)}")
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.default_float()
    out = _wrap(np.empty(tuple(size), dtype=np_dtype))
    return out.requires_grad_() if requires_grad else out


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated in PyTorch: like ``arange`` but including ``end``, in the default float
    dtype."""
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    if end is None:
        start, end = 0, start
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.default_float()
    count = int(math.floor((end - start) / step)) + 1
    out = _wrap((start + step * np.arange(count, dtype=np.float64)).astype(np_dtype))
    return out.requires_grad_() if requires_grad else out


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of ``buffer`` (shared memory)."""
    out = _wrap(np.frombuffer(buffer, dtype=_dtypes.to_numpy_dtype(dtype), count=count,
                              offset=offset))
    return out.requires_grad_() if requires_grad else out


# -- random draws ----------------------------------------------------------------------------
def poisson(input, generator=None):
    """Poisson samples with the rates in ``input``."""
    draws = numpy_generator(generator).poisson(input._data)
    return _wrap(draws.astype(input._data.dtype))


def binomial(count, prob, generator=None):
    draws = numpy_generator(generator).binomial(count._data.astype(np.int64), prob._data)
    return _wrap(draws.astype(prob._data.dtype))


# -- signal windows --------------------------------------------------------------------------
def _window(values, dtype, requires_grad):
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else _dtypes.default_float()
    out = _wrap(np.asarray(values, dtype=np_dtype))
    return out.requires_grad_() if requires_grad else out


def _length(window_length, periodic):
    return window_length + 1 if periodic and window_length > 1 else window_length


def _cosine_window(window_length, periodic, coefficients, dtype, requires_grad):
    if window_length == 0:
        return _window(np.zeros(0), dtype, requires_grad)
    if window_length == 1:
        return _window(np.ones(1), dtype, requires_grad)
    n = _length(window_length, periodic)
    k = np.arange(n) * 2 * np.pi / (n - 1)
    values = sum(c * np.cos(i * k) * (-1) ** i for i, c in enumerate(coefficients))
    return _window(values[:window_length], dtype, requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    return _cosine_window(window_length, periodic, (0.5, 0.5), dtype, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   device=None, requires_grad=False):
    return _cosine_window(window_length, periodic, (alpha, beta), dtype, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    return _cosine_window(window_length, periodic, (0.42, 0.5, 0.08), dtype, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    if window_length <= 1:
        return _window(np.ones(window_length), dtype, requires_grad)
    n = _length(window_length, periodic)
    values = 1 - np.abs(2 * np.arange(n) / (n - 1) - 1)
    return _window(values[:window_length], dtype, requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None,
                  requires_grad=False):
    if window_length <= 1:
        return _window(np.ones(window_length), dtype, requires_grad)
    n = _length(window_length, periodic)
    values = np.kaiser(n, beta)
    return _window(values[:window_length], dtype, requires_grad)


# -- memory formats and layouts: one layout (strided), one format (contiguous) --------------
class memory_format:  # noqa: N801 - PyTorch's spelling
    """A memory layout name; chainrule keeps every array in NumPy's C order, so the formats are
    accepted where PyTorch takes them and change nothing."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


class layout:  # noqa: N801 - PyTorch's spelling
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
strided = layout("strided")
