import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import grad_ops
from chainrule.ops import elementwise as ew
from chainrule.ops import rounding
from tests.opcheck import OpCase, check_case

CASES = [
    OpCase("add", lambda a, b: a + b, np.add, [(3, 4), (4,)], (ew.Add,)),
    OpCase("add_scalar_left", lambda a: 2.5 + a, lambda a: 2.5 + a, [(2, 3)], (ew.Add,)),
    OpCase("sub", lambda a, b: a - b, np.subtract, [(3, 1), (1, 4)], (ew.Sub,)),
    OpCase("rsub", lambda a: 1.0 - a, lambda a: 1.0 - a, [(5,)], (ew.Sub,)),
    OpCase("mul", lambda a, b: a * b, np.multiply, [(2, 3, 4), (3, 1)], (ew.Mul,)),
    OpCase("div", lambda a, b: a / b, np.divide, [(3, 4), (3, 4)], (ew.Div,), domain="positive"),
    OpCase("rdiv", lambda a: 2.0 / a, lambda a: 2.0 / a, [(3,)], (ew.Div,), domain="positive"),
    OpCase("neg", lambda a: -a, np.negative, [(2, 2)], (ew.Neg,)),
    OpCase("pow_scalar", lambda a: a**3, lambda a: a**3, [(4,)], (ew.Pow,)),
    OpCase("pow_tensor", lambda a, b: a**b, np.power, [(3, 2), (2,)], (ew.Pow,), "positive"),
    OpCase("rpow", lambda a: 2.0**a, lambda a: 2.0**a, [(3,)], (ew.Pow,)),
    OpCase("maximum", cr.maximum, np.maximum, [(3, 4), (4,)], (ew.Maximum,)),
    OpCase("minimum", cr.minimum, np.minimum, [(3, 4), (3, 1)], (ew.Minimum,)),
    OpCase("where", lambda a, b: cr.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           [(3, 4), (4,)], (ew.Where,), domain="nonzero"),
    OpCase("exp", cr.exp, np.exp, [(3, 4)], (ew.Exp,)),
    OpCase("expm1", cr.expm1, np.expm1, [(3,)], (ew.Expm1,)),
    OpCase("log", cr.log, np.log, [(3, 4)], (ew.Log,), domain="positive"),
    OpCase("log1p", cr.log1p, np.log1p, [(3,)], (ew.Log1p,), domain="positive"),
    OpCase("sqrt", cr.sqrt, np.sqrt, [(3,)], (ew.Sqrt,), domain="positive"),
    OpCase("rsqrt", cr.rsqrt, lambda a: 1 / np.sqrt(a), [(3,)], (ew.Rsqrt,), domain="positive"),
    OpCase("abs", cr.abs, np.abs, [(2, 3)], (ew.Abs,), domain="nonzero"),
    OpCase("sign", cr.sign, np.sign, [(2, 3)], (ew.Sign,), domain="nonzero"),
    OpCase("sin", cr.sin, np.sin, [(4,)], (ew.Sin,)),
    OpCase("cos", cr.cos, np.cos, [(4,)], (ew.Cos,)),
    OpCase("tanh", cr.tanh, np.tanh, [(3, 4)], (ew.Tanh,)),
    OpCase("sigmoid", cr.sigmoid, lambda a: 1 / (1 + np.exp(-a)), [(3, 4)], (ew.Sigmoid,)),
    OpCase("relu", cr.relu, lambda a: np.maximum(a, 0), [(3, 4)], (ew.Relu,), domain="nonzero"),
    OpCase("clamp", lambda a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), [(4, 5)],
           (ew.Clamp,)),
    OpCase("clamp_min", lambda a: a.clamp(min=0.1), lambda a: np.clip(a, 0.1, None), [(6,)],
           (ew.Clamp,)),
    OpCase("cast_roundtrip", lambda a: a.float().double(), lambda a: a.astype(np.float32)
           .astype(np.float64), [(3,)], (grad_ops.Cast,), grad=False),
    OpCase("clone", lambda a: a.clone(), np.copy, [(2, 3)], (ew.Clone,)),
    OpCase("square", cr.square, np.square, [(2, 3)], (ew.Mul,)),
    OpCase("reciprocal", cr.reciprocal, np.reciprocal, [(3,)], (ew.Div,), domain="positive"),
    OpCase("positive", lambda a: +a, np.positive, [(3,)]),
    # -- no gradient: rounding, comparisons, logic, bit operations, tests for special values
    OpCase("floor_divide", lambda a, b: a // b, np.floor_divide, [(3, 4), (4,)], grad=False,
           domain="nonzero"),
    # -- a zero gradient (PyTorch records rounding with a backward that returns zeros)
    OpCase("floor", cr.floor, np.floor, [(3, 4)], (rounding.Rounding,)),
    OpCase("ceil", cr.ceil, np.ceil, [(3, 4)], (rounding.Rounding,)),
    OpCase("round", cr.round, np.round, [(3, 4)], (rounding.Rounding,)),
    OpCase("round_decimals", lambda a: cr.round(a, decimals=2), lambda a: np.round(a, 2),
           [(3, 4)], (rounding.Rounding,)),
    OpCase("trunc", cr.trunc, np.trunc, [(3, 4)], (rounding.Rounding,)),
    OpCase("eq", lambda a, b: a.round() == b.round(), lambda a, b: a.round() == b.round(),
           [(3, 4), (4,)], grad=False),
    OpCase("ne", lambda a, b: cr.ne(a.round(), b.round()), lambda a, b: a.round() != b.round(),
           [(3, 4), (4,)], grad=False),
    OpCase("lt", lambda a, b: a < b, np.less, [(3, 4), (4,)], grad=False),
    OpCase("le", lambda a, b: a.round() <= b.round(), lambda a, b: a.round() <= b.round(),
           [(3, 4), (4,)], grad=False),
    OpCase("gt", lambda a, b: cr.gt(a, b), np.greater, [(3, 4), (4,)], grad=False),
    OpCase("ge", lambda a, b: a.round() >= b.round(), lambda a, b: a.round() >= b.round(),
           [(3, 4), (4,)], grad=False),
    OpCase("logical_and", lambda a, b: cr.logical_and(a > 0, b > 0),
           lambda a, b: np.logical_and(a > 0, b > 0), [(3, 4), (4,)], grad=False),
    OpCase("logical_or", lambda a, b: (a > 0).logical_or(b > 0),
           lambda a, b: np.logical_or(a > 0, b > 0), [(3, 4), (4,)], grad=False),
    OpCase("logical_xor", lambda a, b: cr.logical_xor(a > 0, b > 0),
           lambda a, b: np.logical_xor(a > 0, b > 0), [(3, 4), (4,)], grad=False),
    OpCase("logical_not", lambda a: cr.logical_not(a > 0), lambda a: ~(a > 0), [(3, 4)],
           grad=False),
    OpCase("bitwise_and", lambda a, b: (a * 10).long() & (b * 10).long(),
           lambda a, b: (a * 10).astype(np.int64) & (b * 10).astype(np.int64),
           [(3, 4), (4,)], grad=False),
    OpCase("bitwise_or", lambda a, b: (a * 10).long().bitwise_or((b * 10).long()),
           lambda a, b: (a * 10).astype(np.int64) | (b * 10).astype(np.int64),
           [(3, 4), (4,)], grad=False),
    OpCase("bitwise_xor", lambda a, b: cr.bitwise_xor((a * 10).long(), (b * 10).long()),
           lambda a, b: (a * 10).astype(np.int64) ^ (b * 10).astype(np.int64),
           [(3, 4), (4,)], grad=False),
    OpCase("bitwise_not", lambda a: ~(a * 10).long(), lambda a: ~(a * 10).astype(np.int64),
           [(3, 4)], grad=False),
    OpCase("bitwise_not_bool", lambda a: cr.bitwise_not(a > 0), lambda a: ~(a > 0), [(3, 4)],
           grad=False),
    OpCase("isnan", lambda a: cr.isnan(a.log()), lambda a: np.isnan(_log(a)), [(3, 4)],
           grad=False),
    OpCase("isinf", lambda a: a.abs().round().log().isinf(),
           lambda a: np.isinf(_log(np.abs(a).round())), [(3, 4)], grad=False),
    OpCase("isfinite", lambda a: cr.isfinite(a.log()), lambda a: np.isfinite(_log(a)),
           [(3, 4)], grad=False),
    OpCase("isclose", lambda a, b: cr.isclose(a, a + b * 1e-9),
           lambda a, b: np.isclose(a, a + b * 1e-9), [(3, 4), (4,)], grad=False),
    OpCase("equal", lambda a: cr.equal(a, a.clone()), lambda a: True, [(3,)], grad=False),
    OpCase("equal_not", lambda a, b: a.equal(b), lambda a, b: False, [(3,), (3,)], grad=False),
    OpCase("allclose", lambda a: cr.allclose(a, a + 1e-9), lambda a: True, [(3,)], grad=False),
]


