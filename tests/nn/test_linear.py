"""Linear layers: the fused Linear Function against NumPy and finite differences, modules in
float64 under gradcheck, PyTorch's default initialisation, and errors."""

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import nn_linear
from tests.opcheck import OpCase, check_case

CASES = [
    OpCase("linear_2d", F.linear, lambda x, w, b: x @ w.T + b, [(4, 3), (5, 3), (5,)],
           (nn_linear.Linear,)),
    OpCase("linear_3d_no_bias", lambda x, w: F.linear(x, w), lambda x, w: x @ w.T,
           [(2, 3, 4), (2, 4)], (nn_linear.Linear,)),
    OpCase("linear_1d_input", F.linear, lambda x, w, b: w @ x + b, [(3,), (2, 3), (2,)],
           (nn_linear.Linear,)),
    OpCase("bilinear", F.bilinear, lambda a, b, w, c: np.einsum("ni,kij,nj->nk", a, w, b) + c,
           [(4, 2), (4, 3), (5, 2, 3), (5,)], (nn_linear.Linear,)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_linear_op(case):
    check_case(case)


def test_linear_double_backward():
    rng = np.random.default_rng(0)
    x, w, b = (cr.from_numpy(rng.standard_normal(s)).requires_grad_()
               for s in [(2, 3, 4), (5, 4), (5,)])
    assert gradgradcheck(F.linear, (x, w, b))


def _module_gradcheck(module, *inputs):
    """gradcheck w.r.t. the inputs and every parameter of a float64 module."""
    params = list(module.parameters())

    def run(*args):
        originals = [p._data for p in params]
        for p, a in zip(params, args[len(inputs):]):
            p._data = a._data
        try:
            return module(*args[:len(inputs)])
        finally:
            for p, data in zip(params, originals):
                p._data = data

    return gradcheck(run, tuple(inputs) + tuple(params))


def test_linear_and_bilinear_modules_pass_gradcheck_in_float64():
    cr.manual_seed(0)
    linear = nn.Linear(3, 2).double()
    x = cr.randn(2, 4, 3, dtype=cr.float64, requires_grad=True)
    assert _module_gradcheck(linear, x)
    bilinear = nn.Bilinear(2, 3, 2).double()
    a = cr.randn(3, 2, dtype=cr.float64, requires_grad=True)
    b = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)
    assert _module_gradcheck(bilinear, a, b)


def test_linear_output_matches_numpy_and_keeps_float32():
    fc = nn.Linear(4, 3)
    x = cr.randn(5, 2, 4)
    y = fc(x)
    assert y.shape == (5, 2, 3) and y.dtype == cr.float32
    expected = x.numpy() @ fc.weight.detach().numpy().T + fc.bias.detach().numpy()
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-6, atol=1e-6)


def test_default_init_is_pytorchs():
    # kaiming_uniform_(a=sqrt(5)): gain sqrt(2 / 6), bound = sqrt(3) * gain / sqrt(fan_in)
    # = 1 / sqrt(fan_in); the bias uses the same bound.
    cr.manual_seed(0)
    fc = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = fc.weight.detach().numpy(), fc.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # std of U(-c, c) = c / sqrt 3
    bil = nn.Bilinear(50, 7, 30)
    assert np.abs(bil.weight.detach().numpy()).max() <= 1 / math.sqrt(50)


def test_init_is_reproducible_with_manual_seed():
    cr.manual_seed(7)
    first = nn.Linear(3, 3).weight.detach().numpy().copy()
    cr.manual_seed(7)
    second = nn.Linear(3, 3).weight.detach().numpy()
    np.testing.assert_array_equal(first, second)


def test_reprs_and_identity():
    assert repr(nn.Linear(2, 3)) == "Linear(in_features=2, out_features=3, bias=True)"
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
    assert nn.Linear(2, 3, bias=False).bias is None
    assert (repr(nn.Bilinear(2, 3, 4))
            == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)")
    x = cr.randn(2)
    assert nn.Identity(54, unused="x")(x) is x
    assert nn.Linear(2, 3, dtype=cr.float64).weight.dtype == cr.float64


def test_errors_name_the_shapes_and_dtypes():
    fc = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match=r"\(2, 5\).*\(3, 4\)"):
        fc(cr.randn(2, 5))
    with pytest.raises(RuntimeError, match="same dtype"):
        fc(cr.randn(2, 4, dtype=cr.float64))
    with pytest.raises(RuntimeError, match="do not fit"):
        nn.Bilinear(2, 3, 4)(cr.randn(5, 2), cr.randn(4, 3))
