"""QR, SVD and LU: forward against NumPy (LU against a textbook loop), derivatives against
finite differences (gradcheck and gradgradcheck, through the op table). Functions of the
singular vectors in the rows are invariant to their signs (u * u, u @ vh), as the vectors
themselves are defined only up to sign."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import factorizations as fz
from tests.opcheck import OpCase, check_case


def textbook_lu(a):
    """(P, L, U) by Doolittle elimination with partial pivoting, one element at a time."""
    n = a.shape[0]
    u, lower, perm = a.astype(float).copy(), np.eye(n), list(range(n))
    for j in range(n):
        p = max(range(j, n), key=lambda i: abs(u[i, j]))
        if p != j:
            u[[j, p]] = u[[p, j]]
            lower[[j, p], :j] = lower[[p, j], :j]
            perm[j], perm[p] = perm[p], perm[j]
        for i in range(j + 1, n):
            lower[i, j] = u[i, j] / u[j, j]
            u[i] -= lower[i, j] * u[j]
    p_matrix = np.zeros((n, n))
    for i, row in enumerate(perm):
        p_matrix[row, i] = 1.0
    return p_matrix, lower, np.triu(u)


def _svd_invariants(u, s, vh):
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, vh[..., :k, :] * vh[..., :k, :]


def _np_lu_solve(a, b):
    return np.linalg.solve(a, b)


CASES = [
    OpCase("qr_tall", lambda a: cr.linalg.qr(a), lambda a: tuple(np.linalg.qr(a)), [(5, 3)],
           (fz.Qr,)),
    OpCase("qr_wide", lambda a: cr.qr(a), lambda a: tuple(np.linalg.qr(a)), [(3, 5)], (fz.Qr,)),
    OpCase("qr_batched_complete_square", lambda a: a.qr(some=False),
           lambda a: tuple(np.linalg.qr(a, mode="complete")), [(2, 3, 3)], (fz.Qr,)),
    OpCase("svd_reduced", lambda a: _svd_invariants(*cr.linalg.svd(a, full_matrices=False)),
           lambda a: _svd_invariants(*np.linalg.svd(a, full_matrices=False)), [(5, 3)],
           (fz.Svd,)),
    OpCase("svd_wide_product", lambda a: (lambda u, s, v: u @ v.mT)(*cr.svd(a)),
           lambda a: (lambda u, s, vh: u @ vh)(*np.linalg.svd(a, full_matrices=False)),
           [(2, 3, 4)], (fz.Svd,)),
    # the columns of U beyond the third span a complement chosen arbitrarily: left out
    OpCase("svd_full_matrices", lambda a: _svd_invariants(*a.svd(some=False))[:2],
           lambda a: _svd_invariants(*np.linalg.svd(a))[:2], [(4, 3)], (fz.Svd,)),
    OpCase("lu_packed", lambda a: cr.lu(a)[0],
           lambda a: (lambda p, lower, u: np.tril(lower, -1) + u)(*textbook_lu(a)), [(4, 4)],
           (fz.LuFactor,)),
    OpCase("lu_unpack", lambda a: cr.lu_unpack(*a.lu())[1:],  # P is a constant
           lambda a: textbook_lu(a)[1:], [(3, 3)], (fz.LuFactor,)),
    OpCase("linalg_lu", lambda a: tuple(cr.linalg.lu(a))[1:],
           lambda a: textbook_lu(a)[1:], [(4, 4)], (fz.LuFactor,)),
    OpCase("lu_solve", lambda a, b: cr.lu_solve(b, *cr.linalg.lu_factor(a)),
           _np_lu_solve, [(3, 3), (3, 2)], (fz.LuFactor,)),
    OpCase("linalg_lu_solve_adjoint_right",
           lambda a, b: cr.linalg.lu_solve(*cr.linalg.lu_factor(a), b, left=False, adjoint=True),
           lambda a, b: np.linalg.solve(a, b.T).T, [(3, 3), (2, 3)], (fz.LuFactor,)),
    OpCase("triangular_solve",
           lambda b, a: b.triangular_solve(a, upper=False, transpose=True).solution,
           lambda b, a: np.linalg.solve(np.tril(a).T, b), [(3, 2), (3, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_op_table(case):
    check_case(case)


def test_pivots_are_lapacks_one_based_interchanges():
    a = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 10.0]], dtype=cr.float64)
    packed, pivots = cr.linalg.lu_factor(a)
    assert pivots.dtype == cr.int32 and pivots.tolist() == [3, 3, 3]  # PyTorch 2.13's
    p, lower, upper = cr.lu_unpack(packed, pivots)
    np.testing.assert_allclose((p @ lower @ upper).numpy(), a.numpy(), atol=1e-12)
    np.testing.assert_array_equal(p.numpy(), textbook_lu(a.numpy())[0])


def test_singular_lu_reports_info_and_rectangular_lu_unpacks():
    singular = cr.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=cr.float64)
    assert cr.linalg.lu_factor_ex(singular).info.item() == 2
    with pytest.raises(cr.linalg.LinAlgError, match="singular"):
        cr.linalg.lu_factor_ex(singular, check_errors=True)
    wide = cr.tensor(np.arange(12.0).reshape(3, 4) ** 1.5)
    p, lower, upper = cr.linalg.lu(wide)
    assert lower.shape == (3, 3) and upper.shape == (3, 4)
    np.testing.assert_allclose((p @ lower @ upper).numpy(), wide.numpy(), rtol=1e-6)


def test_svd_without_uv_and_qr_r_mode():
    a = cr.tensor(np.arange(6.0).reshape(3, 2) + 1, dtype=cr.float64, requires_grad=True)
    u, s, v = cr.svd(a, compute_uv=False)
    assert u.shape == (3, 3) and v.shape == (2, 2) and not u.numpy().any()
    s.sum().backward()  # the nuclear norm's gradient: U V^T
    full_u, _, vh = np.linalg.svd(a.detach().numpy(), full_matrices=False)
    np.testing.assert_allclose(a.grad.numpy(), full_u @ vh, atol=1e-12)
    q, r = cr.linalg.qr(a, mode="r")
    assert q.numel() == 0 and r.shape == (2, 2)
    with pytest.raises(RuntimeError, match="mode='r'"):
        r.sum().backward()


def test_bad_input_raises_pytorchs_errors():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        cr.linalg.qr(cr.ones(3))
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        cr.linalg.qr(cr.ones(3, 3), mode="full")
    with pytest.raises(RuntimeError, match="floating point"):
        cr.linalg.svd(cr.ones(3, 3, dtype=cr.int64))
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete'"):
        x = cr.ones(4, 2, requires_grad=True)
        cr.linalg.qr(x * 1.0 + cr.eye(4, 2), mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="without pivoting"):
        cr.lu(cr.eye(2), pivot=False)
    with pytest.raises(RuntimeError, match="Incompatible shapes of A and B"):
        cr.linalg.lu_solve(*cr.linalg.lu_factor(cr.eye(3)), cr.ones(2, 1))


def test_the_old_spellings_warn_as_pytorch():
    a = cr.eye(2)
    for call, instead in [(lambda: cr.qr(a), "torch.linalg.qr"),
                          (lambda: cr.lu(a), "torch.linalg.lu_factor"),
                          (lambda: a.lu_solve(*cr.linalg.lu_factor(a)), "torch.linalg.lu_solve"),
                          (lambda: a.triangular_solve(a), "torch.linalg.solve_triangular")]:
        with pytest.warns(UserWarning, match=f"deprecated in favor of {instead}"):
            call()


def _np_householder_product(a, tau):
    """H_1 ... H_k applied to the first n columns of I, one reflector at a time."""
    m, n = a.shape
    q = np.eye(m)
    for i in range(len(tau)):
        v = np.concatenate([np.zeros(i), [1.0], a[i + 1:, i]])
        q = q @ (np.eye(m) - tau[i] * np.outer(v, v))
    return q[:, :n]


HOUSEHOLDER_CASES = [
    OpCase("householder_product", cr.linalg.householder_product, _np_householder_product,
           [(4, 3), (2,)]),
    OpCase("orgqr_method", lambda a, t: a.orgqr(t), _np_householder_product, [(3, 3), (3,)]),
    OpCase("ormqr_left_transposed", lambda a, t, c: cr.ormqr(a, t, c, transpose=True),
           lambda a, t, c: _np_householder_product(np.pad(a, ((0, 0), (0, 1))),
                                                   t).T @ c, [(4, 3), (3,), (4, 2)]),
    OpCase("ormqr_right_method", lambda a, t, c: a.ormqr(t, c, left=False),
           lambda a, t, c: c @ _np_householder_product(np.pad(a, ((0, 0), (0, 1))), t),
           [(4, 3), (3,), (2, 4)]),
    OpCase("geqrf", lambda a: a.geqrf(),
           lambda a: (np.linalg.qr(a, mode="raw")[0].T, np.linalg.qr(a, mode="raw")[1]),
           [(4, 3)], grad=False),
    OpCase("svd_lowrank_product", lambda a: (lambda u, s, v: (u * s) @ v.mT)(
        *cr.svd_lowrank(a, q=2)),
           lambda a: (lambda u, s, vh: (u[:, :2] * s[:2]) @ vh[:2])(
               *np.linalg.svd(a, full_matrices=False)), [(5, 4)]),
    OpCase("pca_lowrank_values", lambda a: cr.pca_lowrank(a, q=2)[1],
           lambda a: np.linalg.svd(a - a.mean(0), compute_uv=False)[:2], [(6, 3)]),
]
CASES += HOUSEHOLDER_CASES  # test_op_table's parametrize reads the list when collected


def test_geqrf_reflectors_give_back_the_matrix():
    a = cr.tensor(np.arange(12.0).reshape(4, 3) ** 1.3)
    packed, tau = cr.geqrf(a)
    q = cr.linalg.householder_product(packed, tau)
    np.testing.assert_allclose((q @ packed[:3].triu()).numpy(), a.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="at least as many rows"):
        cr.linalg.householder_product(cr.ones(2, 3), cr.ones(2))
    with pytest.raises(ValueError, match="not greater than"):
        cr.svd_lowrank(cr.ones(3, 2), q=3)
