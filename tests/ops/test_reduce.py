import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import elementwise as ew
from chainrule.ops import reduce as rd
from chainrule.ops import softmax as sm
from tests.opcheck import OpCase, check_case


def _np_logsumexp(a, axis, keepdims=False):
    m = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_norm(a, p, axis=None, keepdims=False):
    return np.sum(np.abs(a) ** p, axis=axis, keepdims=keepdims) ** (1 / p)


CASES = [
    # sum and mean
    OpCase("sum_all", lambda a: a.sum(), np.sum, [(3, 4)], (rd.Sum,)),
    OpCase("sum_neg_dim_keepdim", lambda a: a.sum(-1, keepdim=True),
           lambda a: a.sum(-1, keepdims=True), [(2, 3, 4)], (rd.Sum,)),
    OpCase("sum_dims", lambda a: cr.sum(a, (0, 2)), lambda a: a.sum((0, 2)), [(2, 3, 4)],
           (rd.Sum,)),
    OpCase("sum_size0_dim", lambda a: a.sum(0), lambda a: a.sum(0), [(0, 3)], (rd.Sum,)),
    OpCase("sum_0d_dim0", lambda a: a.sum(0), np.sum, [()], (rd.Sum,)),
    OpCase("mean_dims", lambda a: a.mean((1, -1)), lambda a: a.mean((1, -1)), [(2, 3, 4)],
           (rd.Sum, ew.Div)),
    # prod
    OpCase("prod_all", lambda a: a.prod(), np.prod, [(2, 3)], (rd.Prod,)),
    OpCase("prod_dim_keepdim", lambda a: a.prod(1, keepdim=True),
           lambda a: a.prod(1, keepdims=True), [(3, 4)], (rd.Prod,)),
    OpCase("prod_neg_dim", lambda a: cr.prod(a, -2), lambda a: a.prod(-2), [(2, 3, 1)],
           (rd.Prod,)),
    OpCase("prod_size0_dim", lambda a: a.prod(1), lambda a: a.prod(1), [(2, 0)], (rd.Prod,)),
    OpCase("prod_0d", lambda a: a.prod(), np.prod, [()], (rd.Prod,)),
    # var and std
    OpCase("var_all", lambda a: a.var(), lambda a: a.var(ddof=1), [(3, 4)], (rd.Var,)),
    OpCase("var_dim_biased", lambda a: cr.var(a, 1, unbiased=False), lambda a: a.var(1),
           [(3, 4)], (rd.Var,)),
    OpCase("var_dims_correction", lambda a: a.var((0, -1), keepdim=True, correction=2),
           lambda a: a.var((0, 2), ddof=2, keepdims=True), [(2, 3, 4)], (rd.Var,)),
    OpCase("std_all", lambda a: a.std(), lambda a: a.std(ddof=1), [(5,)], (rd.Std,)),
    OpCase("std_neg_dim_keepdim", lambda a: cr.std(a, -1, keepdim=True),
           lambda a: a.std(-1, ddof=1, keepdims=True), [(3, 4)], (rd.Std,)),
    OpCase("std_correction0", lambda a: a.std(0, correction=0), lambda a: a.std(0),
           [(4, 1)], (rd.Std,)),
    # max / min / amax / amin
    OpCase("max_all", lambda a: a.max(), np.max, [(3, 4)], (rd.Amax,)),
    OpCase("min_all", lambda a: cr.min(a), np.min, [(3, 4)], (rd.Amin,)),
    OpCase("max_dim", lambda a: tuple(a.max(dim=1)),
           lambda a: (a.max(1), a.argmax(1)), [(3, 4)], (rd.Max,)),
    OpCase("max_neg_dim_keepdim", lambda a: tuple(cr.max(a, -1, keepdim=True)),
           lambda a: (a.max(-1, keepdims=True), a.argmax(-1, keepdims=True)), [(2, 3, 4)],
           (rd.Max,)),
    OpCase("min_dim", lambda a: tuple(a.min(0)), lambda a: (a.min(0), a.argmin(0)), [(4, 3)],
           (rd.Min,)),
    OpCase("max_dim_size0_other", lambda a: tuple(a.max(1)),
           lambda a: (a.max(1), a.argmax(1)), [(0, 3)], (rd.Max,)),
    OpCase("max_0d_dim", lambda a: tuple(a.max(0)),
           lambda a: (a, np.asarray(0)), [()], (rd.Max,)),
    OpCase("max_binary_broadcast", lambda a, b: cr.max(a, b), np.maximum, [(3, 4), (4,)],
           (ew.Maximum,)),
    OpCase("min_binary_broadcast", lambda a, b: a.min(b), np.minimum, [(3, 1), (1, 4)],
           (ew.Minimum,)),
    OpCase("amax_default", lambda a: a.amax(), np.max, [(3, 4)], (rd.Amax,)),
    OpCase("amax_dims", lambda a: cr.amax(a, (0, 2)), lambda a: a.max((0, 2)), [(2, 3, 4)],
           (rd.Amax,)),
    OpCase("amin_neg_dim_keepdim", lambda a: a.amin(-1, keepdim=True),
           lambda a: a.min(-1, keepdims=True), [(3, 4)], (rd.Amin,)),
    OpCase("argmax_flat", lambda a: a.argmax(), np.argmax, [(3, 4)], grad=False),
    OpCase("argmax_dim_keepdim", lambda a: cr.argmax(a, -1, keepdim=True),
           lambda a: a.argmax(-1, keepdims=True), [(2, 3, 4)], grad=False),
    OpCase("argmin_dim", lambda a: a.argmin(0), lambda a: a.argmin(0), [(3, 4)], grad=False),
    # logsumexp and norm
    OpCase("logsumexp_dim", lambda a: a.logsumexp(1), lambda a: _np_logsumexp(a, 1), [(3, 4)],
           (sm.Logsumexp,)),
    OpCase("logsumexp_dims_keepdim", lambda a: cr.logsumexp(a, (0, -1), keepdim=True),
           lambda a: _np_logsumexp(a, (0, 2), True), [(2, 3, 4)], (sm.Logsumexp,)),
    OpCase("logsumexp_size0_dim", lambda a: cr.logsumexp(a, 1),
           lambda a: np.full(a.shape[0], -np.inf), [(3, 0)], (sm.Logsumexp,)),
    OpCase("norm_default", lambda a: a.norm(), lambda a: np.sqrt((a * a).sum()), [(3, 4)],
           (rd.Norm,)),
    OpCase("norm_fro_dims", lambda a: cr.norm(a, "fro", dim=(0, 1)),
           lambda a: np.sqrt((a * a).sum((0, 1))), [(3, 4, 2)], (rd.Norm,)),
    OpCase("norm_p1_dim", lambda a: a.norm(1, dim=1), lambda a: np.abs(a).sum(1), [(3, 4)],
           (rd.Norm,), domain="nonzero"),
    OpCase("norm_inf_neg_dim", lambda a: a.norm(float("inf"), dim=-1),
           lambda a: np.abs(a).max(-1), [(3, 4)], (rd.Norm,), domain="nonzero"),
    OpCase("norm_neg_inf", lambda a: a.norm(-float("inf")), lambda a: np.abs(a).min(),
           [(3, 4)], (rd.Norm,), domain="nonzero"),
    OpCase("norm_p3_keepdim", lambda a: a.norm(3, dim=0, keepdim=True),
           lambda a: _np_norm(a, 3, 0, True), [(4, 3)], (rd.Norm,), domain="nonzero"),
    OpCase("norm_p_half", lambda a: a.norm(0.5, dim=1), lambda a: _np_norm(a, 0.5, 1),
           [(2, 3)], (rd.Norm,), domain="nonzero"),
    OpCase("norm_p0", lambda a: a.norm(0), lambda a: np.asarray(np.count_nonzero(a), float),
           [(3, 4)], (rd.Norm,), domain="nonzero"),
    OpCase("norm_size0", lambda a: a.norm(dim=0), lambda a: np.zeros(3), [(0, 3)],
           (rd.Norm,)),
    # cumsum and softmax
    OpCase("cumsum_dim", lambda a: a.cumsum(1), lambda a: a.cumsum(1), [(3, 4)],
           (rd.Cumsum,)),
    OpCase("cumsum_neg_dim", lambda a: cr.cumsum(a, -3), lambda a: a.cumsum(0), [(3, 2, 2)],
           (rd.Cumsum,)),
    OpCase("cumsum_size0", lambda a: a.cumsum(0), lambda a: a.cumsum(0), [(0, 2)],
           (rd.Cumsum,)),
    OpCase("softmax_last", lambda a: a.softmax(-1), lambda a: _np_softmax(a, -1), [(3, 4)],
           (sm.Softmax,)),
    OpCase("softmax_dim0", lambda a: cr.softmax(a, 0), lambda a: _np_softmax(a, 0),
           [(3, 1, 2)], (sm.Softmax,)),
    OpCase("softmax_size0", lambda a: cr.softmax(a, 1), lambda a: a, [(2, 0)], (sm.Softmax,)),
    OpCase("log_softmax_last", lambda a: a.log_softmax(-1),
           lambda a: np.log(_np_softmax(a, -1)), [(3, 4)], (sm.LogSoftmax,)),
    OpCase("log_softmax_dim1", lambda a: cr.log_softmax(a, dim=1),
           lambda a: np.log(_np_softmax(a, 1)), [(2, 3, 2)], (sm.LogSoftmax,)),
    # logical reductions: no gradient
    OpCase("all_dim", lambda a: (a > -1).all(1), lambda a: (a > -1).all(1), [(3, 4)],
           grad=False),
    OpCase("any_keepdim", lambda a: cr.any(a > 1, -1, keepdim=True),
           lambda a: (a > 1).any(-1, keepdims=True), [(3, 4)], grad=False),
    OpCase("all_whole", lambda a: cr.all(a > -5), lambda a: np.all(a > -5), [(3, 4)],
           grad=False),
    OpCase("count_nonzero_dim", lambda a: cr.count_nonzero(a > 0, 0),
           lambda a: np.count_nonzero(a > 0, 0), [(3, 4)], grad=False),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_reduce_op(case):
    check_case(case)


def _leaf(values, dtype=cr.float64):
    return cr.tensor(values, dtype=dtype, requires_grad=True)


# -- prod with zeros ---------------------------------------------------------------------------
def test_prod_gradient_with_one_zero_is_the_product_of_the_others():
    x = _leaf([[2.0, 0.0, 3.0], [4.0, 5.0, 6.0]])
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 6.0, 0.0], [30.0, 24.0, 20.0]]


