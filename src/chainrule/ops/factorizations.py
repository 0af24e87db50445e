"""QR, SVD and LU factorizations with their derivatives (``torch.linalg.qr/svd/lu_factor``
and the ``torch.qr/svd/lu`` spellings reach them through ``chainrule.linalg`` and
``linalg_legacy``). Forward passes run in LAPACK through NumPy (LU: partial pivoting in NumPy,
choosing LAPACK's pivots), so the signs and pivots are PyTorch's on the CPU.

Backward rules (real matrices, PyTorch's; written with differentiable ops, so gradients of
gradients work):
- QR, A = QR (m >= n, reduced):  M = R dR^T - dQ^T Q,  dA = (dQ + Q copyltu(M)) R^-T,
  copyltu(M) = tril(M) + tril(M, -1)^T; a wide A = Q [R1 R2] splits as [X Y] with Y = Q R2;
- SVD, A = U diag(s) V^T:  dA = U [(skew(U^T dU) s + s skew(V^T dV)) / E + diag(ds)] V^T
  + (I - U U^T) dU s^-1 V^T + U s^-1 dV^T (I - V V^T),  E_jk = s_k^2 - s_j^2, skew(X) = X - X^T;
- LU, A = P L U (square):  dA = P L^-T [tril(L^T dL, -1) + triu(dU U^T)] U^-T."""

import warnings

import numpy as np

from .. import return_types
from ..autograd.function import Function
from ._operands import float_array, wrap
from .elementwise import where
from .join import cat
from .matrix import inverse
from .registry import register

QRResult, SVDResult = return_types.qr, return_types.linalg_svd


def _check_matrix(a, op):
    if a._data.ndim < 2:
        raise RuntimeError(f"linalg.{op}: The input tensor A must have at least 2 dimensions.")
    if not np.issubdtype(a._data.dtype, np.floating) and a._data.dtype.kind != "V":
        raise RuntimeError(f"linalg.{op}: Expected a floating point tensor as input. Got "
                           f"{a.dtype}")


def _mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return x.transpose(-2, -1)


def _eye_like(x, n):
    return wrap(np.eye(n, dtype=x._data.dtype))


class Qr(Function):
    """(Q, R) = qr(A); see the module docstring for dA."""

    @staticmethod
    def forward(ctx, a, *, mode="reduced"):
        _check_matrix(a, "qr")
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                               "'reduced' (default), 'r', or 'complete'")
        ctx.mode = mode
        q, r = np.linalg.qr(float_array(a._data), mode="complete" if mode == "complete"
                            else "reduced")
        q, r = wrap(q), wrap(r)
        ctx.save_for_backward(q, r)
        if mode == "r":
            return wrap(np.zeros((0,), dtype=r._data.dtype)), r
        return q, r

    @staticmethod
    def backward(ctx, grad_q, grad_r):
        q, r = ctx.saved_tensors
        m, n = q.shape[-2], r.shape[-1]
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        grad_q = q.new_zeros(q.shape) if grad_q is None else grad_q
        grad_r = r.new_zeros(r.shape) if grad_r is None else grad_r
        if m >= n:
            return _qr_square_or_tall_grad(q, r, grad_q, grad_r)
        # wide: A = [X Y] with X = Q R1 (square) and Y = Q R2
        r1, r2 = r[..., :, :m], r[..., :, m:]
        grad_r1, grad_r2 = grad_r[..., :, :m], grad_r[..., :, m:]
        y = q @ r2
        grad_x = _qr_square_or_tall_grad(q, r1, grad_q + y @ _mT(grad_r2), grad_r1)
        return _cat_last(grad_x, q @ grad_r2)


def _qr_square_or_tall_grad(q, r, grad_q, grad_r):
    m = r @ _mT(grad_r) - _mT(grad_q) @ q
    lower = m.tril()
    copied = lower + _mT(m.tril(-1))
    return (grad_q + q @ copied) @ _mT(inverse(r))


def _cat_last(a, b):
    return cat([a, b], dim=-1)


