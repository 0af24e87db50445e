"""The generated in-place forms (chainrule.ops.inplace_forms): each writes its out-of-place
op's result into the tensor, bumps the version, and records a gradient like the op."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.inplace_forms import IN_PLACE

ARGUMENTS = {  # the extra arguments each form needs (the out-of-place op takes the same)
    "arctan2": (0.5,), "atan2": (0.5,), "bitwise_and": (3,), "bitwise_or": (3,),
    "bitwise_xor": (3,), "bitwise_left_shift": (1,), "bitwise_right_shift": (1,),
    "clamp_max": (0.2,), "clamp_min": (0.2,), "copysign": (-1.0,), "cumprod": (0,),
    "cumsum": (0,), "divide": (2.0,), "eq": (0.5,), "float_power": (2,), "floor_divide": (2,),
    "fmod": (0.3,), "gcd": (4,), "ge": (0.5,), "greater": (0.5,), "greater_equal": (0.5,),
    "gt": (0.5,), "heaviside": (cr.tensor(0.5, dtype=cr.float64),), "hypot": (1.0,),
    "lcm": (4,), "ldexp": (cr.tensor(2),), "le": (0.5,), "less": (0.5,), "less_equal": (0.5,),
    "logical_and": (True,), "logical_or": (False,), "logical_xor": (True,), "lt": (0.5,),
    "multiply": (3.0,), "mvlgamma": (1,), "ne": (0.5,), "nextafter": (1.0,),
    "not_equal": (0.5,), "polygamma": (1,), "remainder": (0.3,), "renorm": (2, 0, 1.0),
    "subtract": (0.5,), "true_divide": (2.0,), "xlogy": (2.0,),
    "index_fill": (0, cr.tensor([1]), -1.0),
    "masked_scatter": (cr.tensor([True, False, True]), cr.tensor([7.0, 8.0], dtype=cr.float64)),
    "index_add": (0, cr.tensor([1]), cr.tensor([5.0], dtype=cr.float64)),
    "scatter": (0, cr.tensor([2]), cr.tensor([5.0], dtype=cr.float64)),
    "scatter_add": (0, cr.tensor([2]), cr.tensor([5.0], dtype=cr.float64)),
    "index_put": ((cr.tensor([0]),), cr.tensor([9.0], dtype=cr.float64)),
    "addmm": (cr.ones(2, 3, dtype=cr.float64), cr.ones(3, 2, dtype=cr.float64)),
    "addbmm": (cr.ones(1, 2, 3, dtype=cr.float64), cr.ones(1, 3, 2, dtype=cr.float64)),
    "baddbmm": (cr.ones(1, 2, 3, dtype=cr.float64), cr.ones(1, 3, 2, dtype=cr.float64)),
    "addmv": (cr.ones(2, 3, dtype=cr.float64), cr.ones(3, dtype=cr.float64)),
    "addr": (cr.ones(2, dtype=cr.float64), cr.ones(2, dtype=cr.float64)),
    "index_copy": (0, cr.tensor([1]), cr.tensor([[5.0, 6.0]], dtype=cr.float64)),
    "put": (cr.tensor([3]), cr.tensor([5.0], dtype=cr.float64)),
    "scatter_reduce": (0, cr.tensor([2, 2]), cr.tensor([5.0, 4.0], dtype=cr.float64), "prod"),
    "index_reduce": (0, cr.tensor([1]), cr.tensor([5.0], dtype=cr.float64), "amax"),
    "igamma": (1.5,), "igammac": (1.5,),
}
INTEGER = {"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift", "gcd", "lcm"}
BOOL = {"logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_not"}
MATRIX = {"tril", "triu", "addmm", "addr", "index_copy", "put", "addbmm"}
BATCHED = {"baddbmm"}


def _input(name):
    if name in INTEGER:
        return cr.tensor([6, 9, 12])
    if name in BOOL:
        return cr.tensor([True, False, True])
    if name in MATRIX:
        return cr.tensor([[0.2, 0.4], [0.6, 0.8]], dtype=cr.float64)
    if name in BATCHED:
        return cr.tensor([[[0.2, 0.4], [0.6, 0.8]]], dtype=cr.float64)
    if name == "addmv":
        return cr.tensor([0.2, 0.4], dtype=cr.float64)
    if name in ("acosh", "arccosh"):
        return cr.tensor([1.5, 2.0, 3.0], dtype=cr.float64)
    return cr.tensor([0.2, 0.5, 0.7], dtype=cr.float64)


@pytest.mark.parametrize("name", [n for n in IN_PLACE if hasattr(cr.Tensor, n + "_")])
def test_form_writes_the_op_result_in_place(name):
    args = ARGUMENTS.get(name, ())
    x = _input(name)
    expected = getattr(x, name)(*args)
    before = x._version
    result = getattr(x, name + "_")(*args)
    assert result is x and x._version > before
    np.testing.assert_allclose(x.numpy(), expected.numpy().astype(x.numpy().dtype))


def test_form_records_the_gradient_on_a_non_leaf():
    w = cr.tensor([0.2, 0.5], dtype=cr.float64, requires_grad=True)
    y = w * 1.0
    y.sinh_()
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.cosh([0.2, 0.5]))
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w.sinh_()
    with pytest.raises(RuntimeError, match="can't be cast"):
        cr.tensor([1, 2]).sinh_()
