"""chainrule.linalg (torch.linalg): values against NumPy, gradients against finite
differences (float64)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import linalg
from chainrule.autograd import gradcheck

RNG = np.random.default_rng(0)
A_NP = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
SPD_NP = A_NP @ A_NP.T
R_NP = RNG.standard_normal((2, 3))


def t(array, grad=False):
    return cr.tensor(array, dtype=cr.float64, requires_grad=grad)


@pytest.mark.parametrize("ord_", [None, "fro", "nuc", 2, -2, 1, -1, float("inf"),
                                  -float("inf")])
def test_matrix_norms(ord_):
    np.testing.assert_allclose(linalg.norm(t(A_NP), ord_).item(),
                               np.linalg.norm(A_NP, ord_), rtol=1e-10)


@pytest.mark.parametrize("ord_", [2, 1, 3, float("inf"), -float("inf"), 0])
def test_vector_norms(ord_):
    np.testing.assert_allclose(linalg.vector_norm(t(R_NP), ord_, dim=1).numpy(),
                               np.linalg.norm(R_NP, ord_, axis=1), rtol=1e-10)


def test_solves_inverses_and_products():
    b = RNG.standard_normal((3, 2))
    np.testing.assert_allclose(linalg.solve(t(A_NP), t(b)).numpy(), np.linalg.solve(A_NP, b))
    np.testing.assert_allclose(linalg.solve(t(A_NP), t(b[:, 0])).numpy(),
                               np.linalg.solve(A_NP, b[:, 0]))
    np.testing.assert_allclose(linalg.inv(t(A_NP)).numpy(), np.linalg.inv(A_NP))
    np.testing.assert_allclose(linalg.pinv(t(R_NP)).numpy(), np.linalg.pinv(R_NP), atol=1e-12)
    upper = np.triu(A_NP)
    np.testing.assert_allclose(linalg.solve_triangular(t(A_NP), t(b), upper=True).numpy(),
                               np.linalg.solve(upper, b))
    np.testing.assert_allclose(linalg.multi_dot([t(R_NP), t(A_NP), t(b)]).numpy(),
                               R_NP @ A_NP @ b)
    assert linalg.matrix_rank(t(R_NP)).item() == 2
    np.testing.assert_allclose(linalg.cond(t(A_NP)).item(), np.linalg.cond(A_NP))
    np.testing.assert_allclose(linalg.vander(t([1.0, 2.0, 3.0])).numpy(),
                               np.vander([1.0, 2.0, 3.0], increasing=True))


def test_matrix_exp_against_its_series():
    a = A_NP * 0.4
    expected, term = np.eye(3), np.eye(3)
    for k in range(1, 40):
        term = term @ a / k
        expected = expected + term
    np.testing.assert_allclose(linalg.matrix_exp(t(a)).numpy(), expected, rtol=1e-12)


def test_decompositions_and_errors():
    lower = linalg.cholesky(t(SPD_NP))
    np.testing.assert_allclose((lower @ lower.t()).numpy(), SPD_NP)
    w, v = linalg.eigh(t(SPD_NP))
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(SPD_NP))
    with pytest.raises(linalg.LinAlgError, match="positive-definite"):
        linalg.cholesky(t(-np.eye(2)))


@pytest.mark.parametrize("function", [
    lambda a: linalg.norm(a, "nuc"), lambda a: linalg.norm(a, 2), lambda a: linalg.inv(a),
    lambda a: linalg.solve(a, a.sum(1)), lambda a: linalg.matrix_exp(a * 0.3),
    lambda a: linalg.cond(a), lambda a: linalg.pinv(a[:2]),
])
def test_gradients(function):
    assert gradcheck(function, (t(A_NP, grad=True),))
