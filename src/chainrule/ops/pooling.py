"""Pooling over strided window views of the input, for any number of spatial dims.

Each pooling op is linear once its windows are fixed, so its backward is its adjoint, and the
adjoint's backward is the op again: ``MaxPool`` (a gather of the window maxima) <-> ``MaxPoolGrad``
(a scatter-add), ``AvgPool`` <-> ``AvgPoolGrad``, and ``AdaptiveAvgPool`` (contraction with
averaging matrices) is its own adjoint with the matrices transposed.
"""

import numpy as np

from .. import kernels
from .._dtypes import is_float
from ..autograd.function import Function
from ._operands import wrap
from .conv import ntuple, pad_array, windows
from .registry import register


# -- geometry ----------------------------------------------------------------------------------
def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooled length; in ceil mode the last window must start inside the input or its
    left padding."""
    span = size + 2 * p - d * (k - 1) - 1
    if ceil_mode:
        out = -(-span // s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
    else:
        out = span // s + 1
    return out


class _Windows:
    """Where the windows of one pooling call lie: kernel, stride, dilation, (lo, hi) padding
    (hi grows in ceil mode so the last window fits), input and output spatial shapes."""

    def __init__(self, op, spatial, kernel, stride, padding, dilation, ceil_mode):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation
        self.spatial = spatial
        for k, p in zip(kernel, padding):
            if p > k // 2:
                raise RuntimeError(f"{op}: padding should be at most half of the kernel size, "
                                   f"but got padding={padding} and kernel_size={kernel}")
        self.out = tuple(_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                         zip(spatial, kernel, stride, padding, dilation))
        if any(o <= 0 for o in self.out):
            raise RuntimeError(f"{op}: the input's spatial size {spatial} is too small for "
                               f"kernel {kernel} (padding {padding}, dilation {dilation}); the "
                               f"output size would be {self.out}")
        self.padding = tuple(
            (p, max(p, (o - 1) * s + d * (k - 1) + 1 - n - p))
            for n, k, s, p, d, o in zip(spatial, kernel, stride, padding, dilation, self.out)
        )

    def unpadded(self):
        """True when no window reaches into padding (every window lies inside the input)."""
        return all(lo == 0 and hi == 0 for lo, hi in self.padding)

    def view(self, x, fill=0.0):
        """(N, C, *kernel, *out) windows of ``x`` padded with ``fill``."""
        return windows(pad_array(x, self.padding, fill), self.kernel, self.stride,
                       self.dilation, self.out)

    def scatter(self, grad, dtype):
        """The adjoint of summing each window: add ``grad`` (N, C, *out) back to every element
        of its window, then drop the padding."""
        n, c = grad.shape[:2]
        padded = tuple(s + lo + hi for s, (lo, hi) in zip(self.spatial, self.padding))
        canvas = np.zeros((n, c) + padded, dtype=dtype)
        for k in np.ndindex(*self.kernel):
            target = tuple(slice(k[i] * self.dilation[i],
                                 k[i] * self.dilation[i] + self.stride[i] * (o - 1) + 1,
                                 self.stride[i]) for i, o in enumerate(self.out))
            canvas[(slice(None),) * 2 + target] += grad
        crop = tuple(slice(lo, lo + s) for s, (lo, _) in zip(self.spatial, self.padding))
        return canvas[(slice(None),) * 2 + crop]


# -- max pooling -------------------------------------------------------------------------------
def _max_indices(x, geometry):
    """Per output element: the flat index of its window's maximum within its (H*W) plane, and
    the maximum itself. Passes over strided views, one per kernel position (np.argmax over the
    non-contiguous window axis copies the windows and is ~5x slower); the first maximum wins a
    tie and a NaN counts as the maximum (the first NaN), as np.argmax does."""
    nd = len(geometry.kernel)
    fast = kernels.load("pool", x) if nd == 2 and geometry.unpadded() else None
    if fast is not None and not fast.supported(geometry.kernel, geometry.stride):
        fast = None  # (where the kernels are no faster than the lines below)
    if fast is not None and fast.halving(geometry.kernel, geometry.stride, geometry.dilation):
        # NOTE: the commonest pooling (MaxPool2d(2)) keeps where in each window its maximum
        # is, not flat indices: its backward then writes every gradient element once
        which, values = fast.max_pool_halving(x)
        return _HalvingPlaces(which, x.shape), values
    if fast is not None:  # NOTE: one pass over the windows; the lines below are its reference
        return fast.max_pool2d(x, geometry.kernel, geometry.stride, geometry.dilation,
                               geometry.out)
    fill = -np.inf if is_float(x.dtype) else np.iinfo(x.dtype).min
    win = geometry.view(x, fill)
    positions = list(np.ndindex(*geometry.kernel))
    views = [win[(slice(None),) * 2 + k] for k in positions]
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)  # NaN propagates
    # which position holds the maximum first: small integer arithmetic on contiguous masks is
    # far cheaper than masked writes (np.copyto(where=...)) into the index array
    which = np.zeros(best.shape, dtype=np.uint8 if len(views) < 256 else np.int64)
    if len(views) > 1:
        nan = np.isnan(best) if is_float(x.dtype) else None
        if nan is not None and not nan.any():
            nan = None
        found = np.zeros(best.shape, dtype=bool)
        for number, view in enumerate(views):
            hit = view == best
            if nan is not None:
                hit |= nan & np.isnan(view)
            hit &= ~found
            found |= hit
            if number:
                which += hit.astype(which.dtype) * which.dtype.type(number)
    strides = [int(np.prod(geometry.spatial[i + 1:])) for i in range(nd)]
    table = np.array([sum(k[i] * geometry.dilation[i] * strides[i] for i in range(nd))
                      for k in positions], dtype=np.int64)
    start = np.zeros((), dtype=np.int64)
    for i in range(nd):
        begin = np.arange(geometry.out[i]) * geometry.stride[i] - geometry.padding[i][0]
        start = start[..., None] * geometry.spatial[i] + begin
    return table.take(which) + start, best


def _disjoint(geometry):
    """True when no two windows share an element and none has padding (then the argmax indices
    are distinct; a window of padding and -inf could otherwise point outside its own)."""
    return all(s >= d * (k - 1) + 1 and p == (0, 0) for k, s, d, p in
               zip(geometry.kernel, geometry.stride, geometry.dilation, geometry.padding))


def _global(plane_index, input_shape):
    """Plane indices (N, C, *out) -> flat indices into the whole input, as int32 when the input
    has fewer than 2^31 elements: these are kept from forward to backward, and int32 halves
    them (PyTorch keeps int64; ``return_indices`` still gives int64 plane indices)."""
    n, c = input_shape[:2]
    plane_size = int(np.prod(input_shape[2:]))
    dtype = np.int32 if n * c * plane_size < 2**31 else np.int64
    base = (np.arange(n * c, dtype=dtype) * dtype(plane_size)).reshape(
        (n, c) + (1,) * (plane_index.ndim - 2))
    return plane_index.astype(dtype) + base


class _HalvingPlaces:
    """Where the maximum of each 2x2 window (two apart, unpadded) is: ``which`` (N, C, OH, OW)
    from ``kernels.pool.max_pool_halving``, 0 and 1 along the window's top row, 2 and 3 along
    its bottom one. Flat indices are made from it only for a path that asks for them."""

    def __init__(self, which, input_shape):
        self.which, self.input_shape = which, tuple(input_shape)

    def plane(self):
        """In-plane int64 indices (N, C, OH, OW), as ``return_indices`` gives them."""
        code = self.which.astype(np.int64)
        out_h, out_w = self.which.shape[2:]
        width = self.input_shape[3]
        corner = 2 * width * np.arange(out_h)[:, None] + 2 * np.arange(out_w)
        return corner + (code // 2) * width + code % 2

    def flat(self):
        return _global(self.plane(), self.input_shape)


def _flat_index(index):
    """Flat indices into the whole input, from either form MaxPool keeps."""
    return index.flat() if isinstance(index, _HalvingPlaces) else index


class MaxPool(Function):
    """y = x at each window's argmax (a gather at fixed indices);  dx = dy added back at those
    indices (``MaxPoolGrad``)."""

    # the indices go once backward is done (as PyTorch's saved indices do): they are a quarter
    # of the input's size, and a conv net's peak comes later in its backward pass
    _transient = ("index",)

    @staticmethod
    def forward(ctx, input, *, index, values=None, disjoint=False):
        ctx.index, ctx.disjoint = index, disjoint
        # saved as PyTorch saves it (changing it in place before backward is an error there
        # too); saving also lets the engine release this node, and the indices with it
        ctx.save_for_backward(input)
        if values is not None:  # the maxima, found with the indices: no gather needed
            return wrap(values)
        return wrap(np.ascontiguousarray(input._data).reshape(-1)[_flat_index(index)])

    @staticmethod
    def backward(ctx, grad_out):
        (input,) = ctx.saved_tensors  # (a second backward after the release raises here)
        return MaxPoolGrad.apply(grad_out, index=ctx.index, input_shape=tuple(input.shape),
                                 disjoint=ctx.disjoint)


class MaxPoolGrad(Function):
    """dx = dy scatter-added at the argmax indices (overlapping windows add up);
    its backward gathers again:  d(dy) = g at the indices (``MaxPool``)."""

    @staticmethod
    def forward(ctx, grad_output, *, index, input_shape, disjoint=False):
        ctx.index, ctx.disjoint = index, disjoint
        data = grad_output._data
        fast = kernels.load("pool", data)
        if isinstance(index, _HalvingPlaces):
            if fast is not None:  # NOTE: one write per element; the scatter below is its ref.
                return wrap(fast.max_pool_halving_backward(index.which, data, input_shape))
            index = index.flat()
        if fast is not None:  # NOTE: one pass; the NumPy scatter below is its reference
            return wrap(fast.scatter(index, data, int(np.prod(input_shape)),
                                     disjoint).reshape(input_shape))
        if disjoint:  # distinct indices: a plain scatter, no float64 bincount
            out = np.zeros(int(np.prod(input_shape)), dtype=data.dtype)
            out[index.reshape(-1)] = data.reshape(-1)
            return wrap(out.reshape(input_shape))
        summed = np.bincount(index.reshape(-1), weights=data.reshape(-1),
                             minlength=int(np.prod(input_shape)))
        return wrap(summed.astype(data.dtype, copy=False).reshape(input_shape))

    @staticmethod
    def backward(ctx, grad_out):
        return MaxPool.apply(grad_out, index=ctx.index, disjoint=ctx.disjoint)


# -- average pooling ---------------------------------------------------------------------------
def _avg_scale(geometry, count_include_pad, divisor_override, dtype):
    """1 / divisor per output position (separable: a product of per-dim factors)."""
    if divisor_override:
        return np.asarray(1.0 / divisor_override, dtype=dtype)
    scale = np.ones((), dtype=np.float64)
    for n, k, s, (p, _), o in zip(geometry.spatial, geometry.kernel, geometry.stride,
                                  geometry.padding, geometry.out):
        start = np.arange(o) * s - p
        end = np.minimum(start + k, n + p)  # windows are clipped to the padded input
        if count_include_pad:
            count = end - start
        else:
            count = np.minimum(end, n) - np.maximum(start, 0)
        scale = np.multiply.outer(scale, 1.0 / count)
    return scale.astype(dtype)


class AvgPool(Function):
    """y = (sum of each zero-padded window) * scale;  dx = ``AvgPoolGrad``(dy): dy * scale added
    back to every element of its window."""

    @staticmethod
    def forward(ctx, input, *, geometry, scale):
        ctx.geometry, ctx.scale = geometry, scale
        nd = len(geometry.kernel)
        win = geometry.view(input._data)
        summed = win.sum(axis=tuple(range(2, 2 + nd)), dtype=input._data.dtype)
        return wrap(summed * scale)

    @staticmethod
    def backward(ctx, grad_out):
        return AvgPoolGrad.apply(grad_out, geometry=ctx.geometry, scale=ctx.scale)


class AvgPoolGrad(Function):
    """dx = every window gets dy * scale (the adjoint of AvgPool);  d(dy) = AvgPool(g)."""

    @staticmethod
    def forward(ctx, grad_output, *, geometry, scale):
        ctx.geometry, ctx.scale = geometry, scale
        data = grad_output._data
        return wrap(np.ascontiguousarray(geometry.scatter(data * scale, data.dtype)))

    @staticmethod
    def backward(ctx, grad_out):
        return AvgPool.apply(grad_out, geometry=ctx.geometry, scale=ctx.scale)


# -- adaptive average pooling ------------------------------------------------------------------
def _adaptive_matrix(size, out, dtype):
    """(out, size) averaging matrix; window i is [floor(i*size/out), ceil((i+1)*size/out))."""
    matrix = np.zeros((out, size), dtype=np.float64)
    for i in range(out):
        start, end = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix.astype(dtype)


class AdaptiveAvgPool(Function):
    """y = x contracted with an averaging matrix A_d along each spatial dim d;
    dx = dy contracted with A_d^T (the same op with the matrices transposed)."""

    @staticmethod
    def forward(ctx, input, *, matrices):
        ctx.matrices = matrices
        y = input._data
        first = y.ndim - len(matrices)
        for axis, matrix in enumerate(matrices, start=first):
            y = np.moveaxis(np.matmul(matrix, np.moveaxis(y, axis, -2)), -2, axis)
        return wrap(np.ascontiguousarray(y))

    @staticmethod
    def backward(ctx, grad_out):
        return AdaptiveAvgPool.apply(grad_out, matrices=tuple(m.T for m in ctx.matrices))


# -- public functions --------------------------------------------------------------------------
def _batched(op, input, nd):
    if input.ndim == nd + 1:
        return input.reshape((1,) + tuple(input.shape)), True
    if input.ndim != nd + 2:
        raise RuntimeError(f"{op}: expected a {nd + 1}-D (unbatched) or {nd + 2}-D (batched) "
                           f"input, but got input of shape {tuple(input.shape)}")
    return input, False


def _unbatched(output, added):
    return output.reshape(tuple(output.shape)[1:]) if added else output


def _max_poolnd(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):
    x, added = _batched(op, input, nd)
    kernel = ntuple(kernel_size, nd, op, "kernel_size")
    stride = kernel if stride is None or stride == [] else ntuple(stride, nd, op, "stride")
    geometry = _Windows(op, tuple(x.shape[2:]), kernel, stride, ntuple(padding, nd, op, "padding"),
                        ntuple(dilation, nd, op, "dilation"), ceil_mode)
    plane, values = _max_indices(x._data, geometry)
    places = isinstance(plane, _HalvingPlaces)
    index = plane if places else _global(plane, x._data.shape)
    out = _unbatched(MaxPool.apply(x, index=index, values=values, disjoint=_disjoint(geometry)),
                     added)
    if return_indices:
        return out, _unbatched(wrap(plane.plane() if places else plane), added)
    return out


def avg_poolnd(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override):
    x, added = _batched(op, input, nd)
    if not is_float(x._data.dtype):
        raise RuntimeError(f"{op}: expected a floating point input, got {x.dtype}; use x.float()")
    kernel = ntuple(kernel_size, nd, op, "kernel_size")
    stride = kernel if stride is None or stride == [] else ntuple(stride, nd, op, "stride")
    geometry = _Windows(op, tuple(x.shape[2:]), kernel, stride, ntuple(padding, nd, op, "padding"),
                        (1,) * nd, ceil_mode)
    scale = _avg_scale(geometry, count_include_pad, divisor_override, x._data.dtype)
    return _unbatched(AvgPool.apply(x, geometry=geometry, scale=scale), added)


def adaptive_avg_poolnd(op, nd, input, output_size):
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{op}: expected a {nd + 1}-D or {nd + 2}-D input, but got input of "
                           f"shape {tuple(input.shape)}")
    if not is_float(input._data.dtype):
        raise RuntimeError(f"{op}: expected a floating point input, got {input.dtype}")
    spatial = tuple(input.shape[-nd:])
    sizes = (output_size,) * nd if isinstance(output_size, (int, type(None))) else output_size
    if len(sizes) != nd:
        raise ValueError(f"{op}: output_size must be an int or a tuple of {nd}, got "
                         f"{output_size!r}")
    sizes = tuple(s if o is None else int(o) for s, o in zip(spatial, sizes))
    if any(o <= 0 for o in sizes):
        raise ValueError(f"{op}: output_size must be positive, got {output_size!r}")
    matrices = tuple(_adaptive_matrix(s, o, input._data.dtype) for s, o in zip(spatial, sizes))
    return AdaptiveAvgPool.apply(input, matrices=matrices)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, L); with return_indices, also each max's position."""
    return _max_poolnd("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, H, W); indices are flat within each H*W plane."""
    return _max_poolnd("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over sliding windows of (N, C, D, H, W)."""
    return _max_poolnd("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over sliding windows of (N, C, L)."""
    return avg_poolnd("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, H, W)."""
    return avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W)."""
    return avg_poolnd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)


def adaptive_avg_pool1d(input, output_size):
    """Mean pooling of (N, C, L) to exactly ``output_size`` positions."""
    return adaptive_avg_poolnd("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Mean pooling of (N, C, H, W) to exactly ``output_size`` (None keeps that dim's size)."""
    return adaptive_avg_poolnd("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Mean pooling of (N, C, D, H, W) to exactly ``output_size``."""
    return adaptive_avg_poolnd("adaptive_avg_pool3d", 3, input, output_size)


# -- registration: nn.functional.X, unless stated otherwise ----------------------------------
register(max_pool1d, MaxPool, MaxPoolGrad, top=False, method=False, functional=True)
register(max_pool2d, MaxPool, MaxPoolGrad, top=False, method=False, functional=True)
register(max_pool3d, MaxPool, MaxPoolGrad, top=False, method=False, functional=True)
register(avg_pool1d, AvgPool, AvgPoolGrad, method=False, functional=True)  # also chainrule.X
register(avg_pool2d, AvgPool, AvgPoolGrad, top=False, method=False, functional=True)
register(avg_pool3d, AvgPool, AvgPoolGrad, top=False, method=False, functional=True)
register(adaptive_avg_pool1d, AdaptiveAvgPool, method=False, functional=True)  # also chainrule.X
register(adaptive_avg_pool2d, AdaptiveAvgPool, top=False, method=False, functional=True)
register(adaptive_avg_pool3d, AdaptiveAvgPool, top=False, method=False, functional=True)
