"""``Parameter`` and ``Buffer``: tensors that a ``Module`` registers when they are assigned to it.

A ``Parameter`` is a leaf tensor that requires grad by default and that ``Module.parameters()``
yields. A ``Buffer`` marks a tensor (running statistics, masks) for ``Module.buffers()`` and the
state dict; it is not trained."""

import numpy as np

from .. import _dtypes, creation
from .._device import as_cpu
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


def optional_parameter(wanted, shape, dtype=None, device=None):
    """A new, uninitialised ``Parameter`` of ``shape`` when ``wanted``, else None: what a
    layer's ``bias=`` (or ``affine=``) flag makes. The layer registers it either way, so that
    a missing bias is an attribute that is None, as in PyTorch::

        self.register_parameter("bias", optional_parameter(bias, out_features, dtype, device))
    """
    if not wanted:
        return None
    return Parameter(creation.empty(shape, dtype=dtype, device=device))


class Parameter(Tensor):
    """A tensor that is a module parameter; it shares memory with ``data``.

    >>> w = chainrule.nn.Parameter(chainrule.zeros(2, 3))
    >>> w.requires_grad
    True
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            array = np.empty((0,), dtype=np.float32)
            version_box = [0]
        elif isinstance(data, Tensor):
            array, version_box = data._data, data._version_box
        else:
            raise TypeError(
                f"Parameter() expects a tensor, got {type(data).__name__}; wrap the values "
                "with chainrule.tensor(...) first"
            )
        self._data = array
        self._version_box = version_box
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class _BufferMeta(type):
    # ``Buffer(t)`` returns a plain tensor tagged as a buffer; isinstance() reads the tag.
    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(metaclass=_BufferMeta):
    """Marks a tensor as a module buffer when assigned (``self.mask = nn.Buffer(t)``).

    Returns the tensor's values as a detached tensor (shared memory) tagged with ``persistent``:
    non-persistent buffers are left out of ``state_dict()``."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = Tensor._from_array(np.empty((0,), dtype=np.float32))
        if not isinstance(data, Tensor):
            raise TypeError(f"Buffer() expects a tensor, got {type(data).__name__}")
        tensor = data.detach()
        tensor.requires_grad = data.requires_grad
        tensor.persistent = persistent
        tensor._is_buffer = True
        return tensor


# What an uninitialised tensor still answers: the graph and dtype bookkeeping that a module's
# dtype conversion, an optimizer's constructor and a state dict need before the first call.
_ANSWERED_BEFORE_SHAPE = frozenset({
    "materialize", "cls_to_become", "requires_grad", "requires_grad_", "grad", "grad_fn",
    "is_leaf", "retains_grad", "dtype", "device", "is_floating_point", "persistent",
    "register_hook", "register_post_accumulate_grad_hook", "share_memory_",
})


def _refuse_before_shape(self, name):
    # NOTE: names starting with "_" are chainrule's own internals (module and optimizer
    # bookkeeping): only the public tensor API is refused
    if name[0] != "_" and name not in _ANSWERED_BEFORE_SHAPE:
        raise ValueError(
            f"attempted to use an uninitialized parameter ({name}): it belongs to a lazy "
            "module (nn.LazyLinear, nn.LazyConv2d, ...), whose sizes are set by its first "
            "call. Run one batch through the model first (a dry run: model(example))"
        )
    return object.__getattribute__(self, name)


def _materialize(self, shape, device=None, dtype=None):
    """Give the tensor ``shape`` (values uninitialised, as ``empty``) and make it a
    ``Parameter`` (or a plain buffer tensor) in place."""
    as_cpu(device)
    dtype = self._data.dtype if dtype is None else _dtypes.to_numpy_dtype(dtype)
    self._data = np.empty(tuple(int(size) for size in shape), dtype)
    self.__class__ = self.cls_to_become


def _uninitialized_repr(self):
    return f"<{type(self).__name__}>"


def _reduce_uninitialized(self, protocol):
    # (pickled as what it is: a new uninitialised tensor of the same dtype)
    return type(self), (self._requires_grad, None, self._data.dtype)


def _refusing(name):
    def refuse(self, *args, **kwargs):
        _refuse_before_shape(self, name.strip("_"))

    return refuse


# Operators are looked up on the class, past __getattribute__: each refuses by name too.
_OPERATORS = {
    f"__{name}__": _refusing(f"__{name}__") for name in (
        "add radd iadd sub rsub isub mul rmul imul truediv rtruediv itruediv floordiv "
        "rfloordiv mod rmod pow rpow ipow matmul rmatmul neg pos abs invert and rand or ror "
        "xor rxor lt le gt ge eq ne getitem setitem len iter bool float int index array "
        "format contains".split())
}


class UninitializedParameter(Parameter):
    """A parameter whose shape a lazy module learns at its first call (``nn.LazyLinear`` and
    the other ``Lazy*`` layers). Until ``materialize(shape)`` it has a dtype (``module.double()``
    before the first call is kept) but no values: any other use is an error saying to run one
    batch through the module first. ``materialize`` turns it, in place, into a ``Parameter``:
    an optimizer built before the first call holds the same object and updates it afterwards.
    (Methods assigned, not inherited from a mixin: a class with a second base could not
    change into ``Parameter`` in place.)"""

    cls_to_become = Parameter
    __getattribute__ = _refuse_before_shape
    materialize = _materialize
    __repr__ = __str__ = _uninitialized_repr
    __reduce_ex__ = _reduce_uninitialized

    def __init__(self, requires_grad=True, device=None, dtype=None):
        as_cpu(device)
        np_dtype = _dtypes.default_float() if dtype is None else _dtypes.to_numpy_dtype(dtype)
        super().__init__(Tensor._from_array(np.empty((0,), np_dtype)), requires_grad)


class UninitializedBuffer(Tensor):
    """A buffer (running statistics) whose shape a lazy module learns at its first call, as
    ``UninitializedParameter``."""

    cls_to_become = Tensor
    __getattribute__ = _refuse_before_shape
    materialize = _materialize
    __repr__ = __str__ = _uninitialized_repr
    __reduce_ex__ = _reduce_uninitialized

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        as_cpu(device)
        np_dtype = _dtypes.default_float() if dtype is None else _dtypes.to_numpy_dtype(dtype)
        self._data = np.empty((0,), np_dtype)
        self._version_box = [0]
        self.persistent = persistent
        if requires_grad:
            self.requires_grad = True


for _lazy_class in (UninitializedParameter, UninitializedBuffer):
    for _name, _method in _OPERATORS.items():
        setattr(_lazy_class, _name, _method)
    _lazy_class.__hash__ = object.__hash__  # (defining __eq__ above unset it)


def is_lazy(tensor):
    """Whether ``tensor`` is an uninitialised parameter or buffer of a lazy module."""
    return isinstance(tensor, (UninitializedParameter, UninitializedBuffer))
