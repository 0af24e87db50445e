"""Householder representations of QR (``geqrf``, ``linalg.householder_product``/``orgqr``,
``ormqr``) and the low-rank SVD and PCA (``svd_lowrank``, ``pca_lowrank``).

``geqrf`` is LAPACK's through NumPy (``qr(mode="raw")``), values only: PyTorch defines no
derivative for it either. The products of reflectors H_i = I - tau_i v_i v_i^T are composed of
differentiable ops, so gradients flow to the reflectors and the taus (as in PyTorch).
``svd_lowrank`` and ``pca_lowrank`` return the exact leading q singular triplets (through the
differentiable ``linalg.svd``) where PyTorch approximates them by a randomized method: the same
values up to PyTorch's approximation error, and exactly for matrices of rank <= q."""


import numpy as np

from .. import return_types
from ._operands import float_array, wrap
from .factorizations import Svd
from .registry import register

GeqrfResult = return_types.geqrf


def _mT(x):  # noqa: N802 - PyTorch's name for the matrix transpose
    return x.transpose(-2, -1)


def geqrf(input):
    """(a, tau): R on and above a's diagonal, the Householder vectors below it, and their
    scalars (LAPACK's geqrf). No derivative, as in PyTorch."""
    if input.ndim < 2:
        raise RuntimeError("geqrf: input must have at least 2 dimensions.")
    h, tau = np.linalg.qr(float_array(input._data), mode="raw")
    return GeqrfResult(wrap(np.ascontiguousarray(np.swapaxes(h, -1, -2))), wrap(tau))


def _reflectors(input, tau):
    """The Householder vectors as the columns of an (m, n) matrix: unit diagonal, input's
    entries below it, zeros above."""
    m, n = input.shape[-2], input.shape[-1]
    if tau.shape[-1] > n or n > m:
        raise RuntimeError(
            f"householder_product: input must have at least as many rows as columns and tau at "
            f"most as many entries as columns, got input {tuple(input.shape)} and tau "
            f"{tuple(tau.shape)}"
        )
    below = wrap(np.tril(np.ones((m, n), dtype=input._data.dtype), -1))
    return input * below + wrap(np.eye(m, n, dtype=input._data.dtype))


def _reflect(x, v, t, side):
    """H x (side "left") or x H (side "right") with H = I - t v v^T."""
    if side == "left":
        return x - t * (v @ (_mT(v) @ x))
    return x - t * ((x @ v) @ _mT(v))


def householder_product(input, tau):
    """The first n columns of H_1 H_2 ... H_k (``torch.linalg.householder_product``)."""
    vectors = _reflectors(input, tau)
    m, n = input.shape[-2], input.shape[-1]
    q = wrap(np.broadcast_to(np.eye(m, n, dtype=input._data.dtype),
                             tuple(input.shape[:-2]) + (m, n)).copy())
    for i in reversed(range(tau.shape[-1])):
        q = _reflect(q, vectors[..., :, i:i + 1], tau[..., i:i + 1].unsqueeze(-1), "left")
    return q


def orgqr(input, tau):
    """``linalg.householder_product`` under LAPACK's name."""
    return householder_product(input, tau)


def ormqr(input, tau, other, left=True, transpose=False):
    """``other`` multiplied by the Q of ``geqrf``'s (input, tau): Q other, Q^T other (left),
    other Q, other Q^T (right), Q being the full product of the reflectors."""
    vectors = _reflectors(input, tau)
    order = list(range(tau.shape[-1]))
    if left != transpose:  # Q C and C Q^T apply the last reflector first
        order.reverse()
    out = other
    for i in order:
        out = _reflect(out, vectors[..., :, i:i + 1], tau[..., i:i + 1].unsqueeze(-1),
                       "left" if left else "right")
    return out


def svd_lowrank(A, q=6, niter=2, M=None):  # noqa: N803 - PyTorch's argument names
    """(U, S, V) of the leading ``q`` singular triplets of A (or A - M)."""
    matrix = A if M is None else A - M
    q = 6 if q is None else q
    k = min(matrix.shape[-2], matrix.shape[-1])
    if not 0 <= q <= k:
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={k}")
    u, s, vh = Svd.apply(matrix, full_matrices=False)
    return u[..., :, :q], s[..., :q], _mT(vh[..., :q, :])


def pca_lowrank(A, q=None, center=True, niter=2):  # noqa: N803 - PyTorch's argument name
    """(U, S, V) of the leading ``q`` principal directions of A's rows (columns centred)."""
    m, n = A.shape[-2], A.shape[-1]
    q = min(6, m, n) if q is None else q
    if not 0 <= q <= min(m, n):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than "
                         f"min(m, n)={min(m, n)}")
    centred = A - A.mean(dim=-2, keepdim=True) if center else A
    return svd_lowrank(centred, q, niter)


register(geqrf)
register(orgqr)
register(ormqr)
register(svd_lowrank, method=False)
register(pca_lowrank, method=False)
