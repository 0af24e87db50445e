"""Writing in place through a view while the graph is recorded (PyTorch's CopySlices).

A view (``y[:, :2]``, ``y.t()``, ``y.view(-1)``, ``y.diagonal()`` ...) remembers the root
tensor whose memory it shares (``Tensor._base``) and the root keeps a weak list of its views
(``Tensor._become_view_of``). When an in-place op writes through a view ``v`` of root ``r``:

- the op's out-of-place result is computed from ``v`` as for any in-place op, and written into
  the shared memory;
- ``r`` gets a new ``grad_fn``, a ``CopySlices`` node: ``r_new`` is ``r_old`` with ``v``'s
  elements replaced by the result, so the gradient to ``r_old`` is the incoming one with those
  elements zeroed, and the gradient to the result is the incoming one at those elements;
- every live view of ``r`` (``v`` itself, and the views made earlier) gets a ``grad_fn`` that
  reads its elements from ``r_new``, so that later uses of any of them see the write (PyTorch
  regenerates them the same way, when they are next used).

Where a view's elements lie is found from the arrays themselves (their addresses and strides),
as flat positions into the root; no view op has to describe itself. Ops that saved the root or
a view before the write still fail at backward: they share one version counter.
"""

import numpy as np

from ..autograd.function import Function
from ._operands import wrap
from .index import index_put


def strided_positions(size, stride, offset=0):
    """``offset + sum_k i_k * stride_k`` at every index ``(i_0, i_1, ...)`` of shape ``size``:
    the elements ``as_strided(size, stride, offset)`` reads, as int64."""
    positions = np.full(tuple(size), offset, dtype=np.int64)
    for axis, (n, s) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[axis] = n
        positions = positions + (np.arange(n, dtype=np.int64) * s).reshape(shape)
    return positions


def _address(array):
    return array.__array_interface__["data"][0]


def flat_positions(view, root):
    """Where each element of ``view`` (an array over ``root``'s memory) lies in ``root``, as
    indices into ``root.reshape(-1)``; None when ``view`` does not lie in ``root``'s elements
    (another dtype, or memory the root no longer holds)."""
    item = root.itemsize
    shift = _address(view) - _address(root)
    if view.dtype != root.dtype or shift % item or any(s % item for s in view.strides):
        return None
    # each element's distance from the root's first element, in elements
    memory = strided_positions(view.shape, [s // item for s in view.strides], shift // item)
    if root.flags.c_contiguous:
        inside = memory.size == 0 or (memory.min() >= 0 and memory.max() < root.size)
        return memory if inside else None
    # any other layout: number the root's elements in a scratch array laid out as the root is
    if any(s % item for s in root.strides):
        return None
    strides = [s // item for s in root.strides]
    low = sum((n - 1) * s for n, s in zip(root.shape, strides) if s < 0)
    span = 1 + sum((n - 1) * abs(s) for n, s in zip(root.shape, strides))
    numbers = np.full(span, -1, dtype=np.int64)
    laid_out = np.lib.stride_tricks.as_strided(numbers[-low:], root.shape,
                                               [s * numbers.itemsize for s in strides])
    laid_out[...] = np.arange(root.size, dtype=np.int64).reshape(root.shape)
    memory = memory - low
    if memory.size and (memory.min() < 0 or memory.max() >= span):
        return None
    positions = numbers[memory]
    return None if (positions < 0).any() else positions


class CopySlices(Function):
    """y = base with the elements at flat ``positions`` replaced by ``values`` (an in-place
    write through a view; the values are already in the base's memory, so the forward copies
    nothing);  dbase = dy with those elements zeroed,  dvalues = dy at those elements. The
    backward is made of differentiable ops (index, index_put): gradients of gradients follow.
    """

    @staticmethod
    def forward(ctx, base, values, *, positions):
        ctx.positions, ctx.shape = positions, base._data.shape
        return wrap(base._data)._share_version(base)

    @staticmethod
    def backward(ctx, grad_out):
        flat = grad_out.reshape(-1)
        where = wrap(ctx.positions)
        grad_base = grad_values = None
        if ctx.needs_input_grad[0]:
            grad_base = index_put(flat, (where,), flat.new_zeros(())).reshape(ctx.shape)
        if ctx.needs_input_grad[1]:
            grad_values = flat[where]
        return grad_base, grad_values


def check_writable_view(view):
    """Refuse, as PyTorch does, the in-place writes through a view that the graph cannot
    follow; return the view's root."""
    root = view._base
    if root._requires_grad and root.grad_fn is None:
        raise RuntimeError(
            "a view of a leaf tensor that requires grad is being used in an in-place "
            "operation; wrap the update in `with chainrule.no_grad():`, or clone() first"
        )
    if view._view_maker is not None:
        raise RuntimeError(
            f"this view is an output of {view._view_maker} (a function that returns several "
            "views, like chunk, split and unbind), and such views may not be modified in "
            "place while the graph is recorded, as in PyTorch. Use the out-of-place op "
            "(e.g. piece = piece * 2), clone() the piece first, or write into the tensor it "
            "came from by indexing (x[:, :2] *= 2)"
        )
    if root._requires_grad and not view._requires_grad:
        raise RuntimeError(
            "a view made in no_grad mode is being modified in place with grad mode enabled; "
            "as in PyTorch this is refused, being ambiguous. Make the view and modify it both "
            "inside the no_grad block (not tracked) or both outside it (tracked)"
        )
    return root


def write_through_view(view, out_of_place, write):
    """Run ``out_of_place`` on ``view``, let ``write(view, result)`` put the result into the
    shared memory, and give the root and its views the graph that says so. Returns the
    result."""
    root = check_writable_view(view)
    positions = flat_positions(view._data, root._data)
    if positions is None:
        raise RuntimeError(
            "in-place operation through a view whose memory its base no longer holds (the "
            "base's data was replaced): write into a clone(), or use the out-of-place op"
        )
    result = out_of_place(view.clone())
    write(view, result)
    required_grad = root._requires_grad
    adopt(root, CopySlices.apply(root, result, positions=positions))
    rebase_views(root, required_grad)
    return result


def rebase_views(root, root_required_grad):
    """Give each live view of ``root`` (just written in place, while recorded) a ``grad_fn``
    that reads its elements from the root's new version. A view made under no_grad from a root
    that required grad stays outside the graph, as it was made."""
    flat = None
    for view in root._views.alive():
        if not (view._requires_grad or not root_required_grad):
            continue
        positions = flat_positions(view._data, root._data)
        if positions is None:
            continue  # the root's memory was replaced: the view no longer shows it
        if flat is None:
            flat = root.reshape(-1)
        adopt(view, flat[wrap(positions)])


def adopt(tensor, result):
    """Make ``tensor`` take the place of ``result`` in the graph (an in-place write's node)."""
    tensor._requires_grad = True
    tensor.grad_fn = result.grad_fn
    tensor._output_nr = result._output_nr
