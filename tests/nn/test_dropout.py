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
    OpCase("dropout1d_p1", lambda x: F.dropout1d(x, p=1.0), np.zeros_like, [(2, 3, 4)]),
    OpCase("dropout2d_eval", lambda x: F.dropout2d(x, training=False), lambda x: x,
           [(2, 3, 4, 2)]),
    OpCase("dropout3d_p0", lambda x: F.dropout3d(x, p=0.0), lambda x: x, [(2, 3, 2, 2, 2)]),
    OpCase("alpha_dropout_p1", lambda x: F.alpha_dropout(x, p=1.0, training=True),
           np.zeros_like, [(3, 4)]),
    OpCase("feature_alpha_dropout_eval", lambda x: F.feature_alpha_dropout(x, 0.5),
           lambda x: x, [(2, 3, 4)]),
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


# -- channel-wise and alpha dropout --------------------------------------------------------------
@pytest.mark.parametrize("layer, shape", [
    (nn.Dropout1d, (40, 30, 5)), (nn.Dropout1d, (30, 5)), (nn.Dropout2d, (20, 30, 2, 3)),
    (nn.Dropout3d, (10, 30, 2, 2, 2)), (nn.Dropout3d, (30, 2, 2, 2)),
])
def test_feature_dropout_zeroes_whole_channels(layer, shape):
    cr.manual_seed(1)
    x = cr.rand(*shape, dtype=cr.float64) + 1.0  # no zeros of its own
    y = layer(p=0.4)(x).numpy()
    batched = len(shape) == {nn.Dropout1d: 3, nn.Dropout2d: 4, nn.Dropout3d: 5}[layer]
    per_channel = y.reshape((-1,) + shape[2 if batched else 1:]).reshape(
        int(np.prod(shape[:2 if batched else 1])), -1)
    ratio = per_channel / x.numpy().reshape(per_channel.shape)
    dropped = (ratio == 0).all(axis=1)
    kept = np.isclose(ratio, 1 / 0.6).all(axis=1)
    assert (dropped | kept).all()  # each channel is all dropped or all kept and scaled
    assert 0.2 < dropped.mean() < 0.6


def test_dropout2d_reads_a_3d_input_as_n_c_l_with_pytorchs_warning():
    cr.manual_seed(2)
    x = cr.ones(8, 20, 3)
    with pytest.warns(UserWarning, match="channel-wise 1D dropout"):
        y = F.dropout2d(x, 0.5).numpy()
    assert ((y == 0).all(axis=2) | (y != 0).all(axis=2)).all()


def test_dropout2d_of_a_2d_input_drops_single_elements_with_pytorchs_warning():
    # PyTorch (deprecated, still accepted): feature dropout of (N, C) draws per (n, c) entry
    cr.manual_seed(3)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = nn.Dropout2d(0.5)(cr.ones(64, 32)).numpy()
    assert set(np.unique(y)) == {0.0, 2.0}
    assert not ((y == 0).all(axis=1) | (y != 0).all(axis=1)).all()  # not whole rows


def test_dropout3d_of_a_2d_input_is_unbatched_one_draw_per_row():
    # PyTorch unsqueezes a non-5-D input: (A, B) -> (1, A, B), channels are the A rows
    cr.manual_seed(4)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout3d"):
        y = F.dropout3d(cr.ones(40, 6), 0.5).numpy()
    assert ((y == 0).all(axis=1) | (y == 2).all(axis=1)).all()
    assert 0 < (y[:, 0] == 0).sum() < 40


def test_feature_dropout_rejects_a_wrong_rank():
    with pytest.raises(RuntimeError, match="Expected 2D or 3D input"):
        F.dropout1d(cr.ones(2, 3, 4, 5))


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    # a = ((1 - p)(1 + p alpha'^2))^-1/2 and b = -a alpha' p make E[y] = 0, Var[y] = 1 for a
    # standard normal input (Klambauer et al., eq. 11)
    cr.manual_seed(3)
    x = cr.randn(200_000, dtype=cr.float64)
    y = nn.AlphaDropout(p=0.3).train()(x).numpy()
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    alpha = -1.7580993408473766
    a = ((1 - 0.3) * (1 + 0.3 * alpha**2)) ** -0.5
    dropped = np.isclose(y, a * alpha - a * alpha * 0.3)
    assert abs(dropped.mean() - 0.3) < 0.01
    kept = ~dropped
    np.testing.assert_allclose(y[kept], a * x.numpy()[kept] - a * alpha * 0.3)


def test_alpha_dropout_is_identity_in_eval_and_zero_at_p_one():
    x = cr.randn(5, 4)
    assert nn.AlphaDropout(0.5).eval()(x) is x
    assert not np.array_equal(nn.AlphaDropout(0.5)(x).numpy(), x.numpy())  # modules train
    assert F.alpha_dropout(x, 0.5) is x
    assert not F.alpha_dropout(x, 1.0, training=True).numpy().any()


def test_feature_alpha_dropout_drops_channels():
    cr.manual_seed(4)
    x = cr.randn(10, 30, 4, dtype=cr.float64)
    y = nn.FeatureAlphaDropout(0.5)(x).numpy()
    alpha = -1.7580993408473766
    a = ((1 - 0.5) * (1 + 0.5 * alpha**2)) ** -0.5
    dropped = np.isclose(y, a * alpha - a * alpha * 0.5).all(axis=2)
    assert 0.3 < dropped.mean() < 0.7


def test_channel_dropout_gradient_is_the_mask():
    cr.manual_seed(5)
    x = cr.randn(4, 6, 3, requires_grad=True)
    y = F.dropout1d(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy() / x.detach().numpy(),
                               rtol=1e-5)
