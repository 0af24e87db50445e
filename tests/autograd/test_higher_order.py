"""Gradients of gradients (create_graph=True) against hand-derived derivatives, and
Hessian-vector products against an analytic Hessian and finite differences."""

import itertools

import numpy as np
import pytest

import chainrule as cr
from chainrule import autograd


def f64(values, requires_grad=True):
    return cr.tensor(values, dtype=cr.float64, requires_grad=requires_grad)


def derivatives(f, x, order):
    """[f'(x), f''(x), ...] elementwise, for f acting elementwise (summed before each grad)."""
    results, y = [], f(x)
    for _ in range(order):
        (y,) = autograd.grad(y.sum(), x, create_graph=True)
        results.append(y.detach().numpy().copy())
    return results


def test_tanh_first_second_third_derivatives():
    x_np = np.array([-1.5, -0.2, 0.0, 0.7, 2.0])
    t = np.tanh(x_np)
    d1, d2, d3 = derivatives(cr.tanh, f64(x_np), 3)
    np.testing.assert_allclose(d1, 1 - t**2)
    np.testing.assert_allclose(d2, -2 * t * (1 - t**2))
    np.testing.assert_allclose(d3, -2 * (1 - t**2) * (1 - 3 * t**2))


def test_cube_first_second_third_derivatives():
    x_np = np.array([-2.0, 0.5, 3.0])
    d1, d2, d3 = derivatives(lambda x: x**3, f64(x_np), 3)
    np.testing.assert_allclose(d1, 3 * x_np**2)
    np.testing.assert_allclose(d2, 6 * x_np)
    np.testing.assert_allclose(d3, [6.0, 6.0, 6.0])


def test_fourth_derivative_of_a_cube_is_zero_and_differentiable():
    x = f64([1.0, 2.0])
    d3 = derivatives(lambda x: x**3, x, 3)[-1]
    assert d3.shape == (2,)
    (d,) = autograd.grad((x**3).sum(), x, create_graph=True)
    (d,) = autograd.grad(d.sum(), x, create_graph=True)
    (d,) = autograd.grad(d.sum(), x, create_graph=True)
    (d4,) = autograd.grad(d.sum(), x, allow_unused=True, materialize_grads=True)
    np.testing.assert_allclose(d4.numpy(), [0.0, 0.0])


def test_backward_with_create_graph_gives_a_differentiable_grad():
    x = f64([1.5])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.detach().numpy(), [3 * 1.5**2])
    (dd,) = autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(dd.numpy(), [6 * 1.5])


# -- logsumexp and softmax: their derivatives are the cumulants of a categorical variable ---------
def _moment(s, indices):
    """E[X_i X_j ...] for X a one-hot vector with P(X = e_k) = s_k."""
    return s[indices[0]] if len(set(indices)) == 1 else 0.0


def _cumulant(s, indices):
    """Joint cumulant of one-hot components (hand-derived moment-cumulant formulas, orders 1-4)."""
    m = lambda *ix: _moment(s, [indices[i] for i in ix])  # noqa: E731
    n = len(indices)
    if n == 1:
        return m(0)
    if n == 2:
        return m(0, 1) - m(0) * m(1)
    if n == 3:
        return (m(0, 1, 2) - m(0, 1) * m(2) - m(0, 2) * m(1) - m(1, 2) * m(0)
                + 2 * m(0) * m(1) * m(2))
    pairs = [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2))]
    triples = [((0, 1, 2), 3), ((0, 1, 3), 2), ((0, 2, 3), 1), ((1, 2, 3), 0)]
    value = m(0, 1, 2, 3)
    value -= sum(m(*t) * m(r) for t, r in triples)
    value -= sum(m(*a) * m(*b) for a, b in pairs)
    value += 2 * sum(m(a, b) * m(c) * m(d) for (a, b), (c, d) in
                     [((0, 1), (2, 3)), ((0, 2), (1, 3)), ((0, 3), (1, 2)),
                      ((1, 2), (0, 3)), ((1, 3), (0, 2)), ((2, 3), (0, 1))])
    value -= 6 * m(0) * m(1) * m(2) * m(3)
    return value


def _cumulant_tensor(s, order):
    n = s.size
    out = np.zeros((n,) * order)
    for index in itertools.product(range(n), repeat=order):
        out[index] = _cumulant(s, index)
    return out


Z = np.array([0.3, -1.2, 0.8])
U = np.array([0.5, -1.0, 2.0])
V = np.array([1.5, 0.25, -0.75])
W = np.array([2.0, -0.5, 1.0])


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def test_cumulant_formulas_match_known_closed_forms():
    # guards the test's own truth: H = diag(s) - s s^T for logsumexp
    s = _softmax(Z)
    np.testing.assert_allclose(_cumulant_tensor(s, 2), np.diag(s) - np.outer(s, s))
    np.testing.assert_allclose(_cumulant_tensor(s, 4).sum(axis=-1), 0, atol=1e-15)


def test_logsumexp_second_and_third_derivatives():
    s = _softmax(Z)
    z = f64(Z)
    (g,) = autograd.grad(cr.logsumexp(z, 0), z, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), s)
    (hv,) = autograd.grad((g * f64(V, False)).sum(), z, create_graph=True)
    np.testing.assert_allclose(hv.detach().numpy(), _cumulant_tensor(s, 2) @ V)
    (tuv,) = autograd.grad((hv * f64(U, False)).sum(), z)
    expected = np.einsum("ijk,i,j->k", _cumulant_tensor(s, 3), V, U)
    np.testing.assert_allclose(tuv.numpy(), expected, atol=1e-12)


