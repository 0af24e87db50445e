"""Matrix functions beyond products: inverse, determinant, diagonals, and the fused
multiply-add forms (``addmm`` ...). ``Inverse``, ``Det`` and ``Slogdet`` are primitives with
their derivatives; the rest are built from them and the ops of ``linalg``."""


import numpy as np

from .. import return_types
from ..autograd.function import Function
from . import elementwise as E
from . import join as J
from . import linalg as L
from . import reduce as R
from ._operands import float_array, normalize_dim, wrap
from .registry import register

SlogdetResult = return_types.slogdet


def _check_square(a, op):
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{tuple(a.shape)[-2:]} matrices")


class Inverse(Function):
    """Y = A^-1;  dA = -Y^T dY Y^T."""

    @staticmethod
    def forward(ctx, a):
        _check_square(a, "inverse")
        try:
            y = wrap(np.linalg.inv(float_array(a._data)))
        except np.linalg.LinAlgError:
            raise RuntimeError("linalg.inv: The diagonal element of the factorization is zero, "
                               "so the matrix is singular and has no inverse") from None
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        yt = y.transpose(-2, -1)
        return -(yt @ grad_out @ yt)


class Det(Function):
    """d = det(A);  dA = dd * d * A^-T, which is dd times A's cofactor matrix; for a singular A
    (no inverse) the cofactors come from the SVD A = U S V^T: det(U) det(V) U diag(c) V^T,
    c_i the product of the other singular values (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a):
        _check_square(a, "det")
        ctx.save_for_backward(a)
        d = wrap(np.asarray(np.linalg.det(float_array(a._data))))
        ctx.det = d
        return d

    @staticmethod
    def backward(ctx, grad_out):
        (a,) = ctx.saved_tensors
        if not np.all(ctx.det._data != 0):
            cofactors = wrap(_cofactors(float_array(a._data)))
            return grad_out.unsqueeze(-1).unsqueeze(-1) * cofactors
        scale = (grad_out * ctx.det).unsqueeze(-1).unsqueeze(-1)
        return scale * inverse(a).transpose(-2, -1)


def _cofactors(a):
    """The cofactor matrix of each square matrix in ``a`` (singular ones too), from its SVD."""
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    others = np.where(np.eye(n, dtype=bool), 1.0, s[..., None, :]).prod(axis=-1)
    signs = np.linalg.det(u) * np.linalg.det(vh)
    return (u * others[..., None, :]) @ vh * signs[..., None, None]


class Slogdet(Function):
    """(s, l) = (sign det A, log |det A|);  dA = dl * A^-T (the sign has no gradient)."""

    @staticmethod
    def forward(ctx, a):
        _check_square(a, "slogdet")
        ctx.save_for_backward(a)
        sign, logabs = np.linalg.slogdet(float_array(a._data))
        sign = wrap(np.asarray(sign))
        ctx.mark_non_differentiable(sign)
        return sign, wrap(np.asarray(logabs))

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        (a,) = ctx.saved_tensors
        return grad_logabs.unsqueeze(-1).unsqueeze(-1) * inverse(a).transpose(-2, -1)


def inverse(input):
    """The inverse of a square matrix (or of each in a batch)."""
    return Inverse.apply(input)


def det(input):
    return Det.apply(input)


def slogdet(input):
    """(sign, log|det|), the numerically safe determinant."""
    return SlogdetResult(*Slogdet.apply(input))


def logdet(input):
    """log det A: NaN where det A < 0, -inf where it is 0."""
    sign, logabs = slogdet(input)
    return E.where(sign < 0, float("nan"), logabs)


def solve(A, B):
    """X with A X = B (through A's inverse)."""
    return inverse(A) @ B


def matrix_power(input, n):
    """A^n by repeated squaring (n < 0: of the inverse)."""
    _check_square(input, "matrix_power")
    if n < 0:
        input, n = inverse(input), -n
    result = None
    base = input
    while n:
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    if result is None:
        eye = np.broadcast_to(np.eye(input.shape[-1], dtype=input._data.dtype), input.shape)
        return wrap(eye.copy())
    return result


def _diagonal_view(array, offset, d1, d2):
    """The ``offset`` diagonal of ``array``'s (d1, d2) planes as its last dim: a view that can
    be written through (NumPy's own ``np.diagonal`` is read-only), as PyTorch's is."""
    start = [slice(None)] * array.ndim
    start[d1], start[d2] = slice(max(-offset, 0), None), slice(max(offset, 0), None)
    corner = array[tuple(start)]  # the diagonal's first element at the view's start
    length = max(min(corner.shape[d1], corner.shape[d2]), 0)
    kept = [axis for axis in range(array.ndim) if axis not in (d1, d2)]
    shape = tuple(corner.shape[axis] for axis in kept) + (length,)
    strides = tuple(corner.strides[axis] for axis in kept) + (
        corner.strides[d1] + corner.strides[d2],)
    return np.lib.stride_tricks.as_strided(corner, shape, strides,
                                           writeable=corner.flags.writeable)


class Diagonal(Function):
    """y = the ``offset`` diagonal of x's (d1, d2) planes (a view);  dx = zeros with dy on that
    diagonal (``DiagonalScatter``, whose own backward is this op again)."""

    @staticmethod
    def forward(ctx, x, *, offset, d1, d2):
        ctx.shape, ctx.offset, ctx.d1, ctx.d2 = x._data.shape, offset, d1, d2
        return wrap(_diagonal_view(x._data, offset, d1, d2))._become_view_of(x)

    @staticmethod
    def backward(ctx, grad_out):
        return DiagonalScatter.apply(grad_out, shape=ctx.shape, offset=ctx.offset, d1=ctx.d1,
                                     d2=ctx.d2)


class DiagonalScatter(Function):
    """y = zeros of ``shape`` with x on the ``offset`` diagonal of its (d1, d2) planes;
    dx = dy's diagonal."""

    @staticmethod
    def forward(ctx, x, *, shape, offset, d1, d2):
        ctx.offset, ctx.d1, ctx.d2 = offset, d1, d2
        out = np.zeros(shape, x._data.dtype)
        _diagonal_view(out, offset, d1, d2)[...] = x._data
        return wrap(out)

    @staticmethod
    def backward(ctx, grad_out):
        return Diagonal.apply(grad_out, offset=ctx.offset, d1=ctx.d1, d2=ctx.d2)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, as the last dim: a view, as in PyTorch (writing
    into it writes into ``input``)."""
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(f"diagonal(): expected a tensor of at least 2 dims, got {ndim}")
    d1, d2 = normalize_dim(dim1, ndim, "diagonal"), normalize_dim(dim2, ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal(): dim1 and dim2 cannot be the same dim ({dim1}, {dim2})")
    return Diagonal.apply(input, offset=int(offset), d1=d1, d2=d2)


def trace(input):
    if input._data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.dim()}")
    return diagonal(input).sum()


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose ``offset`` diagonal is the last dim of ``input``."""
    shift = abs(offset)
    values = input
    if shift:
        values = J.cat([input, input.new_zeros((*input.shape[:-1], shift))], -1)
    eye = wrap(np.eye(values.shape[-1], k=offset, dtype=float_array(input._data).dtype))
    # row i holds x[i] at column i + offset (offset >= 0); column j holds x[j] below it (< 0)
    out = (values.unsqueeze(-1) if offset >= 0 else values.unsqueeze(-2)) * eye
    if (dim1, dim2) != (-2, -1):
        out = out.movedim((-2, -1), (dim1, dim2))
    return out


def diag(input, diagonal=0):
    """A 1-D tensor: the matrix with it on a diagonal; a matrix: that diagonal."""
    if input._data.ndim == 1:
        return diag_embed(input, offset=diagonal)
    if input._data.ndim == 2:
        return globals()["diagonal"](input, offset=diagonal)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.dim()}D")


