"""Matrix decompositions with their derivatives: Cholesky, the symmetric eigendecomposition and
the singular values (``torch.linalg`` reaches them through ``chainrule.linalg``).

Backward rules (real matrices, as PyTorch's):
- Cholesky A = L L^T:  dA = sym(L^-T Phi(L^T dL) L^-1), Phi = lower triangle, diagonal halved;
- eigh A = V diag(w) V^T:  dA = V (diag(dw) + F * (V^T dV)) V^T (symmetrised),
  F_ij = 1 / (w_j - w_i) off the diagonal;
- singular values: through the SVD of ``factorizations``."""


import numpy as np

from .. import return_types
from ..autograd.function import Function
from . import elementwise as E
from ._operands import float_array, wrap
from .factorizations import Svd
from .matrix import inverse
from .registry import register

EighResult = return_types.linalg_eigh


class LinAlgError(RuntimeError):
    """A matrix that the decomposition needs to be e.g. positive-definite is not
    (``torch.linalg.LinAlgError``)."""


def _check_square(a, op):
    if a._data.ndim < 2 or a._data.shape[-1] != a._data.shape[-2]:
        raise RuntimeError(f"linalg.{op}: A must be batches of square matrices, but they are "
                           f"{tuple(a.shape)[-2:]} matrices")


def _tril(x):
    return x.tril()


class Cholesky(Function):
    """L = chol(A), A = L L^T;  dA = sym(L^-T Phi(L^T dL) L^-1)."""

    @staticmethod
    def forward(ctx, a, *, upper=False):
        _check_square(a, "cholesky")
        try:
            lower = np.linalg.cholesky(float_array(a._data))
        except np.linalg.LinAlgError:
            raise LinAlgError(
                "linalg.cholesky: The factorization could not be completed because the input "
                "is not positive-definite."
            ) from None
        ctx.upper = upper
        out = wrap(lower)
        ctx.save_for_backward(out)
        return wrap(np.swapaxes(lower, -1, -2).copy()) if upper else out

    @staticmethod
    def backward(ctx, grad_out):
        (lower,) = ctx.saved_tensors
        grad_lower = grad_out.transpose(-2, -1) if ctx.upper else grad_out
        phi = _tril(lower.transpose(-2, -1) @ grad_lower)
        n = lower.shape[-1]
        half_diagonal = wrap(np.eye(n, dtype=lower._data.dtype) * 0.5)
        phi = phi - phi * half_diagonal
        inv_lower = inverse(lower)
        middle = inv_lower.transpose(-2, -1) @ phi @ inv_lower
        return (middle + middle.transpose(-2, -1)) * 0.5


class Eigh(Function):
    """(w, V) = eigh(A) for symmetric A (eigenvalues ascending);
    dA = V (diag(dw) + F * (V^T dV)) V^T, symmetrised, F_ij = 1 / (w_j - w_i)."""

    @staticmethod
    def forward(ctx, a, *, UPLO="L"):
        _check_square(a, "eigh")
        values, vectors = np.linalg.eigh(float_array(a._data), UPLO=UPLO)
        w, v = wrap(values), wrap(vectors)
        ctx.save_for_backward(w, v)
        return w, v

    @staticmethod
    def backward(ctx, grad_values, grad_vectors):
        w, v = ctx.saved_tensors
        vt = v.transpose(-2, -1)
        inner = w.new_zeros(v.shape) if grad_vectors is None else None
        if grad_vectors is not None:
            gap = w.unsqueeze(-2) - w.unsqueeze(-1)  # gap_ij = w_j - w_i
            n = w.shape[-1]
            off_diagonal = wrap(~np.eye(n, dtype=bool))
            safe = E.where(off_diagonal, gap, 1.0)
            inner = E.where(off_diagonal, (vt @ grad_vectors) / safe, 0.0)
        if grad_values is not None:
            inner = inner + grad_values.diag_embed()
        grad = v @ inner @ vt
        return (grad + grad.transpose(-2, -1)) * 0.5


def cholesky(input, upper=False):
    """The lower (or upper) Cholesky factor of a symmetric positive-definite matrix."""
    return Cholesky.apply(input, upper=upper)


def eigh(input, UPLO="L"):  # noqa: N803 - PyTorch's argument name
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix."""
    return EighResult(*Eigh.apply(input, UPLO=UPLO))


def svdvals(input):
    """The singular values, descending (the S of the SVD: dA = U diag(ds) V^T, and the
    singular vectors take part in gradients of gradients)."""
    return Svd.apply(input, full_matrices=False)[1]


def cholesky_inverse(L, upper=False):  # noqa: N803 - PyTorch's argument name
    """(L L^T)^-1 from a Cholesky factor (upper: (U^T U)^-1)."""
    a = L.transpose(-2, -1) @ L if upper else L @ L.transpose(-2, -1)
    return inverse(a)


def cholesky_solve(B, L, upper=False):  # noqa: N803 - PyTorch's argument name
    """X with (L L^T) X = B, from the Cholesky factor L."""
    return cholesky_inverse(L, upper) @ B


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse (``torch.linalg.pinv``): (A^T A)^-1 A^T or A^T (A A^T)^-1 for a
    full-rank A."""
    m, n = input.shape[-2], input.shape[-1]
    at = input.transpose(-2, -1)
    return inverse(at @ input) @ at if m >= n else at @ inverse(input @ at)


def matrix_exp(A):  # noqa: N803 - PyTorch's argument name
    """exp(A) by scaling and squaring with a degree-8 Taylor polynomial (differentiable)."""
    norm_bound = float(np.max(np.abs(A._data).sum(-1))) if A.numel() else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm_bound))) + 1) if norm_bound > 0.5 else 0
    scaled = A / (2.0 ** squarings)
    n = A.shape[-1]
    eye = wrap(np.broadcast_to(np.eye(n, dtype=A._data.dtype), A.shape).copy())
    term, result = eye, eye
    for k in range(1, 13):
        term = term @ scaled / k
        result = result + term
    for _ in range(squarings):
        result = result @ result
    return result


register(cholesky, Cholesky)
register(eigh, Eigh, top=False, method=False)
register(svdvals, top=False, method=False)
register(cholesky_inverse)
register(cholesky_solve)
register(pinverse)
register(matrix_exp)
