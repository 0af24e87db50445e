"""Making tensors: from data, filled with constants, ranges and random numbers."""

import numbers
import operator

import numpy as np

from . import _dtypes
from ._device import as_cpu
from .random import numpy_generator
from .tensor import Size, Tensor

_wrap = Tensor._from_array


def _size_arg(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    try:
        shape = tuple(operator.index(s) for s in size)
    except TypeError:
        raise TypeError(f"a size must be ints or one sequence of ints, got {size!r}") from None
    if any(s < 0 for s in shape):
        raise RuntimeError(f"sizes must be non-negative, got {list(shape)}")
    return shape


def _shape(args, size):
    """The shape from ``*size`` positional arguments or the ``size=`` keyword (PyTorch's
    factories take either: ``torch.empty(size=(2, 3))``)."""
    if size is not None:
        if args:
            raise TypeError("got multiple values for argument 'size'")
        args = (size,)
    return _size_arg(args)


def _finish(array, requires_grad, device_arg=None):
    as_cpu(device_arg)
    tensor = _wrap(array)
    if requires_grad:
        tensor.requires_grad_()
    return tensor


def _float_dtype(dtype):
    return _dtypes.default_float() if dtype is None else _dtypes.to_numpy_dtype(dtype)


def _infer_dtype(data):
    """PyTorch's rules: Python floats give float32, ints int64, bools bool; arrays keep theirs."""
    if isinstance(data, (np.ndarray, np.generic)):
        return data.dtype
    array = np.asarray(data)
    if array.dtype.kind == "f":
        return _dtypes.default_float()
    if array.dtype.kind in "iu":
        return np.dtype(np.int64)
    return array.dtype


_PYTHON_NUMBERS = {bool, int, float}


def _python_number_dtype(kind):
    return {bool: np.dtype(np.bool_), int: np.dtype(np.int64)}.get(kind) or (
        _dtypes.default_float())


def _read_sequence(data, dtypes):
    """``data`` (nested lists and tuples) with each tensor in it read as its one number, as
    PyTorch reads it; adds to ``dtypes`` the dtype of every element: a Python number's
    (float: the default float dtype), a tensor's or a NumPy value's own."""
    if isinstance(data, (list, tuple)):
        kinds = set(map(type, data))
        if kinds <= _PYTHON_NUMBERS:  # the common case, kept at C speed
            dtypes.update(_python_number_dtype(kind) for kind in kinds)
            return data
        return [_read_sequence(item, dtypes) for item in data]
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars "
                             "(a tensor inside a list is read as its one value; join tensors "
                             "with torch.stack or torch.cat)")
        dtypes.add(data._data.dtype)
        return data._data.reshape(())
    if isinstance(data, (np.ndarray, np.generic)):
        dtypes.add(data.dtype)
    elif type(data) in _PYTHON_NUMBERS:
        dtypes.add(_python_number_dtype(type(data)))
    return data


def _sequence_dtype(dtypes):
    """The dtype PyTorch gives a sequence whose elements have ``dtypes``: their promotion
    (``[np.float64(1), 2.0]`` is float64, ``[np.int32(3), 4]`` int64); empty: the default."""
    result = None
    for dtype in dtypes:
        result = dtype if result is None else _dtypes.promote_numpy(result, dtype)
    return _dtypes.default_float() if result is None else result


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array or a tensor).
    A tensor inside a list counts as its one value, as in PyTorch.

    >>> chainrule.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    if isinstance(data, Tensor):
        data = data._data
    try:
        if isinstance(data, (list, tuple)):
            dtypes = set()
            data = _read_sequence(data, dtypes)
            inferred = _sequence_dtype(dtypes)
        else:
            inferred = None if dtype is not None else _infer_dtype(data)
        np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else inferred
        array = np.array(data, dtype=np_dtype)
    except (ValueError, TypeError) as error:
        raise ValueError(f"tensor(): could not make a tensor from this data: {error}") from None
    _dtypes.from_numpy_dtype(array.dtype)
    return _finish(array, requires_grad, device)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor``, but shares memory with an array or tensor of the right dtype."""
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    same_dtype = dtype is None or _dtypes.to_numpy_dtype(dtype) == getattr(data, "dtype", None)
    if isinstance(data, np.ndarray) and same_dtype:
        _dtypes.from_numpy_dtype(data.dtype)
        return _finish(data, False, device)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with ``array``: changes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    _dtypes.from_numpy_dtype(array.dtype)
    return _wrap(array)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.zeros(_shape(sizes, size), _float_dtype(dtype)), requires_grad, device)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.ones(_shape(sizes, size), _float_dtype(dtype)), requires_grad, device)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    return _finish(np.empty(_shape(sizes, size), _float_dtype(dtype)), requires_grad, device)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = _infer_dtype(fill_value.item() if isinstance(fill_value, Tensor) else fill_value)
    array = np.full(_size_arg((size,)), fill_value, dtype=_dtypes.to_numpy_dtype(dtype))
    return _finish(array, requires_grad, device)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        integral = all(isinstance(v, numbers.Integral) for v in values)
        dtype = np.int64 if integral else _dtypes.default_float()
    np_dtype = _dtypes.to_numpy_dtype(dtype)
    if _dtypes.is_float(np_dtype):
        # start + i * step in float64, then rounded once (as PyTorch does); NumPy's float32
        # arange would repeat a rounded step and drift
        array = np.arange(*values, dtype=np.float64).astype(np_dtype)
    else:
        array = np.arange(*values, dtype=np_dtype)
    return _finish(array, requires_grad, device)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    array = np.linspace(start, end, int(steps), dtype=_float_dtype(dtype))
    return _finish(array, requires_grad, device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    array = np.logspace(start, end, int(steps), base=base, dtype=_float_dtype(dtype))
    return _finish(array, requires_grad, device)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1)."""
    np_dtype = _float_dtype(dtype)
    array = numpy_generator(generator).random(_shape(sizes, size),
                                              dtype=_sampling_dtype(np_dtype))
    return _finish(array.astype(np_dtype, copy=False), requires_grad, device)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples."""
    np_dtype = _float_dtype(dtype)
    array = numpy_generator(generator).standard_normal(
        _shape(sizes, size), dtype=_sampling_dtype(np_dtype)
    )
    return _finish(array.astype(np_dtype, copy=False), requires_grad, device)


def _sampling_dtype(np_dtype):
    return np_dtype if np_dtype in (np.float32, np.float64) else np.float64


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers drawn uniformly from [low, high); ``randint(high, size)`` starts at 0."""
    if size is None and isinstance(high, (tuple, list, Size)):
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() needs a size, e.g. randint(0, 10, (3,))")
    if low >= high:
        raise RuntimeError(f"randint: the range [{low}, {high}) is empty; low must be < high")
    np_dtype = _dtypes.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    array = numpy_generator(generator).integers(low, high, size=_size_arg((size,)))
    return _finish(array.astype(np_dtype), requires_grad, device)


