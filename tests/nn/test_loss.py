"""Losses: forward against NumPy formulas written here, gradients by finite differences,
stability at extreme logits, PyTorch's reductions and errors, and the loss modules."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import loss as L
from chainrule.ops import regression_loss as RL
from tests.opcheck import OpCase, check_case


# -- NumPy references ----------------------------------------------------------------------------
def _reduce(loss, reduction, divisor=None):
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (loss.size if divisor is None else divisor)


def np_log_softmax(x, axis):
    e = np.exp(x)
    return np.log(e / e.sum(axis=axis, keepdims=True))


def np_cross_entropy(x, target, weight=None, ignore_index=-100, reduction="mean", smoothing=0.0):
    """-log softmax picked by index (or summed against probabilities), PyTorch's documented
    weighting and label smoothing, written with explicit loops over the non-class positions."""
    axis = 1 if x.ndim >= 2 else 0
    classes = x.shape[axis]
    w = np.ones(classes) if weight is None else weight
    logp = np.moveaxis(np_log_softmax(x, axis), axis, -1)  # class axis last
    if target.dtype.kind == "f":  # probabilities
        q = np.moveaxis(target, axis, -1) * (1 - smoothing) + smoothing / classes
        loss = -(q * w * logp).sum(-1)
        return _reduce(loss, reduction, loss.size)
    loss = np.zeros(target.shape)
    weight_sum = 0.0
    for index in np.ndindex(target.shape):
        y = target[index]
        if y == ignore_index:
            continue
        q = np.full(classes, smoothing / classes)
        q[y] += 1 - smoothing
        loss[index] = -(w * q * logp[index]).sum()
        weight_sum += w[y]
    return _reduce(loss, reduction, weight_sum)


def np_nll(x, target, weight=None, ignore_index=-100, reduction="mean"):
    axis = 1 if x.ndim >= 2 else 0
    w = np.ones(x.shape[axis]) if weight is None else weight
    x = np.moveaxis(x, axis, -1)
    loss = np.zeros(target.shape)
    weight_sum = 0.0
    for index in np.ndindex(target.shape):
        y = target[index]
        if y != ignore_index:
            loss[index] = -w[y] * x[index][y]
            weight_sum += w[y]
    return _reduce(loss, reduction, weight_sum)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- op table ------------------------------------------------------------------------------------
T4 = np.array([0, 2, 4, 1])
T_DIMS = np.array([[[0, 1, 2], [2, 2, 0]], [[1, -100, 0], [0, 1, 1]]])  # (N=2, d1=2, d2=3)
W5 = np.array([0.5, 1.0, 2.0, 1.5, 0.25])
W3 = np.array([1.0, 2.0, 0.5])
T_IGNORE = np.array([0, -100, 4, 1])
T_POS = np.array([3])


def _long(values):
    return cr.tensor(values.tolist(), dtype=cr.int64)


def _softmax_rows(p):
    e = np.exp(p)
    return e / e.sum(axis=1, keepdims=True)


def ce(target, **kw):
    return lambda x: F.cross_entropy(x, _long(target), **{k: _opt(v) for k, v in kw.items()})


def ce_ref(target, **kw):
    return lambda x: np_cross_entropy(x, target, **kw)


def nll(target, **kw):
    return lambda x: F.nll_loss(x, _long(target), **{k: _opt(v) for k, v in kw.items()})


def _opt(v):
    return cr.from_numpy(v) if isinstance(v, np.ndarray) else v


CE, NLL = (L.CrossEntropy,), (L.NllLoss,)
CASES = [
    OpCase("mse", F.mse_loss, lambda a, b: ((a - b) ** 2).mean(), [(3, 4), (3, 4)],
           (RL.MseLoss,)),
    OpCase("mse_sum", lambda a, b: F.mse_loss(a, b, reduction="sum"),
           lambda a, b: ((a - b) ** 2).sum(), [(5,), (5,)], (RL.MseLoss,)),
    OpCase("mse_none", lambda a, b: F.mse_loss(a, b, reduction="none"), lambda a, b: (a - b) ** 2,
           [(2, 3), (2, 3)], (RL.MseLoss,)),
    OpCase("l1", lambda a, b: F.l1_loss(a, 0.1 * b), lambda a, b: np.abs(a - 0.1 * b).mean(),
           [(3, 4), (3, 4)], (RL.L1Loss,), domain="nonzero"),
    OpCase("l1_none", lambda a, b: F.l1_loss(a, 0.1 * b, reduction="none"),
           lambda a, b: np.abs(a - 0.1 * b), [(6,), (6,)], (RL.L1Loss,), domain="nonzero"),
    OpCase("smooth_l1", lambda a, b: F.smooth_l1_loss(a, b, beta=0.7),
           lambda a, b: np.where(np.abs(a - b) < 0.7, 0.5 * (a - b) ** 2 / 0.7,
                                 np.abs(a - b) - 0.35).mean(), [(4, 5), (4, 5)],
           (RL.SmoothL1Loss,)),
    OpCase("smooth_l1_beta0_sum", lambda a: F.smooth_l1_loss(a, a * 0, beta=0.0,
                                                             reduction="sum"),
           lambda a: np.abs(a).sum(), [(6,)], (RL.SmoothL1Loss,), domain="nonzero"),
    OpCase("huber", lambda a, b: F.huber_loss(a, b, delta=0.8, reduction="none"),
           lambda a, b: np.where(np.abs(a - b) < 0.8, 0.5 * (a - b) ** 2,
                                 0.8 * (np.abs(a - b) - 0.4)), [(3, 4), (3, 4)], (RL.HuberLoss,)),
    OpCase("huber_mean", lambda a, b: F.huber_loss(a, b),
           lambda a, b: np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2, np.abs(a - b) - 0.5)
           .mean(), [(8,), (8,)], (RL.HuberLoss,)),
    # probabilities in (0.2, 0.8): inputs from "positive" (0.5, 2) divided by 2.5
    OpCase("bce", lambda a, b: F.binary_cross_entropy(a / 2.5, b / 2.5),
           lambda a, b: -((b / 2.5) * np.log(a / 2.5) + (1 - b / 2.5) * np.log(1 - a / 2.5))
           .mean(), [(3, 4), (3, 4)], (L.BinaryCrossEntropy,), domain="positive"),
    OpCase("bce_weight_none",
           lambda a, b: F.binary_cross_entropy(a / 2.5, b / 2.5, weight=cr.tensor(
               [1.0, 0.5, 2.0], dtype=cr.float64), reduction="none"),
           lambda a, b: -np.array([1.0, 0.5, 2.0]) * ((b / 2.5) * np.log(a / 2.5)
                                                      + (1 - b / 2.5) * np.log(1 - a / 2.5)),
           [(2, 3), (2, 3)], (L.BinaryCrossEntropy,), domain="positive"),
    OpCase("bce_logits", F.binary_cross_entropy_with_logits,
           lambda x, y: -(y * np.log(np_sigmoid(x)) + (1 - y) * np.log(1 - np_sigmoid(x))).mean(),
           [(3, 4), (3, 4)], (L.BinaryCrossEntropyWithLogits,)),
    OpCase("bce_logits_pos_weight_sum",
           lambda x, y: F.binary_cross_entropy_with_logits(
               x, y, weight=cr.tensor([2.0, 1.0, 0.5, 1.0], dtype=cr.float64),
               pos_weight=cr.tensor([3.0, 1.0, 0.5, 2.0], dtype=cr.float64), reduction="sum"),
           lambda x, y: -(np.array([2.0, 1.0, 0.5, 1.0]) * (
               np.array([3.0, 1.0, 0.5, 2.0]) * y * np.log(np_sigmoid(x))
               + (1 - y) * np.log(1 - np_sigmoid(x)))).sum(),
           [(3, 4), (3, 4)], (L.BinaryCrossEntropyWithLogits,)),
    OpCase("kl_div_batchmean",
           lambda x, y: F.kl_div(x, y, reduction="batchmean"),
           lambda x, y: (y * (np.log(y) - x)).sum() / 3, [(3, 4), (3, 4)], (L.KlDiv,),
           domain="positive"),
    OpCase("kl_div_log_target_none",
           lambda x, y: F.kl_div(x, y, reduction="none", log_target=True),
           lambda x, y: np.exp(y) * (y - x), [(2, 5), (2, 5)], (L.KlDiv,)),
    OpCase("kl_div_sum", lambda x, y: F.kl_div(x, y, reduction="sum"),
           lambda x, y: (y * (np.log(y) - x)).sum(), [(6,), (6,)], (L.KlDiv,), domain="positive"),
    OpCase("cross_entropy", ce(T4), ce_ref(T4), [(4, 5)], CE),
    OpCase("cross_entropy_sum", ce(T4, reduction="sum"), ce_ref(T4, reduction="sum"), [(4, 5)],
           CE),
    OpCase("cross_entropy_none", ce(T4, reduction="none"), ce_ref(T4, reduction="none"),
           [(4, 5)], CE),
    OpCase("cross_entropy_weight_ignore", ce(T_IGNORE, weight=W5),
           ce_ref(T_IGNORE, weight=W5), [(4, 5)], CE),
    OpCase("cross_entropy_ignore_custom", ce(np.array([0, 3, 3, 1]), ignore_index=3),
           ce_ref(np.array([0, 3, 3, 1]), ignore_index=3), [(4, 5)], CE),
    OpCase("cross_entropy_smoothing", ce(T4, label_smoothing=0.2),
           ce_ref(T4, smoothing=0.2), [(4, 5)], CE),
    OpCase("cross_entropy_smoothing_weight_ignore",
           ce(T_IGNORE, weight=W5, label_smoothing=0.3),
           ce_ref(T_IGNORE, weight=W5, smoothing=0.3), [(4, 5)], CE),
    OpCase("cross_entropy_extra_dims", ce(T_DIMS, weight=W3, label_smoothing=0.1),
           ce_ref(T_DIMS, weight=W3, smoothing=0.1), [(2, 3, 2, 3)], CE),
    OpCase("cross_entropy_extra_dims_none", ce(T_DIMS, reduction="none"),
           ce_ref(T_DIMS, reduction="none"), [(2, 3, 2, 3)], CE),
    OpCase("cross_entropy_unbatched", ce(np.array(3)), ce_ref(np.array(3)), [(5,)], CE),
    # the loss is linear in probability targets, so real-valued draws test the formula as well
    OpCase("cross_entropy_probabilities", lambda x, p: F.cross_entropy(x, p),
           lambda x, p: np_cross_entropy(x, p), [(3, 4), (3, 4)], CE),
    OpCase("cross_entropy_probabilities_weight_smoothing",
           lambda x, p: F.cross_entropy(x, p, weight=cr.from_numpy(W5[:4].copy()),
                                        label_smoothing=0.25, reduction="sum"),
           lambda x, p: np_cross_entropy(x, p, weight=W5[:4], smoothing=0.25, reduction="sum"),
           [(3, 4), (3, 4)], CE, domain="positive"),
    OpCase("nll", nll(T4), lambda x: np_nll(x, T4), [(4, 5)], NLL),
    OpCase("nll_weight_ignore_none", nll(T_IGNORE, weight=W5, reduction="none"),
           lambda x: np_nll(x, T_IGNORE, weight=W5, reduction="none"), [(4, 5)], NLL),
    OpCase("nll_weight_ignore_mean", nll(T_IGNORE, weight=W5),
           lambda x: np_nll(x, T_IGNORE, weight=W5), [(4, 5)], NLL),
    OpCase("nll_extra_dims_sum", nll(T_DIMS, reduction="sum"),
           lambda x: np_nll(x, T_DIMS, reduction="sum"), [(2, 3, 2, 3)], NLL),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_loss_op(case):
    check_case(case)


# -- hand-computed values ------------------------------------------------------------------------
def test_cross_entropy_of_uniform_logits_is_log_c_whatever_the_smoothing():
    x = cr.zeros(3, 4)
    for smoothing in (0.0, 0.5, 1.0):
        loss = F.cross_entropy(x, cr.tensor([0, 1, 3]), label_smoothing=smoothing)
        assert loss.item() == pytest.approx(np.log(4), rel=1e-6)


def test_weighted_mean_divides_by_the_weights_of_non_ignored_targets():
    # logits chosen so that -log p is known: class 0 gets log p = -log(1 + e^-1)
    x = cr.tensor([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    weight = cr.tensor([2.0, 3.0])
    loss = F.cross_entropy(x, cr.tensor([0, 0, -100]), weight=weight)
    # rows 0 and 1: -2 log p(0) each; divisor 2 + 2 (row 2 ignored)
    expected = (2 * np.log1p(np.exp(-1.0)) + 2 * np.log1p(np.exp(1.0))) / 4
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_all_targets_ignored_gives_nan_mean_and_zero_sum():
    x = cr.randn(2, 3)
    t = cr.tensor([-100, -100])
    assert np.isnan(F.cross_entropy(x, t).item())
    assert F.cross_entropy(x, t, reduction="sum").item() == 0.0


def test_bce_clamps_log_at_minus_100():
    loss = F.binary_cross_entropy(cr.tensor([0.0, 1.0]), cr.tensor([1.0, 0.0]),
                                  reduction="none")
    assert loss.tolist() == [100.0, 100.0]


def test_kl_div_is_zero_where_target_is_zero():
    x = cr.tensor([[-1.0, -2.0]])
    loss = F.kl_div(x, cr.tensor([[0.0, 1.0]]), reduction="sum")
    assert loss.item() == pytest.approx(2.0)


def test_kl_div_mean_warns_and_divides_by_every_element():
    x, y = cr.full((2, 3), -1.0), cr.full((2, 3), 0.5)
    with pytest.warns(UserWarning, match="batchmean"):
        mean = F.kl_div(x, y)
    assert mean.item() == pytest.approx(0.5 * (np.log(0.5) + 1))


# -- numerical stability -------------------------------------------------------------------------
def _finite_loss_and_grad(fn, x):
    x = x.requires_grad_()
    loss = fn(x)
    loss.backward()
    assert np.isfinite(loss.item()), loss
    assert np.all(np.isfinite(x.grad.numpy())), x.grad
    return loss.item(), x.grad.numpy()


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_cross_entropy_is_stable_at_extreme_logits(dtype):
    x = cr.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=dtype)
    loss, grad = _finite_loss_and_grad(
        lambda x: F.cross_entropy(x, cr.tensor([1, 0]), label_smoothing=0.1), x)
    # row 0: -log p(1) = 2e4; row 1: -log p(0) = 2e4 + log 2 (two tied maxima)
    smooth_0 = 0.1 / 3 * (2e4 + 0 + 1e4) + 0.9 * 2e4
    smooth_1 = 0.1 / 3 * (2e4 + np.log(2) + 2 * np.log(2)) + 0.9 * (2e4 + np.log(2))
    assert loss == pytest.approx((smooth_0 + smooth_1) / 2, rel=1e-5)
    np.testing.assert_allclose(grad.sum(axis=1), 0, atol=1e-6)
    assert F.cross_entropy(x.detach(), cr.tensor([1, 0])).dtype == dtype


@pytest.mark.parametrize("dtype", [cr.float32, cr.float64])
def test_cross_entropy_over_masked_logits_ignores_the_masked_classes(dtype):
    # a logit of -inf (masked out, as in contrastive losses) on a class that is not the
    # target: p = (1/4, 0, 3/4), loss = -log(1/4), dx = p - onehot(0)
    x = cr.tensor([[0.0, float("-inf"), float(np.log(3.0))]], dtype=dtype, requires_grad=True)
    for options in ({}, {"weight": cr.tensor([2.0, 1.0, 1.0], dtype=dtype)}):
        loss = F.cross_entropy(x, cr.tensor([0]), **options)
        (grad,) = cr.autograd.grad(loss, x)
        assert loss.item() == pytest.approx(np.log(4.0), rel=1e-6)
        np.testing.assert_allclose(grad.numpy(), [[-0.75, 0.0, 0.75]], rtol=1e-6)
    # with smoothing every class gets weight, so the masked one makes it infinite, as PyTorch
    assert F.cross_entropy(x, cr.tensor([0]), label_smoothing=0.1).item() == float("inf")


@pytest.mark.parametrize("logit", [1e4, -1e4])
def test_bce_with_logits_is_stable_at_extreme_logits(logit):
    x = cr.full((2, 2), logit)
    target = cr.tensor([[1.0, 0.0], [0.5, 1.0]])
    loss, grad = _finite_loss_and_grad(
        lambda x: F.binary_cross_entropy_with_logits(
            x, target, pos_weight=cr.tensor([2.0, 1.0]), reduction="sum"), x)
    y = target.numpy()
    softplus_neg = max(-logit, 0.0)
    expected = ((1 - y) * logit + (1 + (np.array([2.0, 1.0]) - 1) * y) * softplus_neg).sum()
    assert loss == pytest.approx(expected, rel=1e-6)
    sigmoid = 1.0 if logit > 0 else 0.0
    np.testing.assert_allclose(grad, (1 - y) - (1 + np.array([1.0, 0.0]) * y) * (1 - sigmoid))


def test_nll_at_extreme_log_probabilities_is_exact():
    x = cr.tensor([[0.0, -1e4], [-2e4, 0.0]])
    loss, grad = _finite_loss_and_grad(lambda x: F.nll_loss(x, cr.tensor([1, 0])), x)
    assert loss == pytest.approx(1.5e4)
    np.testing.assert_allclose(grad, [[0.0, -0.5], [-0.5, 0.0]])


def test_kl_div_log_target_is_stable():
    x = cr.tensor([[-1e4, 0.0]])
    _finite_loss_and_grad(
        lambda x: F.kl_div(x, cr.tensor([[-1e4, 0.0]]), reduction="batchmean", log_target=True),
        x)


# -- double backward -----------------------------------------------------------------------------
def test_cross_entropy_second_derivatives():
    x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    p = cr.from_numpy(_softmax_rows(np.random.default_rng(0).standard_normal((3, 4))))
    p.requires_grad_()
    w = cr.tensor([1.0, 2.0, 0.5, 1.0], dtype=cr.float64)
    assert gradgradcheck(lambda x: F.cross_entropy(x, cr.tensor([0, 3, -100]), weight=w,
                                                   label_smoothing=0.2), (x,))
    assert gradgradcheck(lambda x, p: F.cross_entropy(x, p, label_smoothing=0.1), (x, p))


@pytest.mark.parametrize("fn", [
    lambda a, b: F.mse_loss(a, b),
    lambda a, b: F.smooth_l1_loss(a, b, beta=0.5),
    lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=cr.full((3,), 2.0,
                                                                             dtype=cr.float64)),
    lambda a, b: F.binary_cross_entropy((a / 4).sigmoid(), b.sigmoid()),
    lambda a, b: F.kl_div(a, b, log_target=True, reduction="sum"),
], ids=["mse", "smooth_l1", "bce_logits", "bce", "kl_div"])
def test_loss_second_derivatives(fn):
    rng = np.random.default_rng(3)
    a = cr.from_numpy(rng.standard_normal((2, 3))).requires_grad_()
    b = cr.from_numpy(rng.standard_normal((2, 3))).requires_grad_()
    assert gradgradcheck(fn, (a, b))


def test_nll_gradient_is_exact_for_weighted_mean():
    x = cr.randn(4, 5, dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda x: F.nll_loss(x, _long(T_IGNORE), weight=cr.from_numpy(W5)), (x,))


# -- dtypes, broadcasting and errors -------------------------------------------------------------
def test_float32_stays_float32_and_int32_targets_work():
    x = cr.randn(4, 5)
    t = cr.tensor([0, 1, 2, 3], dtype=cr.int32)
    assert F.cross_entropy(x, t).dtype == cr.float32
    assert F.cross_entropy(x, t).item() == pytest.approx(F.cross_entropy(x, t.long()).item())
    assert F.mse_loss(x, cr.ones(4, 5, dtype=cr.int64)).dtype == cr.float32
    assert F.binary_cross_entropy_with_logits(x, cr.ones(4, 5)).dtype == cr.float32


def test_cross_entropy_rejects_other_integer_targets_and_integer_scores():
    with pytest.raises(TypeError, match="int64"):
        F.cross_entropy(cr.randn(2, 3), cr.tensor([0, 1], dtype=cr.uint8))
    with pytest.raises(TypeError, match="floating-point"):
        F.nll_loss(cr.ones(2, 3, dtype=cr.int64), cr.tensor([0, 1]))


@pytest.mark.parametrize("bad", [5, -1, 7])
def test_out_of_range_target_names_value_and_class_count(bad):
    with pytest.raises(IndexError, match=rf"target value {bad} .*5 classes"):
        F.cross_entropy(cr.randn(2, 5), cr.tensor([0, bad]))
    with pytest.raises(IndexError, match=rf"{bad}.*5 classes"):
        F.nll_loss(cr.randn(2, 5), cr.tensor([bad, 0]))


def test_target_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4, 5\)"):
        F.cross_entropy(cr.randn(4, 5), cr.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        F.binary_cross_entropy_with_logits(cr.randn(2, 4), cr.rand(2, 3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        F.mse_loss(cr.randn(4, 5), cr.randn(2, 3))


def test_broadcasting_regression_target_warns_as_pytorch():
    with pytest.warns(UserWarning, match="target size"):
        loss = F.mse_loss(cr.zeros(3, 1), cr.tensor([1.0, 2.0, 3.0]))
    assert loss.item() == pytest.approx(14 / 3)


def test_bce_rejects_inputs_outside_unit_interval():
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(cr.tensor([1.5]), cr.tensor([1.0]))


def test_invalid_reduction_and_label_smoothing():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(cr.ones(2), cr.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(cr.ones(2, 3), cr.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="weight"):
        F.cross_entropy(cr.ones(2, 3), cr.tensor([0, 1]), weight=cr.ones(4))


def test_legacy_size_average_and_reduce():
    x, y = cr.tensor([1.0, 2.0]), cr.tensor([0.0, 0.0])
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, size_average=False).item() == 5.0
    with pytest.warns(UserWarning):
        assert F.mse_loss(x, y, reduce=False).tolist() == [1.0, 4.0]


def test_regression_weight_scales_each_element():
    # PyTorch: the weighted mean divides by the summed weights for mse/l1, by the count for huber
    x, y, w = cr.tensor([1.0, 2.0]), cr.tensor([0.0, 0.0]), cr.tensor([3.0, 0.5])
    assert F.mse_loss(x, y, weight=w).item() == pytest.approx((3 + 2) / 3.5)
    assert F.l1_loss(x, y, weight=w).item() == pytest.approx((3 + 1) / 3.5)
    assert F.l1_loss(x, y, weight=w, reduction="sum").item() == pytest.approx(4.0)
    assert F.huber_loss(x, y, weight=w, reduction="none").tolist() == [1.5, 0.75]
    assert F.huber_loss(x, y, weight=w).item() == pytest.approx((1.5 + 0.75) / 2)
    with pytest.raises(ValueError, match=r"\(2, 1\).*\(2,\)"):
        F.mse_loss(x, y, weight=cr.ones(2, 1))


# -- modules -------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_loss_modules_match_functional(reduction):
    rng = np.random.default_rng(5)
    x = cr.from_numpy(rng.standard_normal((4, 3)).astype(np.float32))
    y = cr.from_numpy(rng.uniform(0, 1, (4, 3)).astype(np.float32))
    t = cr.tensor([0, 2, 1, 2])
    w = cr.tensor([1.0, 2.0, 0.5])
    pairs = [
        (nn.MSELoss(reduction=reduction)(x, y), F.mse_loss(x, y, reduction=reduction)),
        (nn.L1Loss(reduction=reduction)(x, y), F.l1_loss(x, y, reduction=reduction)),
        (nn.SmoothL1Loss(reduction=reduction, beta=0.5)(x, y),
         F.smooth_l1_loss(x, y, reduction=reduction, beta=0.5)),
        (nn.HuberLoss(reduction=reduction, delta=0.3)(x, y),
         F.huber_loss(x, y, reduction=reduction, delta=0.3)),
        (nn.CrossEntropyLoss(weight=w, reduction=reduction, label_smoothing=0.1)(x, t),
         F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=0.1)),
        (nn.NLLLoss(weight=w, ignore_index=2, reduction=reduction)(x, t),
         F.nll_loss(x, t, weight=w, ignore_index=2, reduction=reduction)),
        (nn.BCELoss(weight=w, reduction=reduction)(y, y), F.binary_cross_entropy(
            y, y, weight=w, reduction=reduction)),
        (nn.BCEWithLogitsLoss(pos_weight=w, reduction=reduction)(x, y),
         F.binary_cross_entropy_with_logits(x, y, pos_weight=w, reduction=reduction)),
        (nn.KLDivLoss(reduction=reduction if reduction != "mean" else "batchmean",
                      log_target=True)(x, y),
         F.kl_div(x, y, reduction=reduction if reduction != "mean" else "batchmean",
                  log_target=True)),
    ]
    for got, want in pairs:
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_loss_module_defaults_and_buffers():
    ce = nn.CrossEntropyLoss(weight=cr.ones(3))
    assert (ce.reduction, ce.ignore_index, ce.label_smoothing) == ("mean", -100, 0.0)
    assert [name for name, _ in ce.named_buffers()] == ["weight"]
    assert nn.MSELoss(size_average=False).reduction == "sum"
    assert nn.L1Loss(reduce=False).reduction == "none"
    assert nn.HuberLoss().delta == 1.0 and nn.SmoothL1Loss().beta == 1.0
    assert nn.KLDivLoss().log_target is False
    assert nn.BCEWithLogitsLoss().pos_weight is None