def _log(a):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_elementwise_op(case):
    check_case(case)


def test_python_scalars_keep_float32():
    x = cr.ones(3)
    assert (x * 2.5).dtype == cr.float32
    assert (2 ** x).dtype == cr.float32


def test_int_and_float_tensors_promote_to_the_float_dtype():
    assert (cr.arange(3) + cr.ones(3)).dtype == cr.float32
    assert (cr.arange(3) / cr.arange(1, 4)).dtype == cr.float32


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"add.*\(2, 3\).*\(4,\)"):
        cr.ones(2, 3) + cr.ones(4)


def test_comparisons_give_bool_without_grad():
    x = cr.randn(4, requires_grad=True)
    mask = x > 0
    assert mask.dtype == cr.bool and not mask.requires_grad


def test_cast_sends_the_gradient_back_in_the_input_dtype():
    x = cr.tensor([1.0, 2.0], dtype=cr.float64, requires_grad=True)
    (x.float() * cr.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.dtype == cr.float64 and x.grad.tolist() == [3.0, 4.0]


def test_ieee_results_come_without_numpys_warnings():
    # PyTorch gives inf and nan silently; NumPy's RuntimeWarning pointed into our internals
    # (the GCN example's `1 / degrees` with isolated nodes)
    import warnings

    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (1 / x).tolist() == [float("inf"), 1.0]
        assert np.isnan((x / x).tolist()[0]) and x.reciprocal().tolist()[0] == float("inf")
        assert x.pow(-1).tolist()[0] == float("inf") and cr.tensor([1000.0]).exp().item() == (
            float("inf"))
        (1 / x).sum().backward()
    assert x.grad.tolist() == [float("-inf"), -1.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_relu_split_over_threads_is_max_with_zero(monkeypatch, dtype):
    """ReLU's forward on a big array runs in slices on the kernel threads: every slice once."""
    from chainrule.kernels import threads

    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setitem(threads._state, "cap", 2)
    monkeypatch.setattr(threads, "KERNEL_PARALLEL_SIZE", 1)
    a = (np.random.default_rng(3).standard_normal((7, 11, 13)) * 10).astype(dtype)
    y = cr.relu(cr.tensor(a))
    assert y.dtype == cr.tensor(a).dtype
    np.testing.assert_array_equal(y.numpy(), np.maximum(a, 0))
    t = cr.tensor(a.astype(np.float64)[:, ::2], requires_grad=True)  # not contiguous
    cr.relu(t).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), (a[:, ::2] > 0).astype(np.float64))
