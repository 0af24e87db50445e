import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import elementwise as ew
from chainrule.ops import linalg as la
from tests.opcheck import OpCase, check_case


def _einsum_case(name, equation, shapes):
    return OpCase(name, lambda *ops: cr.einsum(equation, *ops),
                  lambda *ops: np.einsum(equation, *ops), shapes, (la.Einsum,))


CASES = [
    OpCase("matmul_vec_vec", cr.matmul, np.matmul, [(4,), (4,)], (la.MatMul,)),
    OpCase("matmul_mat_mat", cr.matmul, np.matmul, [(2, 3), (3, 4)], (la.MatMul,)),
    OpCase("matmul_vec_mat", cr.matmul, np.matmul, [(3,), (3, 4)], (la.MatMul,)),
    OpCase("matmul_mat_vec", cr.matmul, np.matmul, [(2, 3), (3,)], (la.MatMul,)),
    OpCase("matmul_batch_broadcast", cr.matmul, np.matmul, [(2, 1, 3, 4), (5, 4, 2)],
           (la.MatMul,)),
    OpCase("matmul_vec_batch", cr.matmul, np.matmul, [(3,), (2, 3, 4)], (la.MatMul,)),
    OpCase("matmul_batch_vec", cr.matmul, np.matmul, [(2, 2, 3), (3,)], (la.MatMul,)),
    OpCase("matmul_size1_dims", cr.matmul, np.matmul, [(1, 1, 3), (3, 1)], (la.MatMul,)),
    OpCase("matmul_size0_inner", cr.matmul, np.matmul, [(2, 0), (0, 3)], (la.MatMul,)),
    OpCase("matmul_size0_batch", cr.matmul, np.matmul, [(0, 2, 3), (3, 4)], (la.MatMul,)),
    OpCase("matmul_operator", lambda a, b: a @ b, np.matmul, [(3, 2), (2,)], (la.MatMul,)),
    OpCase("mm", cr.mm, np.matmul, [(3, 2), (2, 4)], (la.MatMul,)),
    OpCase("bmm", lambda a, b: a.bmm(b), np.matmul, [(2, 3, 2), (2, 2, 4)], (la.MatMul,)),
    OpCase("dot", cr.dot, np.dot, [(5,)] * 2, (la.MatMul,)),
    OpCase("dot_size0", lambda a, b: a.dot(b), np.dot, [(0,)] * 2, (la.MatMul,)),
    OpCase("outer", cr.outer, np.outer, [(3,), (4,)], (ew.Mul,)),
    _einsum_case("einsum_matmul", "ij,jk->ik", [(2, 3), (3, 4)]),
    _einsum_case("einsum_implicit", "ij,jk", [(2, 3), (3, 4)]),
    _einsum_case("einsum_implicit_order", "ba,Ab", [(2, 3), (4, 2)]),
    _einsum_case("einsum_batch", "bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    _einsum_case("einsum_transpose", "ij->ji", [(2, 3)]),
    _einsum_case("einsum_sum_all", "ijk->", [(2, 3, 2)]),
    _einsum_case("einsum_partial_sum", "ij->i", [(2, 3)]),
    _einsum_case("einsum_trace", "ii", [(3, 3)]),
    _einsum_case("einsum_diagonal", "ii->i", [(3, 3)]),
    _einsum_case("einsum_diagonal_mixed", "iij,j->ji", [(2, 2, 3), (3,)]),
    _einsum_case("einsum_outer", "i,j->ij", [(2,), (3,)]),
    _einsum_case("einsum_three", "ij,jk,kl->il", [(2, 3), (3, 2), (2, 4)]),
    _einsum_case("einsum_broadcast_size1", "ij,ij->ij", [(1, 3), (2, 3)]),
    _einsum_case("einsum_ellipsis", "...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    _einsum_case("einsum_ellipsis_implicit", "...ij,jk", [(2, 2, 3), (3, 2)]),
    _einsum_case("einsum_ellipsis_reduce", "i...->...", [(2, 3, 2)]),
    _einsum_case("einsum_size0", "ij,jk->ik", [(2, 0), (0, 3)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_linalg_op(case):
    check_case(case)


def _leaf(*shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return cr.from_numpy(rng.standard_normal(shape).astype(dtype)).requires_grad_()


def test_rmatmul_with_an_ndarray_on_the_left():
    b = _leaf(3, 2)
    a = np.arange(6.0).reshape(2, 3)
    out = a @ b
    np.testing.assert_allclose(out.detach().numpy(), a @ b.detach().numpy())
    out.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), a.T @ np.ones((2, 2)))


def test_matmul_gradient_sums_over_broadcast_batch_dims():
    a, b = _leaf(4, 2, 3), _leaf(3, 5, seed=1)
    (a @ b).sum().backward()
    expected = np.einsum("bij,bik->jk", a.detach().numpy(), np.ones((4, 2, 5)))
    assert b.grad.shape == (3, 5)
    np.testing.assert_allclose(b.grad.numpy(), expected)


def test_float32_stays_float32():
    a, b = cr.randn(2, 3), cr.randn(3, 4)
    v, w = cr.randn(3), cr.randn(3)
    for out in (a @ b, cr.mm(a, b), cr.einsum("ij,jk", a, b), cr.outer(v, w), cr.dot(v, w)):
        assert out.dtype == cr.float32
    x = cr.randn(2, 3, requires_grad=True)
    (x @ b).sum().backward()
    assert x.grad.dtype == cr.float32


@pytest.mark.parametrize("op, a, b", [
    ("matmul", (2, 3), (4, 5)),
    ("matmul", (2, 3, 4), (3, 4, 2)),
    ("mm", (2, 3), (4,)),
    ("mm", (2, 3), (4, 5)),
    ("bmm", (2, 3, 4), (3, 4, 5)),
    ("bmm", (2, 3), (3, 4)),
    ("dot", (3,), (4,)),
    ("dot", (3, 1), (3,)),
])
def test_shape_mismatch_names_the_op_and_both_shapes(op, a, b):
    with pytest.raises(RuntimeError, match=rf"{op}.*{tuple(a)}.*{tuple(b)}".replace("(", r"\(")
                       .replace(")", r"\)")):
        getattr(cr, op)(cr.ones(*a), cr.ones(*b))


def test_matmul_rejects_0d_and_mixed_dtypes():
    with pytest.raises(RuntimeError, match="at least 1 dimension"):
        cr.matmul(cr.tensor(2.0), cr.ones(2))
    with pytest.raises(RuntimeError, match="same dtype"):
        cr.ones(2, 2) @ cr.ones(2, 2, dtype=cr.float64)


def test_outer_needs_vectors():
    with pytest.raises(RuntimeError, match=r"outer.*\(2, 2\).*\(3,\)"):
        cr.outer(cr.ones(2, 2), cr.ones(3))


def test_einsum_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"einsum.*\(2, 3\), \(4, 5\)"):
        cr.einsum("ij,jk->ik", cr.ones(2, 3), cr.ones(4, 5))
    with pytest.raises(RuntimeError, match="3 labels"):
        cr.einsum("ijk->i", cr.ones(2, 3))
    with pytest.raises(ValueError, match="2 operands"):
        cr.einsum("ij,jk", cr.ones(2, 3))


def test_einsum_accepts_a_list_of_operands():
    a, b = cr.randn(2, 3), cr.randn(3, 2)
    np.testing.assert_allclose(cr.einsum("ij,jk", [a, b]).numpy(), a.numpy() @ b.numpy(),
                               rtol=1e-6)


@pytest.mark.parametrize("fn, shapes", [
    (lambda a, b, c: ((a @ b).tanh() @ c), [(2, 3), (3, 4), (4, 2)]),
    (lambda a, b, c: a @ b @ c, [(3,), (2, 3, 4), (4,)]),
    (lambda a, b, c: cr.einsum("ij,jk,k->i", a, b, c), [(2, 3), (3, 4), (4,)]),
], ids=["matmul_tanh_chain", "vector_batch_vector", "einsum_chain"])
def test_double_backward(fn, shapes):
    inputs = tuple(_leaf(*s, seed=i) for i, s in enumerate(shapes))
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("n, k, m", [(2, 3, 7), (3, 2, 7), (7, 3, 2), (7, 2, 3), (4, 4, 4)])
def test_oriented_products_match_numpy(n, k, m):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((n, m)), rng.standard_normal((k, m))
    np.testing.assert_allclose(la._times_transposed(x, y), x @ y.T, rtol=1e-12)
    x, y = rng.standard_normal((m, n)), rng.standard_normal((m, k))
    np.testing.assert_allclose(la._transposed_times(x, y), x.T @ y, rtol=1e-12)