def test_prod_gradient_with_two_zeros_is_zero():
    x = _leaf([2.0, 0.0, 0.0])
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [0.0, 0.0, 3.0, 2.0]])
def test_prod_first_and_second_derivatives_at_zeros(values):
    x = _leaf(values)
    assert gradcheck(lambda t: t.prod(), (x,))
    assert gradgradcheck(lambda t: t.prod(), (x,))


# -- max / min / amax ----------------------------------------------------------------------------
def test_max_with_dim_returns_named_values_and_indices():
    x = cr.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    result = x.max(dim=1)
    assert result.values.tolist() == [5.0, 7.0] and result.indices.tolist() == [1, 0]
    values, indices = cr.min(x, 0)
    assert values.tolist() == [1.0, 0.0, 2.0] and indices.dtype == cr.int64


def test_max_with_dim_sends_the_gradient_to_the_selected_element_only():
    x = _leaf([[3.0, 3.0, 1.0]])
    values, indices = x.max(1)
    values.sum().backward()
    expected = [[1.0 if j == indices.item() else 0.0 for j in range(3)]]
    assert x.grad.tolist() == expected


@pytest.mark.parametrize("op", [lambda x: x.amax(), lambda x: x.max(), lambda x: x.amax(0)])
def test_amax_shares_the_gradient_evenly_among_ties(op):
    x = _leaf([1.0, 3.0, 3.0, 3.0])
    op(x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 1 / 3, 1 / 3, 1 / 3])


