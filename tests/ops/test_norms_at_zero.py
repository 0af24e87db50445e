"""Every norm and distance has PyTorch's gradient where the norm is 0 (a zero vector, two equal
rows): 0, not the nan of 0 * inf that composing sqrt and sum gives. Hand-derived values."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F

ZERO_AND_345 = [[0.0, 0.0], [3.0, 4.0]]  # one row of norm 0, one of norm 5


def _grad(fn, values=ZERO_AND_345):
    x = cr.tensor(values, dtype=cr.float64, requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


@pytest.mark.parametrize("ord, row", [
    (2, [0.6, 0.8]),
    (1, [1.0, 1.0]),
    (3, np.array([9.0, 16.0]) / 91 ** (2 / 3)),  # sign(x) |x|^2 / ||x||_3^2
    (float("inf"), [0.0, 1.0]),
])
def test_vector_norm_of_a_zero_row_has_a_zero_gradient(ord, row):
    grad = _grad(lambda x: cr.linalg.vector_norm(x, ord=ord, dim=1))
    np.testing.assert_allclose(grad, [[0.0, 0.0], row], rtol=1e-12)


def test_matrix_and_whole_tensor_norms_at_zero():
    np.testing.assert_array_equal(_grad(lambda x: cr.linalg.matrix_norm(x * 0)), np.zeros((2, 2)))
    np.testing.assert_array_equal(_grad(lambda x: cr.dist(x, x.detach())), np.zeros((2, 2)))
    np.testing.assert_array_equal(_grad(lambda x: cr.linalg.norm(x - x.detach())),
                                  np.zeros((2, 2)))


@pytest.mark.parametrize("p, rows", [
    (2.0, [[-1.2, -1.6], [1.2, 1.6]]),  # each pair twice: 2 (x_i - x_j) / ||x_i - x_j||
    (1.0, [[-2.0, -2.0], [2.0, 2.0]]),
])
def test_cdist_of_a_set_with_itself(p, rows):
    np.testing.assert_allclose(_grad(lambda x: cr.cdist(x, x, p=p)), rows, rtol=1e-12)


def test_pdist_with_equal_rows_and_renorm_of_a_zero_row():
    grad = _grad(lambda x: F.pdist(x), [[3.0, 4.0], [3.0, 4.0], [0.0, 0.0]])
    # pairs (0,1): distance 0, gradient 0; (0,2) and (1,2): (3,4)/5 each
    np.testing.assert_allclose(grad, [[0.6, 0.8], [0.6, 0.8], [-1.2, -1.6]], rtol=1e-12)
    # the zero row is under maxnorm: left as it is, gradient 1; the other is scaled to 1
    grad = _grad(lambda x: x.renorm(2, 0, 1.0))
    assert np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[0], [1.0, 1.0])


def test_cosine_similarity_with_a_zero_vector_divides_by_eps_as_pytorch():
    x2 = cr.tensor([[3.0, 4.0]], dtype=cr.float64)
    grad = _grad(lambda x: F.cosine_similarity(x, x2, eps=1e-8), [[0.0, 0.0]])
    np.testing.assert_allclose(grad, [[0.6e8, 0.8e8]], rtol=1e-12)


def test_the_nuclear_norm():
    x = cr.tensor([[3.0, 0.0], [0.0, -4.0]], dtype=cr.float64, requires_grad=True)
    nuclear = cr.norm(x, p="nuc")
    assert nuclear.item() == pytest.approx(7.0)
    nuclear.backward()  # d sum(s) / dA = U V^T: here diag(1, -1)
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 0.0], [0.0, -1.0]], atol=1e-12)
