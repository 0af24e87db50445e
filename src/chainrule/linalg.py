"""``torch.linalg``: norms, inverses, solves, decompositions, products.

Differentiable throughout, built from the ops (``matrix``, ``decompositions``,
``factorizations``, ``linalg``). Solves go through the inverse (exact for the small systems
deep-learning code solves; use ``cholesky`` when A is positive-definite). Not offered: the
complex-valued ``eig``/``eigvals`` and ``ldl_*``."""


import numpy as np

from . import return_types as RT
from .ops import elementwise as E
from .ops import factorizations as F
from .ops import join as J
from .ops import linalg as L
from .ops import matrix as M
from .ops import reduce as R
from .ops import shape as S
from .ops._operands import normalize_dim
from .ops.decompositions import LinAlgError, cholesky, eigh, matrix_exp, svdvals
from .ops.householder import householder_product
from .tensor import Tensor

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
    "eigvalsh", "householder_product", "inv", "inv_ex", "lstsq", "lu", "lu_factor",
    "lu_factor_ex", "lu_solve",
    "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm",
    "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
    "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]

InvExResult, CholeskyExResult = RT.linalg_inv_ex, RT.linalg_cholesky_ex
SolveExResult = RT.linalg_solve_ex
LstsqResult, LUResult = RT.linalg_lstsq, RT.linalg_lu
LUFactorResult, LUFactorExResult = RT.linalg_lu_factor, RT.linalg_lu_factor_ex

det, slogdet, matrix_power = M.det, M.slogdet, M.matrix_power
matmul = L.matmul


def _zero_info(a):
    return Tensor._from_array(np.zeros(a.shape[:-2], dtype=np.int32))


def inv(A):
    """The inverse of a square matrix (batched)."""
    return M.inverse(A)


def inv_ex(A, *, check_errors=False):
    return InvExResult(M.inverse(A), _zero_info(A))


def cholesky_ex(A, *, upper=False, check_errors=False):
    return CholeskyExResult(cholesky(A, upper=upper), _zero_info(A))


def solve(A, B, *, left=True):
    """X with A X = B (``left=False``: X A = B)."""
    if left:
        b = B.unsqueeze(-1) if B.ndim == A.ndim - 1 else B
        x = M.inverse(A) @ b
        return x.squeeze(-1) if b is not B else x
    return B @ M.inverse(A)


def solve_ex(A, B, *, left=True, check_errors=False):
    return SolveExResult(solve(A, B, left=left), _zero_info(A))


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """X with A X = B for triangular A (only its upper or lower triangle is read)."""
    A = A.triu() if upper else A.tril()
    if unitriangular:
        n = A.shape[-1]
        eye = Tensor._from_array(np.eye(n, dtype=A._data.dtype))
        A = A * (1 - eye) + eye
    return solve(A, B, left=left)


def qr(A, mode="reduced"):
    """(Q, R) with A = Q R, Q with orthonormal columns, R upper triangular; ``mode``:
    "reduced" (Q is m x k), "complete" (Q is m x m) or "r" (R only; Q is empty)."""
    return RT.linalg_qr(*F.Qr.apply(A, mode=mode))


def svd(A, full_matrices=True, *, driver=None):
    """(U, S, Vh) with A = U diag(S) Vh, singular values descending; ``full_matrices=False``
    gives the reduced factors."""
    return F.SVDResult(*F.Svd.apply(A, full_matrices=full_matrices))


def lu_factor(A, *, pivot=True):
    """(LU, pivots): L (unit lower, below the diagonal) and U packed in one matrix, and
    LAPACK's 1-based row interchanges (int32)."""
    packed, pivots = F.lu_packed(A, pivot=pivot)
    return LUFactorResult(packed, pivots)


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """``lu_factor`` and ``info`` (0, or k where U[k-1, k-1] is exactly zero)."""
    packed, pivots, info = F.lu_packed(A, pivot=pivot, get_infos=True)
    if check_errors and bool((info._data != 0).any()):
        raise LinAlgError("linalg.lu_factor_ex: U is singular: its diagonal holds a zero")
    return LUFactorExResult(packed, pivots, info)


def lu(A, *, pivot=True):
    """(P, L, U) with A = P L U."""
    return LUResult(*F.lu_unpack(*F.lu_packed(A, pivot=pivot)))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):  # noqa: N803 - PyTorch's names
    """X with A X = B from ``lu_factor``'s (LU, pivots) of A (``adjoint``: A^T X = B;
    ``left=False``: X A = B)."""
    return F.solve_with_lu(LU, pivots, B, left=left, adjoint=adjoint)


