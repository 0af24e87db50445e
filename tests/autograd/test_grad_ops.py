"""The ops the engine applies to gradients itself (autograd/grad_ops.py), in the op table, and
the engine using them without the ops layer's Tensor methods."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import grad_ops
from tests.opcheck import OpCase, check_case

CASES = [
    OpCase("accumulate", lambda a, b: grad_ops.Accumulate.apply(a, b), np.add,
           [(3, 4), (3, 4)], (grad_ops.Accumulate,)),
    OpCase("sum_to_size", lambda a: grad_ops.SumToSize.apply(a, shape=(3, 1)),
           lambda a: a.sum(axis=(0, 2)).reshape(3, 1), [(2, 3, 4)], (grad_ops.SumToSize,)),
    OpCase("expand", lambda a: grad_ops.Expand.apply(a, shape=(2, 3, 4)),
           lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)], (grad_ops.Expand,)),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_grad_op(case):
    check_case(case)


def test_gradients_of_gradients_go_through_the_engines_own_ops():
    x = cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64, requires_grad=True)
    y = (x * x).sum() + (x * cr.ones(2, 1, dtype=cr.float64)).sum()  # broadcast, used twice
    (dx,) = cr.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(dx.detach().numpy(), 2 * x.detach().numpy() + 2)
    (ddx,) = cr.autograd.grad(dx.sum(), x)
    np.testing.assert_allclose(ddx.numpy(), [2.0, 2.0, 2.0])