def test_amin_ties():
    x = _leaf([[0.0, 2.0, 0.0]])
    x.amin(-1).sum().backward()
    assert x.grad.tolist() == [[0.5, 0.0, 0.5]]


def test_max_of_an_empty_dim_raises():
    with pytest.raises(IndexError, match="max"):
        cr.zeros(2, 0).max(1)
    with pytest.raises(IndexError, match="amin"):
        cr.zeros(2, 0).amin((0, 1))
    with pytest.raises(RuntimeError, match="amax"):
        cr.zeros(0).amax()
    with pytest.raises(RuntimeError, match="norm"):
        cr.zeros(0).norm(float("inf"))


def test_max_with_other_is_the_elementwise_maximum():
    a, b = cr.tensor([1.0, 5.0]), cr.tensor([3.0, 2.0])
    assert cr.max(a, b).tolist() == [3.0, 5.0] and cr.max(a, other=b).tolist() == [3.0, 5.0]
    assert a.min(b).tolist() == [1.0, 2.0]


def test_reduction_dim_out_of_range_raises():
    with pytest.raises(IndexError, match="out of range"):
        cr.ones(2, 3).sum(2)


# -- numerics ----------------------------------------------------------------------------------
def test_softmax_and_log_softmax_are_finite_for_large_inputs():
    x = cr.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    y = x.softmax(-1)
    assert y.dtype == cr.float32
    np.testing.assert_allclose(y.detach().numpy(), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]],
                               atol=1e-7)
    z = x.log_softmax(-1)
    np.testing.assert_allclose(z.detach().numpy()[0], [0.0, -2e4, -1e4])
    weights = cr.tensor([1.0, 2.0, 3.0])
    ((y * weights).sum() + (z * weights).sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_logsumexp_large_values_and_all_minus_inf():
    x = cr.tensor([[1e4, 1e4], [-np.inf, -np.inf]])
    np.testing.assert_allclose(cr.logsumexp(x, 1).numpy(), [1e4 + np.log(2), -np.inf])


def test_norm_gradient_at_the_zero_vector_is_zero():
    x = cr.zeros(2, 3, dtype=cr.float64, requires_grad=True)
    (x.norm() + x.norm(dim=1).sum() + x.norm(3)).backward()
    assert x.grad.tolist() == [[0.0] * 3] * 2


def test_std_gradient_of_a_constant_is_zero():
    x = cr.ones(4, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0] * 4


def test_var_argument_forms():
    x = cr.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], dtype=cr.float64)
    a = x.numpy()
    np.testing.assert_allclose(x.var(1, True).numpy(), a.var(1, ddof=1))
    np.testing.assert_allclose(x.var(False).numpy(), a.var())
    np.testing.assert_allclose(x.std(1, unbiased=False, keepdim=True).numpy(),
                               a.std(1, keepdims=True))
    with pytest.raises(TypeError, match="not both"):
        x.var(unbiased=True, correction=0)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.arange(3).var()


