"""The op table of in-place methods (chainrule/ops/inplace.py): each writes into a clone of its
input, so the harness can differentiate through the rebased node the write leaves behind."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.ops import view_writes
from tests.opcheck import OpCase, check_case

ROWS = [0, 2, 0]  # a repeated row
INDEX = cr.tensor([[1, 0], [2, 2], [0, 1]])  # row 1 writes column 2 twice
UNIQUE_INDEX = cr.tensor([[1, 0], [2, 0], [0, 1]])


def _written(a, key, values):
    out = a.copy()
    out[key] = values
    return out


def _added_at_rows(a, b):
    out = a.copy()
    np.add.at(out, ROWS, b)
    return out


def _scatter_added(a, b):
    out = a.copy()
    for row, cols in enumerate(INDEX.numpy()):
        for col, value in zip(cols, b[row]):
            out[row, col] += value  # a repeated column adds up
    return out


def _through_view(a, b, write):
    c = a * 1  # a tensor in the graph, not a leaf
    write(c, b)
    return c


def _cols_written(a, b):
    out = a.copy()
    out[:, 1:3] = b
    return out


def _scaled_transposed_rows(a, b):
    out = a.copy()
    out.T[1:] *= b
    return out


def _sigmoid_flat_slice(a):
    out = a.copy()
    flat = out.reshape(-1)
    flat[2:7] = 1 / (1 + np.exp(-flat[2:7]))
    return out


def _setitem(a, b):
    c = a.clone()
    c[1:] = b
    return c


CASES = [
    OpCase("add_", lambda a, b: a.clone().add_(b), np.add, [(3, 4), (4,)]),
    OpCase("add__alpha", lambda a, b: a.clone().add_(b, alpha=2), lambda a, b: a + 2 * b,
           [(3, 4), (4,)]),
    OpCase("iadd", lambda a, b: a.clone().__iadd__(b), np.add, [(3, 4), (4,)]),
    OpCase("sub_", lambda a, b: a.clone().sub_(b), np.subtract, [(3, 4), (4,)]),
    OpCase("mul_", lambda a, b: a.clone().mul_(b), np.multiply, [(3, 4), (4,)]),
    OpCase("div_", lambda a, b: a.clone().div_(b), np.divide, [(3, 4), (4,)],
           domain="positive"),
    OpCase("pow_", lambda a: a.clone().pow_(3), lambda a: a**3, [(4,)]),
    OpCase("clamp_", lambda a: a.clone().clamp_(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7),
           [(4, 5)]),
    OpCase("neg_", lambda a: a.clone().neg_(), np.negative, [(3,)]),
    OpCase("exp_", lambda a: a.clone().exp_(), np.exp, [(3,)]),
    OpCase("sqrt_", lambda a: a.clone().sqrt_(), np.sqrt, [(3,)], domain="positive"),
    OpCase("relu_", lambda a: a.clone().relu_(), lambda a: np.maximum(a, 0), [(3, 4)],
           domain="nonzero"),
    OpCase("relu__functional", lambda a: F.relu_(a.clone()), lambda a: np.maximum(a, 0),
           [(3, 4)], domain="nonzero"),
    OpCase("elu_", lambda a: F.elu_(a.clone()), lambda a: np.where(a > 0, a, np.expm1(a)),
           [(3, 4)], domain="nonzero"),
    OpCase("leaky_relu_", lambda a: F.leaky_relu_(a.clone(), 0.2),
           lambda a: np.where(a > 0, a, 0.2 * a), [(3, 4)], domain="nonzero"),
    OpCase("sigmoid_", lambda a: a.clone().sigmoid_(), lambda a: 1 / (1 + np.exp(-a)), [(3,)]),
    OpCase("tanh_", lambda a: a.clone().tanh_(), np.tanh, [(3,)]),
    OpCase("addcmul_", lambda a, b, c: a.clone().addcmul_(b, c, value=0.5),
           lambda a, b, c: a + 0.5 * b * c, [(3, 4), (3, 4), (4,)]),
    OpCase("addcdiv_", lambda a, b, c: a.clone().addcdiv_(b, c, value=0.5),
           lambda a, b, c: a + 0.5 * b / c, [(3, 4), (3, 4), (4,)], domain="positive"),
    OpCase("lerp_", lambda a, b: a.clone().lerp_(b, 0.3), lambda a, b: a + 0.3 * (b - a),
           [(3, 4), (3, 4)]),
    OpCase("masked_fill_", lambda a, b: a.clone().masked_fill_(b > 0, 0.5),
           lambda a, b: np.where(b > 0, 0.5, a), [(3, 4), (4,)]),
    OpCase("fill_", lambda a: a.clone().fill_(0.5), lambda a: np.full_like(a, 0.5), [(3,)]),
    OpCase("zero_", lambda a: a.clone().zero_(), np.zeros_like, [(3,)]),
    OpCase("copy_", lambda a, b: a.clone().copy_(b), lambda a, b: np.broadcast_to(b, a.shape),
           [(3, 4), (4,)]),
    # writes through a view of a tensor in the graph (a CopySlices node on its root)
    OpCase("copy__through_slice", lambda a, b: _through_view(
        a, b, lambda c, v: c[:, 1:3].copy_(v)), _cols_written, [(3, 4), (3, 2)],
           (view_writes.CopySlices,)),
    OpCase("mul__through_transpose", lambda a, b: _through_view(
        a, b, lambda c, v: c.t()[1:].mul_(v)), _scaled_transposed_rows, [(3, 4), (3,)],
           (view_writes.CopySlices,)),
    OpCase("sigmoid__through_view_of_view", lambda a: _through_view(
        a, None, lambda c, v: c.view(-1)[2:7].sigmoid_()), _sigmoid_flat_slice, [(3, 4)],
           (view_writes.CopySlices,)),
    OpCase("setitem", _setitem, lambda a, b: _written(a, slice(1, None), b), [(3, 4), (4,)]),
    OpCase("index_put_", lambda a, b: a.clone().index_put_((cr.tensor([0, 2]),), b),
           lambda a, b: _written(a, [0, 2], b), [(3, 4), (2, 4)]),
    OpCase("index_add_", lambda a, b: a.clone().index_add_(0, cr.tensor(ROWS), b),
           _added_at_rows, [(3, 4), (3, 4)]),
    OpCase("scatter_", lambda a, b: a.clone().scatter_(1, UNIQUE_INDEX, b),
           lambda a, b: _unique_scatter(a, b), [(3, 4), (3, 2)]),
    OpCase("scatter_add_", lambda a, b: a.clone().scatter_add_(1, INDEX, b),
           _scatter_added, [(3, 4), (3, 2)]),
]


def _unique_scatter(a, b):
    out = a.copy()
    for row, cols in enumerate(UNIQUE_INDEX.numpy()):
        out[row, cols] = b[row]
    return out


@pytest.mark.parametrize("case", CASES, ids=str)
def test_in_place_op(case):
    check_case(case)
