"""Tensor methods that are not ops (no gradient flows through them): legacy casts
(``byte()``), queries (``nelement()``), in-place fills with random numbers (``uniform_``),
in-place reshapes of the metadata (``unsqueeze_``), ``resize_`` and Python-function maps
(``apply_``). The tensor layer attaches them; ``chainrule/__init__.py`` imports this module."""

import math

import numpy as np

from . import _dtypes, _torch_functions, creation
from .autograd import grad_mode
from .random import numpy_generator
from .tensor import Tensor, constructor_array

wrap = Tensor._from_array


# -- casts and queries -----------------------------------------------------------------------
def _cast_to(name):
    def cast(self, memory_format=None):
        return self.to(getattr(_dtypes, name))

    cast.__name__ = name
    return cast


Tensor.byte, Tensor.char, Tensor.short = _cast_to("uint8"), _cast_to("int8"), _cast_to("int16")
Tensor.nelement = Tensor.numel
Tensor.ndimension = Tensor.dim
Tensor.is_signed = lambda self: self._data.dtype.kind in "if" or (
    self._data.dtype.name == "bfloat16")
Tensor.is_nonzero = lambda self: bool(self.item())
Tensor.is_same_size = lambda self, other: tuple(self.shape) == tuple(other.shape)
Tensor.storage_offset = lambda self: 0
Tensor.share_memory_ = lambda self: self  # one process holds it; pickling copies the array
Tensor.is_shared = lambda self: False
Tensor.H = property(lambda self: self.t() if self.ndim == 2 else self)
Tensor.mH = property(lambda self: self.transpose(-2, -1))
Tensor.output_nr = property(lambda self: self._output_nr)


def _new(self, *args, dtype=None, device=None):
    """Legacy ``x.new(...)``: a tensor of x's dtype from sizes or data."""
    return wrap(constructor_array(self._data.dtype if dtype is None else
                                  _dtypes.to_numpy_dtype(dtype), args))


Tensor.new = _new


# -- random fills ------------------------------------------------------------------------------
def _fill_from(self, draw, generator):
    """Write ``draw(rng, shape)`` into self (no gradient flows through a random fill)."""
    values = draw(numpy_generator(generator), self._data.shape)
    with grad_mode.no_grad():
        self.copy_(wrap(np.asarray(values).astype(self._data.dtype, copy=False)))
    return self


Tensor.uniform_ = lambda self, a=0.0, b=1.0, *, generator=None: _fill_from(
    self, lambda rng, shape: rng.uniform(a, b, shape), generator)
Tensor.normal_ = lambda self, mean=0.0, std=1.0, *, generator=None: _fill_from(
    self, lambda rng, shape: rng.normal(mean, std, shape), generator)
Tensor.exponential_ = lambda self, lambd=1.0, *, generator=None: _fill_from(
    self, lambda rng, shape: rng.exponential(1.0 / lambd, shape), generator)
Tensor.cauchy_ = lambda self, median=0.0, sigma=1.0, *, generator=None: _fill_from(
    self, lambda rng, shape: median + sigma * rng.standard_cauchy(shape), generator)
Tensor.log_normal_ = lambda self, mean=1.0, std=2.0, *, generator=None: _fill_from(
    self, lambda rng, shape: rng.lognormal(mean, std, shape), generator)
Tensor.geometric_ = lambda self, p, *, generator=None: _fill_from(
    self, lambda rng, shape: rng.geometric(p, shape), generator)


def _random_(self, from_=0, to=None, *, generator=None):
    """Integers uniform in [from, to) (to: the dtype's limit when not given)."""
    if to is None:
        if self._data.dtype.kind == "f":
            to = 2 ** np.finfo(self._data.dtype).nmant + 1
        elif self._data.dtype.kind == "b":
            to = 2
        else:
            to = int(np.iinfo(self._data.dtype).max) + 1
        if from_ and to is not None and from_ >= to:
            raise RuntimeError("random_ expects 'from' to be less than 'to'")
    return _fill_from(self, lambda rng, shape: rng.integers(from_, to, shape), generator)


def _bernoulli_(self, p=0.5, *, generator=None):
    probability = p._data if isinstance(p, Tensor) else p
    return _fill_from(self, lambda rng, shape: rng.random(shape) < probability, generator)


Tensor.random_, Tensor.bernoulli_ = _random_, _bernoulli_


def _bernoulli(self, p=None, *, generator=None):
    return creation.bernoulli(self, p, generator=generator)


def _multinomial(self, num_samples, replacement=False, *, generator=None):
    return creation.multinomial(self, num_samples, replacement, generator=generator)


Tensor.bernoulli, Tensor.multinomial = _bernoulli, _multinomial