def test_softmax_second_and_third_derivatives():
    s = _softmax(Z)
    z = f64(Z)
    f = (cr.softmax(z, 0) * f64(W, False)).sum()  # f = w . softmax(z)
    (g,) = autograd.grad(f, z, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), _cumulant_tensor(s, 2) @ W)
    (hv,) = autograd.grad((g * f64(V, False)).sum(), z, create_graph=True)
    expected2 = np.einsum("ijk,i,j->k", _cumulant_tensor(s, 3), W, V)
    np.testing.assert_allclose(hv.detach().numpy(), expected2, atol=1e-12)
    (tuv,) = autograd.grad((hv * f64(U, False)).sum(), z)
    expected3 = np.einsum("ijkl,i,j,k->l", _cumulant_tensor(s, 4), W, V, U)
    np.testing.assert_allclose(tuv.numpy(), expected3, atol=1e-12)


# -- matmul chains ---------------------------------------------------------------------------------
def test_matmul_chain_cubic_form_derivatives():
    # f(x) = (x^T S x)(b^T x), S symmetric:  grad = 2 (b.x) S x + (x^T S x) b,
    # H = 2 (b.x) S + 2 S x b^T + 2 b x^T S,  T_ijk = 2 (S_ij b_k + S_ik b_j + b_i S_jk)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3))
    s_np, b_np, x_np = a + a.T, rng.standard_normal(3), rng.standard_normal(3)
    S, b, x = f64(s_np, False), f64(b_np, False), f64(x_np)
    f = (x.reshape(1, 3) @ S @ x.reshape(3, 1)).sum() * (b.reshape(1, 3) @ x.reshape(3, 1)).sum()
    (g,) = autograd.grad(f, x, create_graph=True)
    q, lin = x_np @ s_np @ x_np, b_np @ x_np
    np.testing.assert_allclose(g.detach().numpy(), 2 * lin * s_np @ x_np + q * b_np)
    hessian = 2 * lin * s_np + 2 * np.outer(s_np @ x_np, b_np) + 2 * np.outer(b_np, s_np @ x_np)
    (hv,) = autograd.grad((g * f64(V, False)).sum(), x, create_graph=True)
    np.testing.assert_allclose(hv.detach().numpy(), hessian @ V)
    (tuv,) = autograd.grad((hv * f64(U, False)).sum(), x)
    third = 2 * (np.einsum("ij,k->ijk", s_np, b_np) + np.einsum("ik,j->ijk", s_np, b_np)
                 + np.einsum("i,jk->ijk", b_np, s_np))
    np.testing.assert_allclose(tuv.numpy(), np.einsum("ijk,i,j->k", third, V, U))


def test_matmul_chain_hessian_vector_product_in_the_weights():
    # f(W) = sum((X W Y)^2):  H[V] = 2 X^T X V Y Y^T
    rng = np.random.default_rng(4)
    x_np, y_np = rng.standard_normal((4, 3)), rng.standard_normal((2, 5))
    w_np, v_np = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    X, Y, Wt = f64(x_np, False), f64(y_np, False), f64(w_np)
    f = ((X @ Wt @ Y) ** 2).sum()
    (g,) = autograd.grad(f, Wt, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * x_np.T @ (x_np @ w_np @ y_np) @ y_np.T)
    (hv,) = autograd.grad((g * f64(v_np, False)).sum(), Wt)
    np.testing.assert_allclose(hv.numpy(), 2 * x_np.T @ x_np @ v_np @ y_np @ y_np.T)


def _tanh_net_grad(x_np, w_np):
    """Analytic gradient of f(x) = sum(tanh(W x)) in x: W^T (1 - tanh(W x)^2)."""
    return w_np.T @ (1 - np.tanh(w_np @ x_np) ** 2)


def test_hessian_vector_product_matches_finite_differences_and_the_analytic_hessian():
    rng = np.random.default_rng(5)
    w_np, x_np, v_np = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)
    x = f64(x_np)
    f = (f64(w_np, False) @ x.reshape(3, 1)).tanh().sum()
    (g,) = autograd.grad(f, x, create_graph=True)
    (hv,) = autograd.grad(g, x, grad_outputs=f64(v_np, False))
    eps = 1e-6
    plus, minus = _tanh_net_grad(x_np + eps * v_np, w_np), _tanh_net_grad(x_np - eps * v_np, w_np)
    fd = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(hv.numpy(), fd, rtol=1e-6, atol=1e-8)
    t = np.tanh(w_np @ x_np)
    hessian = w_np.T @ np.diag(-2 * t * (1 - t**2)) @ w_np
    np.testing.assert_allclose(hv.numpy(), hessian @ v_np, rtol=1e-10)


def test_create_graph_keeps_double_backward_through_broadcasting():
    x = f64([[1.0], [2.0]])
    b = f64([0.5, -1.0, 2.0])
    f = ((x * b) ** 2).sum()
    (gx,) = autograd.grad(f, x, create_graph=True)  # 2 x sum_j b_j^2
    np.testing.assert_allclose(gx.detach().numpy(), 2 * np.array([[1.0], [2.0]]) * 5.25)
    (gb,) = autograd.grad(gx.sum(), b)  # d/db_j of 2 (x1 + x2) sum b^2 = 4 (x1 + x2) b_j
    np.testing.assert_allclose(gb.numpy(), 4 * 3.0 * np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize("fn", [cr.tanh, cr.sigmoid, cr.exp, lambda x: x**3])
def test_gradgradcheck_on_engine_paths(fn):
    x = cr.tensor([0.3, -0.7, 1.1], dtype=cr.float64, requires_grad=True)
    assert autograd.gradgradcheck(fn, (x,))