def test_reductions_keep_float32_and_integer_results_are_int64():
    x = cr.randn(3, 4)
    for y in (x.prod(), x.var(), x.std(1), x.amax(0), x.logsumexp(1), x.norm(), x.cumsum(0),
              x.softmax(1), x.log_softmax(0), x.max(1).values):
        assert y.dtype == cr.float32
    n = cr.tensor([1, 2, 3], dtype=cr.int32)
    assert n.prod().dtype == cr.int64 and n.prod().item() == 6
    assert n.cumsum(0).tolist() == [1, 3, 6] and n.cumsum(0).dtype == cr.int64
    assert x.argmax().dtype == cr.int64 and cr.count_nonzero(x).dtype == cr.int64
    assert cr.logsumexp(n, 0).dtype == cr.float32


def test_softmax_dtype_argument_casts_first():
    x = cr.tensor([1.0, 2.0])
    assert x.softmax(0, dtype=cr.float64).dtype == cr.float64


def test_norm_rejects_unknown_p():
    with pytest.raises(ValueError, match="'fro' or 'nuc'"):
        cr.ones(2, 2).norm("spectral")


# -- second derivatives ------------------------------------------------------------------------
def _random_leaf(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return cr.from_numpy(rng.standard_normal(shape)).requires_grad_()


@pytest.mark.parametrize("op", [
    lambda x: x.softmax(-1),
    lambda x: x.log_softmax(0),
    lambda x: x.logsumexp(1),
    lambda x: x.var(1),
    lambda x: x.std(0),
    lambda x: x.norm(dim=1),
    lambda x: x.norm(3),
    lambda x: x.prod(1),
    lambda x: x.cumsum(1),
    lambda x: x.max(1).values,
    lambda x: x.amax(0),
], ids=["softmax", "log_softmax", "logsumexp", "var", "std", "norm2", "norm3", "prod", "cumsum",
        "max_dim", "amax"])
def test_double_backward(op):
    assert gradgradcheck(op, (_random_leaf(3, 4),))