def _fill_diagonal_(self, fill_value, wrap=False):
    """Fill the main diagonal (of a matrix, or of an all-equal-sides tensor) in place."""
    data = self._data
    if data.ndim == 2:
        rows, cols = data.shape
        step = cols + 1
        end = data.size if wrap else min(rows, cols) * cols
        flat = np.arange(0, end, step)
        index = np.unravel_index(flat[flat < data.size], data.shape)
    else:
        if len(set(data.shape)) != 1:
            raise RuntimeError("all dimensions of input must be of equal length")
        index = (np.arange(data.shape[0]),) * data.ndim
    mask = np.zeros(data.shape, dtype=bool)
    mask[index] = True
    return self.masked_fill_(Tensor._from_array(mask), fill_value)


Tensor.fill_diagonal_ = _fill_diagonal_


# -- in-place reshapes (metadata only, as PyTorch's) -----------------------------------------
def _reshaped_in_place(method):
    def in_place(self, *args, **kwargs):
        if self.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                f"{method}_: changing the shape of a tensor that requires grad in place is not "
                f"supported in chainrule; use the out-of-place x = x.{method}(...)"
            )
        self._data = getattr(self, method)(*args, **kwargs)._data
        return self

    in_place.__name__ = method + "_"
    return in_place


for _name in ("unsqueeze", "squeeze", "t", "transpose", "swapaxes", "swapdims", "as_strided"):
    setattr(Tensor, _name + "_", _reshaped_in_place(_name))


def _resize_(self, *sizes, memory_format=None):
    """Give the tensor a new shape in place, keeping the leading elements (new ones are 0)."""
    shape = tuple(sizes[0]) if len(sizes) == 1 and not isinstance(sizes[0], int) else sizes
    count = math.prod(shape)
    flat = self._data.reshape(-1)
    data = np.zeros(count, dtype=flat.dtype)
    data[:min(count, flat.size)] = flat[:count]
    self._data = data.reshape(shape)
    return self


Tensor.resize_ = _resize_
Tensor.resize_as_ = lambda self, other, memory_format=None: _resize_(self, tuple(other.shape))
Tensor.resize = lambda self, *sizes: _resize_(self.clone(), *sizes)
Tensor.resize_as = lambda self, other: _resize_(self.clone(), tuple(other.shape))


# -- Python functions over the elements ------------------------------------------------------
def _apply_(self, callable):
    values = np.vectorize(callable, otypes=[self._data.dtype])(self._data)
    self._data[...] = values
    self._bump_version()
    return self


def _map_(self, tensor, callable):
    values = np.vectorize(callable, otypes=[self._data.dtype])(
        self._data, np.broadcast_to(tensor._data, self._data.shape))
    self._data[...] = values
    self._bump_version()
    return self


Tensor.apply_, Tensor.map_ = _apply_, _map_


# -- answers about layout and identity, as PyTorch's for a dense CPU tensor -------------------
Tensor.volatile = False  # removed in PyTorch 0.4: always False
Tensor.name = None
Tensor.dim_order = lambda self, *, ambiguity_check=False: tuple(range(self.ndim))
Tensor.const_data_ptr = lambda self: self.data_ptr()
Tensor.is_distributed = lambda self: False
Tensor.is_set_to = lambda self, tensor: self._data is tensor._data or (
    self._data.__array_interface__ == tensor._data.__array_interface__)
Tensor.as_subclass = lambda self, cls: self if isinstance(self, cls) else (
    _as_subclass(self, cls))
Tensor.module_load = lambda self, other, assign=False: other  # load_state_dict's hook


def _as_subclass(tensor, cls):
    out = object.__new__(cls)
    out._data = tensor._data
    out._share_version(tensor)
    return out


def _map2_(self, x, y, callable):
    values = np.vectorize(callable, otypes=[self._data.dtype])(
        self._data, np.broadcast_to(x._data, self._data.shape),
        np.broadcast_to(y._data, self._data.shape))
    self._data[...] = values
    self._bump_version()
    return self


Tensor.map2_ = _map2_


Tensor.nonzero_static = _torch_functions.nonzero_static  # torch.nonzero_static's method form

# Removed in PyTorch 1.9 (Tensor.solve ...) or 0.4 (reinforce): calling them raises, as there.
Tensor.solve = _torch_functions.solve
Tensor.lstsq = _torch_functions.lstsq
Tensor.symeig = _torch_functions.symeig
Tensor.grad_dtype = property(lambda self: self.dtype)


def _reinforce(self, reward):
    raise RuntimeError("reinforce() was removed.\nUse torch.distributions instead.")


Tensor.reinforce = _reinforce
