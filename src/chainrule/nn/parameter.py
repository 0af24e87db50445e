"""``Parameter`` and ``Buffer``: tensors that a ``Module`` registers when they are assigned to it.

A ``Parameter`` is a leaf tensor that requires grad by default and that ``Module.parameters()``
yields. A ``Buffer`` marks a tensor (running statistics, masks) for ``Module.buffers()`` and the
state dict; it is not trained."""

import numpy as np

from .. import creation
from ..tensor import Tensor

__all__ = ["Parameter", "Buffer"]


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
