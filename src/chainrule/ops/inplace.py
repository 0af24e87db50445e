"""In-place operations (``x.add_(y)``, ``x[key] = v``, ``x += y``): one rule for all of them.

An in-place op writes its out-of-place result into the tensor's own memory and bumps its
version counter, so that any op that saved the old value notices (``_bump_version``). Outside
the graph that is all. While the graph is recorded, the out-of-place op runs on a clone of the
old value and the tensor takes the new node as its ``grad_fn`` (PyTorch "rebases" in-place ops
the same way). A write through a view also gives the view's root, and the root's other views,
a graph that sees it (``view_writes.py``). Writing into a leaf that requires grad is refused, as
is writing into a tensor that shares memory with another one in some way that is not a view
(``detach()``, ``.data``), because its gradient could not follow.
"""

import sys

import numpy as np

from ..autograd import grad_mode
from ..tensor import Tensor
from .index import index_add, index_put, scatter, scatter_add, set_in_place
from .registry import register
from .view_writes import CopySlices, adopt, rebase_views, write_through_view


def _recording(tensor, others):
    """Whether the graph records an op on ``tensor`` and ``others``."""
    if not grad_mode.is_grad_enabled():
        return False
    if tensor._requires_grad:
        return True
    if any(isinstance(o, Tensor) and o._requires_grad for o in others):
        return True
    # a view made under no_grad of a tensor that requires grad: modify_in_place refuses it
    base = tensor._base
    return base is not None and base._requires_grad


def _shares_memory_with_another_live_tensor(tensor):
    """Whether ``tensor``'s memory belongs to another tensor that is still alive.

    Tensors over one memory share a version counter (a one-element list), so the list is
    referenced by every live tensor over that memory: more references than this tensor's own
    one (plus getrefcount's argument) means another tensor sees the same memory."""
    return tensor._data.base is not None and sys.getrefcount(tensor._version_box) > 2


def _write(tensor, result):
    """Write an in-place op's out-of-place ``result`` into ``tensor``'s memory."""
    if result._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"in-place operation: the result has shape {tuple(result.shape)}, which does "
            f"not fit the tensor's shape {tuple(tensor.shape)}; broadcasting cannot grow a "
            "tensor in place"
        )
    if not np.can_cast(result._data.dtype, tensor._data.dtype, casting="same_kind"):
        raise RuntimeError(
            f"in-place operation: result type {result.dtype} can't be cast to the tensor's "
            f"dtype {tensor.dtype}; use the out-of-place form"
        )
    np.copyto(tensor._data, result._data, casting="same_kind")
    tensor._bump_version()


def modify_in_place(tensor, out_of_place, *others):
    """Write ``out_of_place(tensor)`` into ``tensor``'s memory and bump its version; ``others``
    are the op's other operands (they decide, with ``tensor``, whether the graph records)."""
    recording = _recording(tensor, others)
    if not recording:
        result = out_of_place(tensor)
        _write(tensor, result)
        return tensor
    if tensor._base is not None:  # a view
        result = write_through_view(tensor, out_of_place, _write)
        return tensor
    if tensor._requires_grad and tensor.grad_fn is None:
        raise RuntimeError(
            "a leaf tensor that requires grad is being used in an in-place operation; "
            "wrap the update in `with chainrule.no_grad():`, or work on a clone()"
        )
    views = tensor._views  # the views of this tensor made so far
    if views is None and _shares_memory_with_another_live_tensor(tensor):
        raise RuntimeError(
            "in-place operation on a tensor that shares its memory with another one (not as "
            "a view: detach(), .data, from_numpy) while the graph is recorded: that tensor "
            "would change without its gradient knowing. Write into a clone(), or use "
            "out-of-place operations"
        )
    required_grad = tensor._requires_grad
    result = out_of_place(tensor.clone())
    _write(tensor, result)
    adopt(tensor, result)
    if views is not None:
        rebase_views(tensor, required_grad)
    return tensor


def maybe_in_place(input, inplace, op):
    """``op(input)``, or its result written into ``input`` when ``inplace`` (the functional
    forms' ``inplace=True``)."""
    if inplace:
        return modify_in_place(input, op)
    return op(input)


def _in_place_fast(tensor, ufunc, other):
    """``ufunc(tensor, other, out=tensor)`` when nothing is recorded; None when it can't be."""
    if _recording(tensor, (other,)):
        return None
    other_array = other._data if isinstance(other, Tensor) else other
    try:
        ufunc(tensor._data, other_array, out=tensor._data, casting="same_kind")
    except (ValueError, TypeError):
        return None  # let the general path produce the clear error
    tensor._bump_version()
    return tensor


def _nowhere(tensor):
    """An all-False mask of ``tensor``'s shape (a broadcast view: no memory)."""
    return Tensor._from_array(np.broadcast_to(np.False_, tensor._data.shape))


