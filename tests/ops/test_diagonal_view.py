"""diagonal() is a view, as PyTorch's: written through, gradients to the diagonal alone."""

import numpy as np
import pytest

import chainrule as cr

CASES = [(0, 0, 1), (1, 0, 2), (-1, 2, 1), (2, 1, 2), (-3, 1, 2), (5, 0, 1)]


@pytest.mark.parametrize("offset, dim1, dim2", CASES)
def test_values_are_numpys_diagonal(offset, dim1, dim2):
    a = np.random.default_rng(0).random((2, 3, 4))
    out = cr.diagonal(cr.from_numpy(a), offset, dim1, dim2)
    np.testing.assert_array_equal(out.numpy(), np.diagonal(a, offset, dim1, dim2))


def test_writing_into_the_diagonal_writes_into_the_matrix():
    # the covariance idiom: cov.diagonal().add_(eps)
    cov = cr.zeros(3, 3)
    cov.diagonal().add_(0.5)
    cov.diagonal(1).fill_(2.0)
    np.testing.assert_array_equal(cov.numpy(), [[0.5, 2, 0], [0, 0.5, 2], [0, 0, 0.5]])


def test_a_write_is_seen_by_an_op_that_saved_the_matrix():
    x = cr.ones(2, 2, requires_grad=True)
    y = x * 1.0
    z = y.exp()  # saves its output
    with cr.no_grad():
        z.diagonal().zero_()
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


@pytest.mark.parametrize("offset, dim1, dim2", CASES[:5])
def test_gradients_by_finite_differences(offset, dim1, dim2):
    x = cr.randn(2, 3, 4, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: cr.diagonal(t, offset, dim1, dim2), (x,))
    assert cr.autograd.gradgradcheck(lambda t: cr.diagonal(t, offset, dim1, dim2) ** 2, (x,))


def test_the_gradient_lands_on_the_diagonal_only():
    x = cr.zeros(3, 4, requires_grad=True)
    (x.diagonal(1) * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    expected = np.zeros((3, 4), np.float32)
    expected[[0, 1, 2], [1, 2, 3]] = [1, 2, 3]
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_bad_dims_are_refused_by_name():
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        cr.diagonal(cr.zeros(3))
    with pytest.raises(RuntimeError, match="cannot be the same dim"):
        cr.diagonal(cr.zeros(3, 3), 0, 1, -1)
