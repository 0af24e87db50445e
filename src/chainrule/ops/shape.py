"""Shape operations: views and rearrangements whose gradient is the inverse rearrangement.

Views share memory with their input, so they share its version counter too: modifying a view
in place is seen by every op that saved the base."""

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_ops import Expand, SumToSize
from ._operands import normalize_dim, normalize_dims, wrap
from .registry import register


def _view_of(x, array, made_by=None):
    """A tensor over ``array``: a view of ``x`` when it shares ``x``'s memory (``made_by``: the
    op's name when it returns several views)."""
    out = wrap(array)
    if array.base is not None and np.may_share_memory(array, x._data):
        out._become_view_of(x, made_by)
    return out


def _shape_arg(shape):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the shape (2, 3)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


class Reshape(Function):
    """y = x with a new shape (a view when the memory layout allows);  dx = dy reshaped back."""

    @staticmethod
    def forward(ctx, x, *, shape):
        ctx.input_shape = x._data.shape
        try:
            return _view_of(x, x._data.reshape(shape))
        except ValueError:
            raise RuntimeError(
                f"reshape: shape {list(shape)} is invalid for input of size {x._data.size} "
                f"(shape {tuple(x.shape)})"
            ) from None

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.reshape(ctx.input_shape)


class Permute(Function):
    """y = x with its dims reordered (a view);  dx = dy with the inverse order."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return _view_of(x, x._data.transpose(dims))

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out.permute(tuple(np.argsort(ctx.dims)))


# -- public functions --------------------------------------------------------------------------
def reshape(input, *shape):
    """The same elements in a new shape (a view when the layout allows, else a copy)."""
    return Reshape.apply(input, shape=_shape_arg(shape))


def view(input, *shape):
    """Like reshape, but errors where reshape would have to copy (as PyTorch's view does)."""
    shape = _resolve_shape(_shape_arg(shape), input._data.size)
    if int(np.prod(shape)) != input._data.size:
        raise RuntimeError(f"view: shape {list(shape)} is invalid for input of size "
                           f"{input._data.size} (shape {tuple(input.shape)})")
    try:
        np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    return Reshape.apply(input, shape=shape)


def _resolve_shape(shape, size):
    shape = list(shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred (-1)")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1]))
        if known == 0 or size % known:
            raise RuntimeError(f"shape {shape} is invalid for input of size {size}")
        shape[shape.index(-1)] = size // known
    return tuple(shape)


def expand(input, *sizes):
    """A broadcast view with size-1 dims grown to ``sizes`` (-1 keeps a size)."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input._data.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes ({len(sizes)}) must be at least the tensor's number "
            f"of dimensions ({input._data.ndim})"
        )
    shape = tuple(
        input._data.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    if shape == input._data.shape:
        return input
    return Expand.apply(input, shape=shape)


def expand_as(input, other):
    """``expand`` to ``other``'s shape."""
    return expand(input, other.shape)


def sum_to_size(input, *size):
    """Sum over the dims that broadcasting to this tensor's shape would add or grow."""
    shape = _shape_arg(size)
    if shape == input._data.shape:
        return input
    return SumToSize.apply(input, shape=shape)


def permute(input, *dims):
    """A view with the dims reordered."""
    dims = tuple(normalize_dim(d, input._data.ndim, "permute") for d in _shape_arg(dims))
    if sorted(dims) != list(range(input._data.ndim)):
        raise RuntimeError(
            f"permute: dims {dims} are not a permutation of the tensor's {input._data.ndim} dims"
        )
    return Permute.apply(input, dims=dims)


def transpose(input, dim0, dim1):
    """A view with two dims swapped."""
    ndim = input._data.ndim
    if ndim == 0:
        return input
    dims = list(range(ndim))
    d0, d1 = normalize_dim(dim0, ndim, "transpose"), normalize_dim(dim1, ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(input, dims=tuple(dims))


def t(input):
    """Transpose a matrix (vectors and scalars are returned as they are)."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but got {input.ndim}")
    return transpose(input, 0, 1) if input._data.ndim == 2 else input


def squeeze(input, dim=None):
    """Remove size-1 dims (all of them, or those among ``dim``)."""
    shape = input._data.shape
    if dim is None:
        new_shape = tuple(s for s in shape if s != 1)
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        axes = {normalize_dim(d, len(shape), "squeeze") for d in dims}
        new_shape = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return reshape(input, new_shape)


def unsqueeze(input, dim):
    """Insert a size-1 dim at position ``dim``."""
    ndim = input._data.ndim + 1
    d = normalize_dim(dim, ndim, "unsqueeze")
    shape = list(input._data.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim``..``end_dim`` into one."""
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start = normalize_dim(start_dim, len(shape), "flatten")
    end = normalize_dim(end_dim, len(shape), "flatten")
    if start > end:
        raise RuntimeError("flatten: start_dim cannot come after end_dim")
    new_shape = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    return reshape(input, new_shape)


def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes``."""
    shape = input._data.shape
    d = normalize_dim(dim, len(shape), "unflatten")
    sizes = tuple(sizes)
    if -1 in sizes:
        sizes = _resolve_shape(sizes, shape[d])
    if int(np.prod(sizes)) != shape[d]:
        raise RuntimeError(
            f"unflatten: sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({shape[d]})"
        )
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def contiguous(input):
    """The tensor itself if C-contiguous, else a contiguous copy."""
    return input if input._data.flags.c_contiguous else input.clone()




# -- rearranging values ------------------------------------------------------------------------
class Tril(Function):
    """y = x with the elements above diagonal k zeroed;  dx = tril(dy, k)."""

    @staticmethod
    def forward(ctx, x, *, diagonal):
        ctx.diagonal = diagonal
        return wrap(np.tril(x._data, diagonal))

    @staticmethod
    def backward(ctx, grad_out):
        return Tril.apply(grad_out, diagonal=ctx.diagonal)


class Triu(Function):
    """y = x with the elements below diagonal k zeroed;  dx = triu(dy, k)."""

    @staticmethod
    def forward(ctx, x, *, diagonal):
        ctx.diagonal = diagonal
        return wrap(np.triu(x._data, diagonal))

    @staticmethod
    def backward(ctx, grad_out):
        return Triu.apply(grad_out, diagonal=ctx.diagonal)


class Flip(Function):
    """y = x reversed along dims (a copy, as in PyTorch);  dx = dy reversed along dims."""

    @staticmethod
    def forward(ctx, x, *, dims):
        ctx.dims = dims
        return wrap(np.flip(x._data, dims).copy())

    @staticmethod
    def backward(ctx, grad_out):
        return Flip.apply(grad_out, dims=ctx.dims)


class Roll(Function):
    """y = x shifted cyclically along dims (flattened when dims is None);  dx = dy shifted
    back."""

    @staticmethod
    def forward(ctx, x, *, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return wrap(np.roll(x._data, shifts, dims))

    @staticmethod
    def backward(ctx, grad_out):
        back = tuple(-s for s in ctx.shifts) if ctx.dims is not None else -ctx.shifts
        return Roll.apply(grad_out, shifts=back, dims=ctx.dims)


class Pad(Function):
    """y = x with ``value`` around it (negative widths crop);  dx = dy with the widths negated
    (the padding cropped away, the cropped parts zero)."""

    @staticmethod
    def forward(ctx, x, *, widths, value):
        ctx.widths = widths
        shape = x._data.shape
        crop = tuple(slice(max(-before, 0), size - max(-after, 0))
                     for (before, after), size in zip(widths, shape))
        grow = [(max(before, 0), max(after, 0)) for before, after in widths]
        return wrap(np.pad(x._data[crop], grow, constant_values=value))

    @staticmethod
    def backward(ctx, grad_out):
        back = tuple((-before, -after) for before, after in ctx.widths)
        return Pad.apply(grad_out, widths=back, value=0)


def _check_matrix(op, input):
    if input._data.ndim < 2:
        raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got "
                           f"shape {tuple(input.shape)}")


def tril(input, diagonal=0):
    """The lower triangle of the last two dims (on and below ``diagonal``); zeros above."""
    _check_matrix("tril", input)
    return Tril.apply(input, diagonal=int(diagonal))


def triu(input, diagonal=0):
    """The upper triangle of the last two dims (on and above ``diagonal``); zeros below."""
    _check_matrix("triu", input)
    return Triu.apply(input, diagonal=int(diagonal))


def flip(input, *args, dims=None):
    """Reverse the order of elements along ``dims`` (``x.flip(0, 1)`` or ``flip(x, (0, 1))``)."""
    dims = normalize_dims(_shape_arg(args) if dims is None else _shape_arg((dims,)),
                          input._data.ndim, "flip")
    if input._data.ndim == 0:
        dims = ()  # a 0-d tensor has nothing to reverse; PyTorch accepts dim 0 or -1
    if len(set(dims)) != len(dims):
        raise RuntimeError(f"flip: dims {dims} has a repeated dim")
    return Flip.apply(input, dims=dims)


def fliplr(input):
    """Reverse along dim 1."""
    return flip(input, 1)


def flipud(input):
    """Reverse along dim 0."""
    return flip(input, 0)


def roll(input, shifts, dims=None):
    """Shift elements cyclically along ``dims`` (over the flattened tensor when None)."""
    if dims is None:
        if not isinstance(shifts, (int, np.integer)):
            if len(shifts) != 1:
                raise RuntimeError(f"roll: shifts {tuple(shifts)} need matching dims")
            shifts = shifts[0]
        return Roll.apply(input, shifts=int(shifts), dims=None)
    shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    dims = normalize_dims(dims, input._data.ndim, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"roll: shifts and dimensions must align: {len(shifts)} shifts, {len(dims)} dims"
        )
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts), dims=dims)


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode="constant", value=None):
    """Pad the last dims: ``pad = (left, right)`` for the last dim, then for the one before...
    (as ``torch.nn.functional.pad``); modes constant, reflect, replicate, circular."""
    pad = [int(p) for p in pad]
    ndim = input._data.ndim
    if len(pad) % 2:
        raise RuntimeError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"pad: padding length {len(pad)} is too large for a {ndim}-D input "
                           f"(at most {2 * ndim})")
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    per_dim = {ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    if mode == "constant":
        widths = tuple(per_dim.get(d, (0, 0)) for d in range(ndim))
        for d, (size, (before, after)) in enumerate(zip(input.shape, widths)):
            if size + before + after < 0:
                raise RuntimeError(f"pad: padding {(before, after)} makes dimension {d} (size "
                                   f"{size}) negative")
        return Pad.apply(input, widths=widths, value=0 if value is None else value)
    if value not in (None, 0):
        raise RuntimeError(f"pad: mode {mode!r} doesn't take a value argument")
    padded = len(pad) // 2
    if ndim not in (padded + 1, padded + 2):
        raise RuntimeError(
            f"pad: mode {mode!r} padding {padded} dim(s) expects a {padded + 1}-D or "
            f"{padded + 2}-D input, got shape {tuple(input.shape)}"
        )
    out = input
    for d, (before, after) in per_dim.items():
        if mode == "circular" and min(before, after) < 0:
            # PyTorch crops first and then wraps around what is left.
            start, stop = max(-before, 0), out._data.shape[d] - max(-after, 0)
            out = narrow(out, d, start, max(stop - start, 0))
            before, after = max(before, 0), max(after, 0)
        positions = _pad_positions(mode, d, out._data.shape[d], before, after)
        out = out.index_select(d, wrap(positions))
    return out


def _pad_positions(mode, dim, size, before, after):
    """For each output position along a padded dim, the input position it copies."""
    if before < 0 or after < 0:
        raise RuntimeError(f"pad: mode {mode!r} needs non-negative padding, got "
                           f"{(before, after)} for dimension {dim}")
    j = np.arange(-before, size + after)
    if mode == "reflect":
        if before >= size or after >= size:
            raise RuntimeError(f"pad: reflect padding {(before, after)} must be less than the "
                               f"size {size} of dimension {dim}")
        j = np.abs(j)
        return np.where(j >= size, 2 * (size - 1) - j, j)
    if mode == "circular":
        if before > size or after > size:
            raise RuntimeError(f"pad: circular padding {(before, after)} wraps around more "
                               f"than once (dimension {dim} has size {size})")
        return j % size
    if size == 0:
        raise RuntimeError(f"pad: cannot replicate-pad dimension {dim} of size 0")
    return np.clip(j, 0, size - 1)


def movedim(input, source, destination):
    """Move dims ``source`` to positions ``destination``; the others keep their order."""
    ndim = input._data.ndim
    source = normalize_dims(source, ndim, "movedim")
    destination = normalize_dims(destination, ndim, "movedim")
    if len(source) != len(destination):
        raise RuntimeError(f"movedim: source {source} and destination {destination} must have "
                           "the same number of dims")
    if len(set(source)) != len(source) or len(set(destination)) != len(destination):
        raise RuntimeError(f"movedim: repeated dim in source {source} or destination "
                           f"{destination}")
    rest = iter(d for d in range(ndim) if d not in source)
    moved = dict(zip(destination, source))
    return permute(input, tuple(moved[i] if i in moved else next(rest) for i in range(ndim)))




def narrow(input, dim, start, length):
    """The view of ``length`` elements of ``dim`` from ``start``."""
    d = normalize_dim(dim, input._data.ndim, "narrow")
    size = input._data.shape[d]
    start, length = int(start), int(length)
    if not -size <= start <= size:
        raise IndexError(f"narrow: start {start} is out of range for dimension {d} of size "
                         f"{size}")
    if start < 0:
        start += size
    if length < 0 or start + length > size:
        raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension "
                           f"size ({size}) of dimension {d}")
    return input[(slice(None),) * d + (slice(start, start + length),)]


def view_as(input, other):
    """``view`` to ``other``'s shape."""
    return view(input, other.shape)


def reshape_as(input, other):
    """``reshape`` to ``other``'s shape."""
    return reshape(input, other.shape)


def _transposed(self):
    """``x.T``: all dims reversed."""
    return permute(self, tuple(range(self._data.ndim - 1, -1, -1)))


def _matrix_transposed(self):
    """``x.mT``: the last two dims swapped (a batch of matrices transposed)."""
    if self._data.ndim < 2:
        raise RuntimeError("mT needs a tensor with at least 2 dimensions")
    return transpose(self, -2, -1)


# -- registration: chainrule.X and Tensor.X, unless stated otherwise ---------------------------
register(reshape, Reshape)
register(view, Reshape, top=False)
register(view_as, top=False)
register(reshape_as, top=False)
register(expand, Expand, top=False)
register(expand_as, top=False)
register(sum_to_size, SumToSize, top=False)
register(permute, Permute)
register(transpose, Permute, aliases=("swapaxes", "swapdims"))
register(t)
register(squeeze)
register(unsqueeze)
register(flatten)
register(unflatten)
register(contiguous, top=False)
register(tril, Tril)
register(triu, Triu)
register(flip, Flip)
register(fliplr)
register(flipud)
register(roll, Roll)
register(pad, Pad, top=False, method=False, functional=True)
register(movedim, aliases=("moveaxis",))
register(narrow)
register(_transposed, name="T", top=False, method=property(_transposed))
register(_matrix_transposed, name="mT", top=False, method=property(_matrix_transposed))
