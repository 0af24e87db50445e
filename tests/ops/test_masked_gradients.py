"""Gradients at the edges of piecewise ops, as PyTorch gives them: a masked position gets 0
even when the gradient arriving there is infinite (selected, not multiplied by a 0/1 mask:
inf * 0 would be nan), hard activations pass no gradient at their bounds, and the points where
a formula meets 0 * inf (x ** 0 at 0, det of a singular matrix) have their limits."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

X = [-2.0, -0.5, 0.0, 0.5, 2.0, 7.0]


def _grad(fn, values=X):
    x = cr.tensor(values, dtype=cr.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


# sqrt after the op: an infinite gradient arrives wherever the op's output is 0
ROOT_HALF = [1 / (2 * np.sqrt(v)) if v > 0 else 0.0 for v in X]  # d sqrt(x) / dx, 0 if masked
AT_ZERO_INF = ROOT_HALF[:2] + [np.inf] + ROOT_HALF[3:]  # x = 0 is inside: sqrt's inf arrives


@pytest.mark.parametrize("name, op, expected", [
    ("relu", F.relu, ROOT_HALF),
    ("clamp", lambda x: x.clamp(min=0.0), AT_ZERO_INF),
    ("maximum", lambda x: cr.maximum(x, cr.zeros_like(x)), AT_ZERO_INF),
    ("fmax", lambda x: cr.fmax(x, cr.zeros_like(x)), AT_ZERO_INF),
    ("relu6", F.relu6, ROOT_HALF[:5] + [0.0]),  # 7 is above 6: no gradient
])
def test_an_infinite_gradient_does_not_leak_through_a_mask(name, op, expected):
    np.testing.assert_allclose(_grad(lambda x: op(x).sqrt()), expected, rtol=1e-12)



@pytest.mark.parametrize("value, expected", [(0.0, np.inf), (-1.0, 0.0)])
def test_a_zero_dimensional_clamp_takes_an_infinite_gradient(value, expected):
    # a learned scalar (a temperature) clamped at 0, then divided by: 1 / 0 sends back inf
    x = cr.tensor(value, dtype=cr.float64, requires_grad=True)
    with np.errstate(divide="ignore"):
        (-1.0 / x.clamp(min=0.0)).backward()
    assert x.grad.shape == () and x.grad.item() == expected

def test_hard_activations_pass_no_gradient_at_their_bounds():
    bounds = [-1.0, 1.0, 0.0, 6.0, -3.0, 3.0]
    np.testing.assert_array_equal(_grad(F.hardtanh, bounds), [0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(_grad(F.relu6, bounds), [0, 1, 0, 0, 0, 1])
    np.testing.assert_allclose(_grad(F.hardsigmoid, bounds), [1 / 6, 1 / 6, 1 / 6, 0, 0, 0])
    # hardswish: 0 below -3, x / 3 + 1/2 on [-3, 3], 1 above
    np.testing.assert_allclose(_grad(F.hardswish, bounds), [1 / 6, 5 / 6, 0.5, 1.0, -0.5, 1.5])
    np.testing.assert_allclose(F.hardswish(cr.tensor(bounds, dtype=cr.float64)).numpy(),
                               [-1 / 3, 2 / 3, 0.0, 6.0, 0.0, 3.0])


def test_shrinks_select():
    np.testing.assert_array_equal(_grad(lambda x: F.hardshrink(x, 0.6)), [1, 0, 0, 0, 1, 1])
    np.testing.assert_allclose(F.softshrink(cr.tensor(X, dtype=cr.float64), 1.0).numpy(),
                               [-1.0, 0.0, 0.0, 0.0, 1.0, 6.0])
    np.testing.assert_array_equal(_grad(lambda x: F.softshrink(x, 1.0)), [1, 0, 0, 0, 1, 1])


def test_leaky_units_take_the_slope_at_zero():
    weight = cr.tensor([0.25], dtype=cr.float64)
    np.testing.assert_array_equal(_grad(lambda x: F.prelu(x, weight), [-1.0, 0.0, 1.0]),
                                  [0.25, 0.25, 1.0])
    slope = (1 / 8 + 1 / 3) / 2
    np.testing.assert_allclose(_grad(lambda x: F.rrelu(x), [-1.0, 0.0, 1.0]),
                               [slope, slope, 1.0])


def test_ties_of_fmax_and_fmin_go_to_the_first_argument_and_of_maximum_half_each():
    other = cr.tensor([1.0, 1.0], dtype=cr.float64)
    np.testing.assert_array_equal(_grad(lambda x: cr.fmax(x, other), [1.0, 2.0]), [1, 1])
    np.testing.assert_array_equal(_grad(lambda x: cr.fmin(x, other), [1.0, 0.0]), [1, 1])
    np.testing.assert_array_equal(_grad(lambda x: cr.maximum(x, other), [1.0, 2.0]), [0.5, 1])


def test_powers_where_the_formula_meets_zero_times_infinity():
    np.testing.assert_array_equal(_grad(lambda x: x ** 0, [0.0, 2.0]), [0.0, 0.0])
    # d |x|^|x| / dx = |x|^|x| (log|x| + 1) sign(x): its limit at 0 is taken as 0, as PyTorch
    np.testing.assert_allclose(_grad(lambda x: x.abs() ** x.abs(), [0.0, 2.0]),
                               [0.0, 4 * (np.log(2) + 1)], rtol=1e-12)
    base = cr.tensor([0.0, 3.0], dtype=cr.float64)
    exponent = cr.tensor([2.0, 2.0], dtype=cr.float64, requires_grad=True)
    (base ** exponent).sum().backward()  # d b^e / de = b^e log b: 0 at b = 0
    np.testing.assert_allclose(exponent.grad.numpy(), [0.0, 9 * np.log(3)], rtol=1e-12)


def test_det_of_a_singular_matrix_has_its_cofactors_as_gradient():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 5.0]])  # rank 2
    x = cr.tensor(a, requires_grad=True)
    cr.linalg.det(x).backward()
    step, numeric = 1e-6, np.zeros_like(a)
    for i in range(3):
        for j in range(3):
            up, down = a.copy(), a.copy()
            up[i, j] += step
            down[i, j] -= step
            numeric[i, j] = (np.linalg.det(up) - np.linalg.det(down)) / (2 * step)
    np.testing.assert_allclose(x.grad.numpy(), numeric, atol=1e-6)


def test_sorting_keeps_equal_values_in_their_order():
    values = cr.tensor([2.0, 1.0, 2.0, 1.0, 0.0, 2.0])
    assert values.sort().indices.tolist() == [4, 1, 3, 0, 2, 5]
    assert values.argsort(descending=True).tolist() == [0, 2, 5, 1, 3, 4]


def test_a_whole_tensor_median_shares_its_gradient_among_ties():
    np.testing.assert_array_equal(_grad(lambda x: x.median(), [2.0, 0.0, 2.0, 5.0]),
                                  [0.5, 0.0, 0.5, 0.0])
    np.testing.assert_array_equal(_grad(lambda x: x.median(), [float("nan"), 1.0, 2.0]),
                                  [1.0, 0.0, 0.0])
    values, indices = cr.tensor([[2.0, 0.0, 2.0]]).median(dim=1)  # with dim: its index only
    assert values.tolist() == [2.0] and indices.tolist() in ([0], [2])
