"""Embedding and one_hot: lookups, padding_idx, max_norm, frequency scaling, gradients."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import gradcheck
from tests.opcheck import OpCase, check_case

INDICES = np.array([[0, 2], [1, 0]])  # row 0 is looked up twice

CASES = [
    OpCase("embedding", lambda w: F.embedding(cr.tensor(INDICES), w), lambda w: w[INDICES],
           [(3, 4)]),
    OpCase("one_hot", lambda x: F.one_hot((x > 0).long() + (x > 1).long(), 3),
           lambda x: np.eye(3, dtype=np.int64)[(x > 0).astype(int) + (x > 1).astype(int)],
           [(2, 5)], grad=False),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_lookup_op(case):
    check_case(case)


def test_lookup_shape_values_and_default_init():
    cr.manual_seed(0)
    emb = nn.Embedding(1000, 8)
    w = emb.weight.detach().numpy()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1)
    idx = cr.tensor([[3, 1], [3, 999]])
    out = emb(idx)
    assert out.shape == (2, 2, 8)
    np.testing.assert_array_equal(out.detach().numpy(), w[[[3, 1], [3, 999]]])


def test_gradient_accumulates_repeated_indices_and_passes_gradcheck():
    emb = nn.Embedding(5, 3).double()
    idx = cr.tensor([1, 4, 1])
    emb(idx).sum().backward()
    expected = np.zeros((5, 3))
    expected[1] = 2
    expected[4] = 1
    np.testing.assert_array_equal(emb.weight.grad.numpy(), expected)
    table = cr.randn(5, 3, dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda w: F.embedding(cr.tensor([[0, 2], [2, 4]]), w), (table,))


def test_padding_row_is_zero_and_gets_no_gradient():
    emb = nn.Embedding(4, 2, padding_idx=-1)
    assert emb.padding_idx == 3 and emb.weight[3].tolist() == [0.0, 0.0]
    emb.weight.data[3] = 7.0  # even a non-zero padding row is returned as is
    out = emb(cr.tensor([3, 0, 3]))
    assert out[0].tolist() == [7.0, 7.0]
    out.sum().backward()
    assert emb.weight.grad[3].tolist() == [0.0, 0.0]
    assert emb.weight.grad[0].tolist() == [1.0, 1.0]
    assert repr(emb) == "Embedding(4, 2, padding_idx=3)"


def test_max_norm_renormalises_looked_up_rows_in_place():
    table = cr.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    F.embedding(cr.tensor([0, 1]), table, max_norm=1.0)
    norms = np.linalg.norm(table.numpy(), axis=1)
    np.testing.assert_allclose(norms[:2], [1.0, 0.5], rtol=1e-5)
    assert norms[2] == 10.0  # not looked up, not touched


def test_scale_grad_by_freq():
    emb = nn.Embedding(3, 1, scale_grad_by_freq=True)
    emb(cr.tensor([0, 0, 0, 2])).sum().backward()
    assert emb.weight.grad.reshape(-1).tolist() == [1.0, 0.0, 1.0]


def test_from_pretrained_shares_and_freezes():
    table = cr.randn(4, 3)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb.weight.shape == (4, 3)
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(emb(cr.tensor([2])).numpy()[0], table.numpy()[2])


def test_bad_indices_are_clear_errors():
    emb = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index 3 is out of range for a table of 3 rows"):
        emb(cr.tensor([0, 3]))
    with pytest.raises(RuntimeError, match="integer"):
        emb(cr.tensor([0.0, 1.0]))


def test_one_hot():
    out = F.one_hot(cr.tensor([[0, 2], [1, 0]]))
    assert out.dtype == cr.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 0, 0]]]
    assert F.one_hot(cr.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    with pytest.raises(RuntimeError, match="class values"):
        F.one_hot(cr.tensor([5]), num_classes=3)
