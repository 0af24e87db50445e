"""Dropout: inverted scaling, train/eval, reproducibility with manual_seed, gradients."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from tests.opcheck import OpCase, check_case

# The deterministic ends of dropout for the op table; the random middle is tested below.
CASES = [
    OpCase("dropout_p0", lambda x: F.dropout(x, p=0.0), lambda x: x, [(3, 4)]),
    OpCase("dropout_p1", lambda x: F.dropout(x, p=1.0), np.zeros_like, [(3, 4)]),
    OpCase("dropout_eval", lambda x: F.dropout(x, p=0.5, training=False), lambda x: x,
           [(3, 4)]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_dropout_op(case):
    check_case(case)


def test_kept_elements_are_scaled_by_one_over_keep_probability():
    cr.manual_seed(0)
    x = cr.ones(2000)
    y = nn.Dropout(p=0.25)(x).numpy()
    assert set(np.unique(y).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    assert abs((y == 0).mean() - 0.25) < 0.04  # binomial sd is about 0.01
    assert y.dtype == np.float32


def test_eval_mode_is_identity_and_train_mode_is_not():
    drop = nn.Dropout()
    x = cr.randn(50)
    drop.eval()
    assert drop(x) is x
    drop.train()
    assert not np.array_equal(drop(x).numpy(), x.numpy())
    assert F.dropout(x, 0.5, training=False) is x


def test_manual_seed_makes_masks_reproducible():
    x = cr.ones(100)
    cr.manual_seed(3)
    first = F.dropout(x, 0.5).numpy()
    cr.manual_seed(3)
    np.testing.assert_array_equal(first, F.dropout(x, 0.5).numpy())


def test_gradient_is_the_same_mask():
    cr.manual_seed(1)
    x = cr.randn(30, requires_grad=True)
    y = F.dropout(x, 0.4)
    y.sum().backward()
    mask = (y.detach().numpy() != 0) / 0.6
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)


def test_extremes_inplace_and_bad_p():
    assert F.dropout(cr.ones(5), 1.0).tolist() == [0.0] * 5
    x = cr.ones(5)
    assert F.dropout(x, 0.0) is x
    z = cr.ones(100)
    F.dropout(z, 0.5, inplace=True)
    assert (z.numpy() == 0).any()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"
