"""torch.gradient against NumPy's gradient (the same formulas): edge orders 1 and 2, even steps
and coordinate grids; and the spread reductions' ``unbiased`` spelling (var_mean, std_mean)."""

import numpy as np
import pytest

import chainrule as cr

X = np.array([[0.3, 1.2, -0.7, 2.5, 0.1], [1.0, 0.5, 0.25, -1.0, 3.0], [0.2, 0.4, 0.8, 1.6, 3.2]])
GRID = np.array([0.0, 0.5, 1.5, 1.75, 3.0])


@pytest.mark.parametrize("edge_order", [1, 2])
def test_even_steps(edge_order):
    ours = cr.gradient(cr.tensor(X), spacing=[2.0, 0.5], edge_order=edge_order)
    expected = np.gradient(X, 2.0, 0.5, edge_order=edge_order)
    for got, want in zip(ours, expected, strict=True):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_coordinate_grids(edge_order):
    (ours,) = cr.gradient(cr.tensor(X), spacing=(cr.tensor(GRID),), dim=1, edge_order=edge_order)
    np.testing.assert_allclose(ours.numpy(), np.gradient(X, GRID, axis=1, edge_order=edge_order),
                               rtol=1e-12)


def test_second_order_edges_are_differentiable_and_exact_on_quadratics():
    t = cr.tensor(GRID ** 2, requires_grad=True)
    (slope,) = cr.gradient(t, spacing=(cr.tensor(GRID),), edge_order=2)
    np.testing.assert_allclose(slope.detach().numpy(), 2 * GRID, atol=1e-12)
    slope.sum().backward()
    assert t.grad.shape == t.shape


def test_too_short_for_the_edge_order():
    with pytest.raises(RuntimeError, match="at least edge_order"):
        cr.gradient(cr.tensor([1.0, 2.0]), edge_order=2)
    with pytest.raises(RuntimeError, match="edge_order=1 and edge_order=2"):
        cr.gradient(cr.tensor([1.0, 2.0, 3.0]), edge_order=3)


def test_var_mean_and_std_mean_take_unbiased():
    x = cr.tensor(X)
    var, mean = cr.var_mean(x, 0, unbiased=False)
    np.testing.assert_allclose(var.numpy(), X.var(axis=0))
    np.testing.assert_allclose(mean.numpy(), X.mean(axis=0))
    np.testing.assert_allclose(cr.var_mean(x, False)[0].item(), X.var())
    std, _ = cr.std_mean(x, 1, True, True)
    np.testing.assert_allclose(std.numpy(), X.std(axis=1, ddof=1, keepdims=True))