def eigvalsh(A, UPLO="L"):  # noqa: N803 - PyTorch's argument name
    return eigh(A, UPLO).eigenvalues


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse of a full-rank matrix, (A^T A)^-1 A^T or
    A^T (A A^T)^-1; a rank-deficient one falls back to NumPy's (without gradient)."""
    m, n = A.shape[-2], A.shape[-1]
    rank = np.linalg.matrix_rank(A._data)
    if np.all(rank == min(m, n)):
        at = A.transpose(-2, -1)
        return M.inverse(at @ A) @ at if m >= n else at @ M.inverse(A @ at)
    return Tensor._from_array(np.linalg.pinv(A._data))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution X of A X = B (through the pseudo-inverse)."""
    solution = pinv(A) @ B
    empty = A.new_zeros((0,))
    return LstsqResult(solution, empty, Tensor._from_array(
        np.asarray(np.linalg.matrix_rank(A._data), dtype=np.int64)), empty)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None):
    return Tensor._from_array(np.asarray(np.linalg.matrix_rank(A._data, tol=tol or atol,
                                                               hermitian=hermitian),
                                         dtype=np.int64))


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of x seen as a vector (over ``dim``, or every element)."""
    if dtype is not None:
        x = x.to(dtype)
    # (one Norm op: its gradient is 0 where the norm is, as PyTorch's, not 0 * inf = nan)
    return R.norm(x, float(ord), dim, keepdim)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius, nuclear, spectral (2, -2) or induced (1, -1, inf, -inf) matrix norms."""
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = (normalize_dim(d, A.ndim, "matrix_norm") for d in dim)
    if ord == "fro":
        return R.norm(A, 2.0, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        moved = S.movedim(A, (d0, d1), (-2, -1))
        s = svdvals(moved)
        out = R.sum(s, -1) if ord == "nuc" else (R.amax(s, -1) if ord == 2 else R.amin(s, -1))
    elif ord in (1, -1, float("inf"), -float("inf")):
        summed_dim, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        sums = R.sum(E.abs(A), summed_dim, keepdim=True)
        pick = R.amax if ord in (1, float("inf")) else R.amin
        out = pick(sums, other, keepdim=True).squeeze((d0, d1) if d0 < d1 else (d1, d0))
    else:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``vector_norm`` for a vector or ``dim`` of one int, ``matrix_norm`` for a matrix or two
    dims; with neither ``ord`` nor ``dim``, the 2-norm of every element."""
    if isinstance(dim, int) or (dim is None and (A.ndim == 1 or ord is None)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, "fro" if ord is None else ord, dim if dim is not None else (-2, -1),
                       keepdim, dtype=dtype)


def cond(A, p=None):
    """The condition number in norm ``p`` (the 2-norm by default: s_max / s_min)."""
    if p in (None, 2, -2):
        s = svdvals(A)
        ratio = R.amax(s, -1) / R.amin(s, -1)
        return ratio if p != -2 else 1 / ratio
    return matrix_norm(A, p) * matrix_norm(M.inverse(A), p)


def cross(input, other, *, dim=-1):
    return M.cross(input, other, dim=dim)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    return M.diagonal(A, offset, dim1, dim2)


def multi_dot(tensors):
    """The product of a chain of matrices (first and last may be vectors)."""
    tensors = list(tensors)
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    if first_vector:
        tensors[0] = tensors[0].unsqueeze(0)
    if last_vector:
        tensors[-1] = tensors[-1].unsqueeze(-1)
    out = tensors[0]
    for t in tensors[1:]:
        out = out @ t
    if first_vector:
        out = out.squeeze(0)
    if last_vector:
        out = out.squeeze(-1)
    return out


def vecdot(x, y, *, dim=-1):
    return R.sum(x * y, dim)


def vander(x, *, N=None):  # noqa: N803 - PyTorch's argument name
    """Columns x^0, x^1, ..., x^(N-1) (increasing powers, unlike torch.vander)."""
    n = x.shape[-1] if N is None else N
    columns = [x.new_ones(x.shape)] + [x ** p for p in range(1, n)]
    return J.stack(columns, dim=-1)


def tensorinv(A, ind=2):  # noqa: N803 - PyTorch's argument name
    """The inverse of A seen as a matrix from its first ``ind`` dims to the rest:
    ``tensordot(tensorinv(A), A, ind)`` is the identity. Shape A.shape[ind:] + A.shape[:ind]."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    rows, cols = A.shape[:ind], A.shape[ind:]
    m, n = int(np.prod(rows)), int(np.prod(cols))
    if m != n:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {n} != {m}")
    return M.inverse(A.reshape(m, n)).reshape(tuple(cols) + tuple(rows))


def tensorsolve(A, B, dims=None):  # noqa: N803 - PyTorch's argument names
    """X with ``tensordot(A, X, X.ndim) == B``; ``dims``: dims of A moved to the end first."""
    if dims is not None:
        dims = [normalize_dim(d, A.ndim, "tensorsolve") for d in dims]
        A = S.movedim(A, tuple(dims), tuple(range(A.ndim - len(dims), A.ndim)))
    result_shape = tuple(A.shape[B.ndim:])
    m, n = int(np.prod(B.shape)), int(np.prod(result_shape))
    if m != n or tuple(A.shape[:B.ndim]) != tuple(B.shape):
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:])"
                           f" == prod(self.shape[:other.ndim]), but got {n} != {m}")
    return solve(A.reshape(m, n), B.reshape(m)).reshape(result_shape)