class Svd(Function):
    """(U, S, Vh) = svd(A), singular values descending; see the module docstring for dA."""

    @staticmethod
    def forward(ctx, a, *, full_matrices=True):
        _check_matrix(a, "svd")
        u, s, vh = np.linalg.svd(float_array(a._data), full_matrices=full_matrices)
        u, s, vh = wrap(u), wrap(s), wrap(vh)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, grad_u, grad_s, grad_vh):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        # full_matrices: the columns beyond k do not take part (PyTorch narrows them too)
        u, vh = u[..., :, :k], vh[..., :k, :]
        grad_u = None if grad_u is None else grad_u[..., :, :k]
        grad_vh = None if grad_vh is None else grad_vh[..., :k, :]
        if grad_u is None and grad_vh is None:
            return (u * grad_s.unsqueeze(-2)) @ vh if grad_s is not None else None
        m, n = u.shape[-2], vh.shape[-1]
        s_row, s_col = s.unsqueeze(-2), s.unsqueeze(-1)
        off_diagonal = wrap(~np.eye(k, dtype=bool))
        gap = s_row * s_row - s_col * s_col  # E_jk = s_k^2 - s_j^2
        gap = where(off_diagonal, gap, 1.0)
        inner = s.new_zeros(s.shape[:-1] + (k, k))
        if grad_u is not None:
            uhgu = _mT(u) @ grad_u
            inner = inner + (uhgu - _mT(uhgu)) * s_row
        if grad_vh is not None:
            vhgv = vh @ _mT(grad_vh)
            inner = inner + s_col * (vhgv - _mT(vhgv))
        inner = where(off_diagonal, inner / gap, 0.0)
        if grad_s is not None:
            inner = inner + grad_s.diag_embed()
        if m > k and grad_u is not None:  # tall: V is square, only U has a complement
            grad = u @ inner
            grad_u_sinv = grad_u / s_row
            grad = grad + grad_u_sinv - u @ (_mT(u) @ grad_u_sinv)
            return grad @ vh
        if n > k and grad_vh is not None:
            grad = inner @ vh
            sinv_grad_vh = grad_vh / s_col
            grad = grad + sinv_grad_vh - (sinv_grad_vh @ _mT(vh)) @ vh
            return u @ grad
        return u @ inner @ vh


# -- LU ------------------------------------------------------------------------------------------
def lu_arrays(a):
    """(packed LU, 1-based int32 pivots) of ``a`` (..., m, n) by Gaussian elimination with
    partial pivoting: at each column the row of largest magnitude (the first on ties), as
    LAPACK's getrf chooses."""
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    lu = a.reshape((-1, m, n)).astype(a.dtype, copy=True)
    k = min(m, n)
    pivots = np.zeros((lu.shape[0], k), dtype=np.int32)
    rows = np.arange(lu.shape[0])
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=-1)
        pivots[:, j] = p + 1
        top = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = top
        pivot = lu[:, j, j]
        safe = np.where(pivot == 0, 1, pivot)  # a zero column stays zero (LAPACK's info > 0)
        lu[:, j + 1:, j] /= safe[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return lu.reshape(a.shape), pivots.reshape(batch + (k,))


def permutation_from_pivots(pivots, m):
    """perm with (P^T A)[i] = A[perm[i]] for LAPACK's 1-based row interchanges."""
    flat = pivots.reshape((-1, pivots.shape[-1])).astype(np.int64) - 1
    perm = np.tile(np.arange(m), (flat.shape[0], 1))
    rows = np.arange(flat.shape[0])
    for j in range(flat.shape[1]):
        p = flat[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(pivots.shape[:-1] + (m,))


def permutation_matrix(perm, dtype):
    """P with A = P L U: P[perm[i], i] = 1."""
    m = perm.shape[-1]
    p = np.zeros(perm.shape + (m,), dtype=dtype)
    np.put_along_axis(p, perm[..., None], 1, axis=-1)  # row i of P^T has its 1 at perm[i]
    return np.swapaxes(p, -1, -2)


class LuFactor(Function):
    """LU = the packed L (unit lower, below the diagonal) and U factors of A with P A' = A;
    dA = P L^-T [tril(L^T dL, -1) + triu(dU U^T)] U^-T (square A)."""

    @staticmethod
    def forward(ctx, a, *, factors):
        lu, pivots = factors
        ctx.pivots = pivots
        out = wrap(lu)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_lu):
        (lu,) = ctx.saved_tensors
        m, n = lu.shape[-2], lu.shape[-1]
        if m != n:
            raise RuntimeError(
                f"lu_factor: the derivative is implemented for square matrices only, got "
                f"{m}x{n}; factor a square matrix, or use linalg.qr/linalg.svd for "
                "rectangular ones"
            )
        lower = lu.tril(-1) + _eye_like(lu, n)
        upper = lu.triu()
        phi = (_mT(lower) @ grad_lu.tril(-1)).tril(-1) + (grad_lu.triu() @ _mT(upper)).triu()
        p = wrap(permutation_matrix(permutation_from_pivots(ctx.pivots, m), lu._data.dtype))
        return p @ _mT(inverse(lower)) @ phi @ _mT(inverse(upper))


# -- the torch.X spellings (chainrule.linalg has the torch.linalg ones) --------------------------
def _deprecated(name, instead):
    """PyTorch's warning for the torch.X spellings it keeps in favour of torch.linalg's."""
    warnings.warn(f"torch.{name} is deprecated in favor of {instead} and will be removed in a "
                  "future PyTorch release.", UserWarning, stacklevel=3)


def qr(input, some=True):
    """(Q, R) with input = Q R; ``some=False``: Q square (``linalg.qr(A, "complete")``)."""
    _deprecated("qr", "torch.linalg.qr")
    return QRResult(*Qr.apply(input, mode="reduced" if some else "complete"))


def svd(input, some=True, compute_uv=True):
    """(U, S, V) with input = U diag(S) V^T (V, not V^T, unlike ``linalg.svd``); with
    ``compute_uv=False``, U and V are zero-filled (m, m) and (n, n) matrices."""
    if not compute_uv:
        _check_matrix(input, "svd")
        m, n = input.shape[-2], input.shape[-1]
        s = Svd.apply(input, full_matrices=False)[1]
        batch = tuple(input.shape[:-2])
        return return_types.svd(input.new_zeros(batch + (m, m)), s, input.new_zeros(batch + (n, n)))
    u, s, vh = Svd.apply(input, full_matrices=not some)
    return return_types.svd(u, s, _mT(vh))


def lu_factor_arrays(A, op):  # noqa: N803 - PyTorch's argument name
    """(packed LU tensor, pivots tensor, info array) with gradients flowing to A."""
    _check_matrix(A, op)
    lu, pivots = lu_arrays(float_array(A._data))
    packed = LuFactor.apply(A, factors=(lu, pivots))
    k = min(lu.shape[-2:])
    zero = np.diagonal(lu, axis1=-2, axis2=-1)[..., :k] == 0
    info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
    return packed, wrap(pivots), wrap(info)


def lu(A, pivot=True, get_infos=False):  # noqa: N803 - PyTorch's argument name
    """(A_LU, pivots) (and infos): the packed LU factorization, as ``linalg.lu_factor``."""
    _deprecated("lu", "torch.linalg.lu_factor / torch.linalg.lu_factor_ex")
    return lu_packed(A, pivot, get_infos)


def lu_packed(A, pivot=True, get_infos=False):  # noqa: N803 - PyTorch's argument name
    """``lu`` without its deprecation warning (``linalg.lu_factor`` and ``linalg.lu``)."""
    if not pivot:
        raise RuntimeError("lu without pivoting is not implemented on the CPU")
    packed, pivots, info = lu_factor_arrays(A, "lu")
    return (packed, pivots, info) if get_infos else (packed, pivots)


def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True):  # noqa: N803
    """(P, L, U) from ``lu``'s packed factors: A = P L U."""
    m, n = LU_data.shape[-2], LU_data.shape[-1]
    k = min(m, n)
    p = l_ = u = None
    if unpack_pivots:
        perm = permutation_from_pivots(LU_pivots._data, m)
        p = wrap(permutation_matrix(perm, LU_data._data.dtype))
    if unpack_data:
        eye = wrap(np.eye(m, k, dtype=LU_data._data.dtype))
        l_ = LU_data[..., :, :k].tril(-1) + eye
        u = LU_data[..., :k, :].triu()
    empty = wrap(np.zeros((0,), dtype=LU_data._data.dtype))
    return tuple(empty if t is None else t for t in (p, l_, u))


