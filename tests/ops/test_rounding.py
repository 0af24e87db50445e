"""Rounding as PyTorch records it: a differentiable op whose gradient is zeros."""

import numpy as np
import pytest

import chainrule as cr

ROUNDERS = [cr.floor, cr.ceil, cr.round, cr.trunc, cr.fix,
            lambda x: cr.round(x, decimals=1)]


@pytest.mark.parametrize("rounder", ROUNDERS)
def test_a_loss_of_rounded_values_gives_a_zero_gradient_not_none(rounder):
    x = cr.tensor([0.3, 1.7, -2.5, 2.5], requires_grad=True)
    y = rounder(x)
    assert y.requires_grad and y.grad_fn is not None
    y.sum().backward()  # would raise if rounding cut the graph: nothing else requires grad
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(4, np.float32))


def test_rounded_values_beside_the_input_leave_its_own_gradient():
    # d/dx (floor(x) * x) = floor(x): the rounded factor's own path adds zero
    x = cr.tensor([0.3, 1.7, -2.5], dtype=cr.float64, requires_grad=True)
    (cr.floor(x) * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, -3.0])


def test_a_non_finite_gradient_does_not_pass_through_a_rounding():
    x = cr.tensor([0.5, 1.5], requires_grad=True)
    cr.floor(x).backward(cr.tensor([float("inf"), float("nan")]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_second_derivative_is_zero():
    x = cr.tensor([0.4, 2.6], dtype=cr.float64, requires_grad=True)
    (g,) = cr.autograd.grad((cr.ceil(x) * x * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.ceil([0.4, 2.6]) * [0.4, 2.6])
    (h,) = cr.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 2 * np.ceil([0.4, 2.6]))


@pytest.mark.parametrize("rounder", ROUNDERS)
def test_integers_come_back_unchanged_in_their_dtype(rounder):
    x = cr.tensor([1, -2, 7], dtype=cr.int32)
    y = rounder(x)
    assert y.dtype == cr.int32
    np.testing.assert_array_equal(y.numpy(), [1, -2, 7])
    y[0] = 5
    assert x[0].item() == 1  # a copy, as PyTorch's


@pytest.mark.parametrize("rounder", ROUNDERS)
def test_bool_tensors_are_refused_by_name(rounder):
    with pytest.raises(RuntimeError, match="not defined for bool tensors.*x.float"):
        rounder(cr.tensor([True, False]))


def test_halves_round_to_even_and_decimals_are_kept():
    x = cr.tensor([0.5, 1.5, 2.5, -0.5, 0.125], dtype=cr.float64)
    np.testing.assert_array_equal(cr.round(x).numpy(), [0.0, 2.0, 2.0, -0.0, 0.0])
    np.testing.assert_array_equal(x.round(decimals=2).numpy(), [0.5, 1.5, 2.5, -0.5, 0.12])