def randperm(n, *, generator=None, dtype=None, device=None):
    array = numpy_generator(generator).permutation(int(n))
    return _finish(array.astype(_dtypes.to_numpy_dtype(dtype or np.int64)), False, device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False):
    """Normal samples, in PyTorch's forms: ``normal(mean_tensor, std=1.0)``,
    ``normal(mean, std_tensor)``, ``normal(mean_tensor, std_tensor)`` (broadcast), or
    ``normal(mean, std, size)`` for two numbers."""
    mean_array = mean._data if isinstance(mean, Tensor) else mean
    std_array = std._data if isinstance(std, Tensor) else std
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal(mean, std) of two numbers needs a size: normal(mean, std, size), "
                        "or give mean or std as a tensor")
    if tensors and (size is not None or dtype is not None):
        raise TypeError("normal(): size and dtype go only with a number mean and std; "
                        "with a tensor mean or std, the result takes its shape and dtype")
    if size is not None:
        shape, np_dtype = _size_arg((size,)), _float_dtype(dtype)
    else:
        shape = np.broadcast(mean_array, std_array).shape
        np_dtype = np.result_type(*[t._data.dtype for t in tensors])
    noise = numpy_generator(generator).standard_normal(shape).astype(np_dtype)
    result = _finish(np.asarray(mean_array + std_array * noise, dtype=np_dtype), requires_grad,
                     device)
    return result if out is None else out.copy_(result)


def bernoulli(input, p=None, *, generator=None):
    probability = input._data if p is None else p
    draws = numpy_generator(generator).random(input._data.shape) < probability
    return _wrap(draws.astype(input._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices sampled from the rows of ``input`` (non-negative weights)."""
    rng = numpy_generator(generator)
    weights = np.atleast_2d(input._data.astype(np.float64))
    rows = []
    for row in weights:
        total = row.sum()
        if total <= 0 or not np.all(np.isfinite(row)) or np.any(row < 0):
            raise RuntimeError("multinomial: weights must be non-negative, finite, and not all 0")
        rows.append(rng.choice(row.size, size=num_samples, replace=replacement, p=row / total))
    result = np.asarray(rows, dtype=np.int64)
    return _wrap(result if input._data.ndim == 2 else result[0])


def _like(factory):
    def like(input, *, dtype=None, device=None, requires_grad=False, **kwargs):
        dtype = dtype if dtype is not None else input._data.dtype
        return factory(input._data.shape, dtype=dtype, device=device, requires_grad=requires_grad,
                       **kwargs)

    like.__name__ = factory.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)
rand_like = _like(rand)
randn_like = _like(randn)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    dtype = dtype if dtype is not None else input._data.dtype
    return full(input._data.shape, fill_value, dtype=dtype, device=device,
                requires_grad=requires_grad)


def randint_like(input, low, high=None, *, dtype=None, generator=None):
    dtype = dtype if dtype is not None else input._data.dtype
    return randint(low, high, input._data.shape, dtype=dtype, generator=generator)


def _new(factory):
    def new(self, *sizes, size=None, dtype=None, device=None, requires_grad=False):
        dtype = dtype if dtype is not None else self._data.dtype
        return factory(*sizes, size=size, dtype=dtype, device=device,
                       requires_grad=requires_grad)

    return new


Tensor.new_zeros = _new(zeros)
Tensor.new_ones = _new(ones)
Tensor.new_empty = _new(empty)
Tensor.new_full = lambda self, size, fill_value, *, dtype=None, device=None, requires_grad=False: (
    full(size, fill_value, dtype=dtype or self._data.dtype, device=device,
         requires_grad=requires_grad))
Tensor.new_tensor = lambda self, data, *, dtype=None, device=None, requires_grad=False: tensor(
    data, dtype=dtype or self._data.dtype, device=device, requires_grad=requires_grad)