def diagflat(input, offset=0):
    return diag_embed(input.reshape(-1), offset=offset)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (the first dim of size 3 when None)."""
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("cross: no dimension of size 3 in input")
    a = [input.select(dim, i) for i in range(3)]
    b = [other.select(dim, i) for i in range(3)]
    parts = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
    return J.stack(parts, dim=dim)


def kron(input, other):
    """The Kronecker product."""
    ndim = max(input.ndim, other.ndim)
    a = input.reshape((1,) * (ndim - input.ndim) + tuple(input.shape))
    b = other.reshape((1,) * (ndim - other.ndim) + tuple(other.shape))
    a_exp = a.reshape([s for d in a.shape for s in (d, 1)])
    b_exp = b.reshape([s for d in b.shape for s in (1, d)])
    return (a_exp * b_exp).reshape([x * y for x, y in zip(a.shape, b.shape)])


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * mat1 @ mat2."""
    return _scaled_sum(input, L.mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return _scaled_sum(input, L.matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    return _scaled_sum(input, L.outer(vec1, vec2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, L.bmm(batch1, batch2).sum(0), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return _scaled_sum(input, L.bmm(batch1, batch2), beta, alpha)


def _scaled_sum(input, product, beta, alpha):
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # PyTorch ignores input then, NaN included
        return scaled
    return (input if beta == 1 else input * beta) + scaled


def mv(input, vec):
    return L.matmul(input, vec)


def inner(input, other):
    """Sum over the last dims of both (a scalar product for vectors)."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    return tensordot(input, other, dims=([-1], [-1]))


def tensordot(a, b, dims=2):
    """Contract ``dims`` (a count of trailing/leading dims, or two lists of dims)."""
    if isinstance(dims, int):
        dims_a = list(range(a.ndim - dims, a.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = (list(d) if isinstance(d, (list, tuple)) else [d] for d in dims)
    dims_a = [normalize_dim(d, a.ndim, "tensordot") for d in dims_a]
    dims_b = [normalize_dim(d, b.ndim, "tensordot") for d in dims_b]
    keep_a = [d for d in range(a.ndim) if d not in dims_a]
    keep_b = [d for d in range(b.ndim) if d not in dims_b]
    size = int(np.prod([a.shape[d] for d in dims_a], dtype=np.int64))
    left = a.permute(*keep_a, *dims_a).reshape(-1, size)
    right = b.permute(*dims_b, *keep_b).reshape(size, -1)
    return L.mm(left, right).reshape([a.shape[d] for d in keep_a] + [b.shape[d] for d in keep_b])


def vdot(input, other):
    return L.dot(input, other)


def chain_matmul(*matrices):
    result = matrices[0]
    for matrix in matrices[1:]:
        result = L.mm(result, matrix)
    return result


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances between the rows of x1 and of x2 (batched)."""
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    if p == 0:
        return (difference != 0).sum(-1).to(x1.dtype)
    return R.norm(difference, p, -1)  # (its gradient at a distance of 0 is 0, as PyTorch's)


# -- registration ------------------------------------------------------------------------------
register(inverse, Inverse)
register(det, Det)
register(slogdet, Slogdet)
register(logdet)
register(matrix_power)
register(trace)
register(diagonal, Diagonal, DiagonalScatter)
register(diag)
register(diag_embed)
register(diagflat)
register(cross)
register(kron)
register(addmm)
register(addmv)
register(addr)
register(addbmm)
register(baddbmm)
register(mv)
register(inner)
register(tensordot, method=False)
register(vdot)
register(chain_matmul, method=False)
register(cdist, method=False)