def solve_with_lu(LU, pivots, B, left=True, adjoint=False):  # noqa: N803
    """X with A X = B (A^T X = B when ``adjoint``; X A = B when not ``left``), A = P L U."""
    if LU.shape[-1] != LU.shape[-2]:
        raise RuntimeError(f"linalg.lu_solve: A must be batches of square matrices, but they "
                           f"are {LU.shape[-2]} by {LU.shape[-1]} matrices")
    n = LU.shape[-1]
    size = B.shape[-2] if left else (B.shape[-1] if B.ndim else 0)
    if B.ndim < 2 or size != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(f"linalg.lu_solve: Incompatible shapes of A and B for the equation "
                           f"{equation} ({n}x{n} and {'x'.join(map(str, B.shape[-2:]))})")
    p, lower, upper = lu_unpack(LU, pivots)
    inv_l, inv_u = inverse(lower), inverse(upper)
    if left and not adjoint:
        return inv_u @ (inv_l @ (_mT(p) @ B))
    if left:
        return p @ (_mT(inv_l) @ (_mT(inv_u) @ B))
    if not adjoint:
        return ((B @ inv_u) @ inv_l) @ _mT(p)
    return ((B @ p) @ _mT(inv_l)) @ _mT(inv_u)


def lu_solve(b, LU_data, LU_pivots):  # noqa: N803 - PyTorch's argument names
    """x with A x = b, from ``lu``'s factors of A."""
    _deprecated("lu_solve", "torch.linalg.lu_solve")
    return solve_with_lu(LU_data, LU_pivots, b)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False):  # noqa: N803
    """(X, A's copy) with A X = b (A^T X = b when ``transpose``) for triangular A; only the
    named triangle of A is read (``unitriangular``: its diagonal is taken as ones)."""
    _deprecated("triangular_solve", "torch.linalg.solve_triangular")
    tri = A.triu() if upper else A.tril()
    if unitriangular:
        eye = _eye_like(A, A.shape[-1])
        tri = tri * (1 - eye) + eye
    inv = inverse(tri)
    return TriangularSolveResult(((_mT(inv) if transpose else inv) @ b), A.clone())


TriangularSolveResult = return_types.triangular_solve

register(qr, Qr)
register(svd, Svd)
register(lu, LuFactor)
register(lu_unpack, method=False)
register(lu_solve)
register(triangular_solve)