# -- the in-place methods -------------------------------------------------------------------
def add_(self, other, *, alpha=1):
    if alpha == 1 and _in_place_fast(self, np.add, other) is not None:
        return self
    return modify_in_place(self, lambda s: s.add(other, alpha=alpha), other)


def sub_(self, other, *, alpha=1):
    if alpha == 1 and _in_place_fast(self, np.subtract, other) is not None:
        return self
    return modify_in_place(self, lambda s: s.sub(other, alpha=alpha), other)


def mul_(self, other):
    if _in_place_fast(self, np.multiply, other) is not None:
        return self
    return modify_in_place(self, lambda s: s * other, other)


def div_(self, other):
    if self._data.dtype.kind == "f" and _in_place_fast(self, np.true_divide, other) is not None:
        return self
    return modify_in_place(self, lambda s: s / other, other)


def pow_(self, exponent):
    return modify_in_place(self, lambda s: s**exponent, exponent)


def clamp_(self, min=None, max=None):
    return modify_in_place(self, lambda s: s.clamp(min, max), min, max)


def neg_(self):
    return modify_in_place(self, lambda s: -s)


def exp_(self):
    return modify_in_place(self, lambda s: s.exp())


def sqrt_(self):
    return modify_in_place(self, lambda s: s.sqrt())


def relu_(self):
    return modify_in_place(self, lambda s: s.relu())


def sigmoid_(self):
    return modify_in_place(self, lambda s: s.sigmoid())


def tanh_(self):
    return modify_in_place(self, lambda s: s.tanh())


def addcmul_(self, tensor1, tensor2, *, value=1):
    return modify_in_place(self, lambda s: s + value * tensor1 * tensor2, tensor1, tensor2)


def addcdiv_(self, tensor1, tensor2, *, value=1):
    return modify_in_place(self, lambda s: s + value * tensor1 / tensor2, tensor1, tensor2)


def lerp_(self, end, weight):
    return modify_in_place(self, lambda s: s + weight * (end - s), end, weight)


def masked_fill_(self, mask, value):
    return modify_in_place(self, lambda s: s.masked_fill(mask, value), value)


def fill_(self, value):
    if _recording(self, (value,)):
        # where(), not s * 0 + value: the old values may be inf or nan
        return modify_in_place(self, lambda s: s.where(_nowhere(s), value), value)
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._bump_version()
    return self


def zero_(self):
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copy ``src`` (broadcast to self's shape) into self; gradient flows to ``src``."""
    if not isinstance(src, Tensor):
        src = Tensor._from_array(np.asarray(src))
    if not _recording(self, (src,)):
        try:
            np.copyto(self._data, np.broadcast_to(src._data, self._data.shape),
                      casting="unsafe")
        except ValueError:
            raise RuntimeError(
                f"copy_: source of shape {tuple(src.shape)} cannot be broadcast to "
                f"{tuple(self.shape)}"
            ) from None
        self._bump_version()
        return self
    return modify_in_place(self, lambda s: s.where(_nowhere(s), src.to(s._data.dtype)), src)


def index_put_(self, indices, values, accumulate=False):
    return modify_in_place(self, lambda s: index_put(s, indices, values, accumulate), values)


def index_add_(self, dim, index, source, *, alpha=1):
    return modify_in_place(self, lambda s: index_add(s, dim, index, source, alpha=alpha),
                           index, source)


def scatter_(self, dim, index, src=None, *, value=None):
    return modify_in_place(self, lambda s: scatter(s, dim, index, src, value=value), index, src)


def scatter_add_(self, dim, index, src):
    return modify_in_place(self, lambda s: scatter_add(s, dim, index, src), index, src)


def setitem(self, key, value):
    """``self[key] = value``, with PyTorch's indexing rules."""
    if not _recording(self, (value,)):
        set_in_place(self, key, value)
        self._bump_version()
        return
    modify_in_place(self, lambda s: s.index_put(key, value), value)


# -- registration: Tensor methods only, unless stated otherwise ------------------------------
register(add_, top=False, operators=("__iadd__",))
register(sub_, top=False, operators=("__isub__",))
register(mul_, top=False, operators=("__imul__",))
register(div_, top=False, operators=("__itruediv__",))
register(pow_, top=False)
register(clamp_, top=False, aliases=("clip_",))
register(neg_, top=False)
register(exp_, top=False)
register(sqrt_, top=False)
register(relu_, functional=True)
register(sigmoid_, top=False)
register(tanh_, top=False)
register(addcmul_, top=False)
register(addcdiv_, top=False)
register(lerp_, top=False)
register(masked_fill_, top=False)
register(fill_, top=False)
register(zero_, top=False)
register(copy_, CopySlices, top=False)
register(setitem, name="__setitem__", top=False)
register(index_put_, top=False)
register(index_add_, top=False)
register(scatter_, top=False)
register(scatter_add_, top=False)
