"""CTC loss: the alpha-beta recursion against a brute-force sum over every alignment, its
gradient against finite differences (through log_softmax, as CTC is used), and its options."""

import itertools

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.ops import ctc
from tests.opcheck import OpCase, check_case


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def brute_force_nll(log_probs, target, blank=0):
    """-log of the summed probability of every path (one class per step) that collapses
    (merge repeats, drop blanks) to ``target``."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


TARGETS = np.array([[1, 1, 0], [2, 1, 2]])  # a repeated label needs a blank in between
LENGTHS, TARGET_LENGTHS = (5, 4), (2, 3)


def ctc_reference(reduction):
    def reference(x):
        lp = _log_softmax(x, 2)
        losses = np.array([brute_force_nll(lp[:LENGTHS[n], n], TARGETS[n, :TARGET_LENGTHS[n]])
                           for n in range(2)])
        if reduction == "none":
            return losses
        if reduction == "sum":
            return losses.sum()
        return (losses / np.array(TARGET_LENGTHS)).mean()
    return reference


def ctc_op(reduction):
    return lambda x: F.ctc_loss(x.log_softmax(2), cr.tensor(TARGETS), LENGTHS, TARGET_LENGTHS,
                                reduction=reduction)


CASES = [
    OpCase(f"ctc_{reduction}", ctc_op(reduction), ctc_reference(reduction), [(5, 2, 3)],
           (ctc.CtcLoss,), gradgrad="CTC's gradient comes from the alpha-beta arrays of "
           "forward; like PyTorch's, it is not differentiable again")
    for reduction in ("mean", "sum", "none")
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_ctc_op(case):
    check_case(case)


def test_impossible_alignments_are_infinite_unless_zeroed():
    # two labels, the second repeating the first, need 3 steps; 2 are given
    x = cr.randn(4, 1, 3, dtype=cr.float64, requires_grad=True)
    args = (cr.tensor([[1, 1]]), (2,), (2,))
    loss = F.ctc_loss(x.log_softmax(2), *args, reduction="sum")
    assert np.isinf(loss.item())
    zeroed = F.ctc_loss(x.log_softmax(2), *args, reduction="sum", zero_infinity=True)
    zeroed.backward()
    assert zeroed.item() == 0.0 and not x.grad.numpy().any()


def test_targets_as_one_concatenation_match_padded_rows():
    x = cr.randn(5, 2, 4, dtype=cr.float64).log_softmax(2)
    padded = F.ctc_loss(x, cr.tensor([[1, 2, 0], [3, 3, 1]]), (5, 5), (2, 3), reduction="none")
    flat = F.ctc_loss(x, cr.tensor([1, 2, 3, 3, 1]), (5, 5), (2, 3), reduction="none")
    np.testing.assert_allclose(padded.numpy(), flat.numpy())


def test_blank_index_and_module():
    x = cr.randn(4, 1, 3, dtype=cr.float64)
    lp = x.log_softmax(2)
    got = nn.CTCLoss(blank=2, reduction="none")(lp, cr.tensor([[0, 1]]), (4,), (2,))
    want = brute_force_nll(lp.numpy()[:, 0], [0, 1], blank=2)
    np.testing.assert_allclose(got.numpy(), [want])


def test_bad_arguments_are_named():
    lp = cr.randn(4, 2, 3).log_softmax(2)
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(lp, cr.tensor([[1, 0], [1, 2]]), (4, 4), (2, 2))
    with pytest.raises(RuntimeError, match="input_lengths must be in"):
        F.ctc_loss(lp, cr.tensor([[1], [2]]), (5, 4), (1, 1))
    with pytest.raises(RuntimeError, match="one entry per batch element"):
        F.ctc_loss(lp, cr.tensor([[1], [2]]), (4,), (1, 1))
