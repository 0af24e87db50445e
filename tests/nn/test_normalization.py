"""Normalisation: fused ops against NumPy formulas and finite differences (first and second
order), running statistics against hand-computed values, and the layers."""

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import normalization as N
from tests.opcheck import OpCase, check_case


# -- NumPy references ----------------------------------------------------------------------------
def np_standardize(x, axes, eps=1e-5):
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


def np_layer_norm(x, w=None, b=None, k=1):
    y = np_standardize(x, tuple(range(x.ndim - k, x.ndim)))
    return y * (1 if w is None else w) + (0 if b is None else b)


def np_group_norm(x, groups, w=None, b=None):
    n, c = x.shape[:2]
    y = np_standardize(x.reshape(n, groups, -1), (2,)).reshape(x.shape)
    shape = (c,) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(shape)) + (0 if b is None else b.reshape(shape))


def np_batch_norm(x, w, b):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (-1,) + (1,) * (x.ndim - 2)
    return np_standardize(x, axes) * w.reshape(shape) + b.reshape(shape)


def np_rms_norm(x, w, eps):
    return x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + eps) * w


def np_normalize(x, p, dim, eps=1e-12):
    norm = (np.abs(x) ** p).sum(axis=dim, keepdims=True) ** (1 / p)
    return x / np.maximum(norm, eps)


RUNNING_MEAN = np.array([0.5, -1.0, 2.0])
RUNNING_VAR = np.array([1.5, 0.25, 4.0])


def bn_eval(x, w, b):
    return F.batch_norm(x, cr.from_numpy(RUNNING_MEAN.copy()), cr.from_numpy(RUNNING_VAR.copy()),
                        w, b, training=False)


def np_bn_eval(x, w, b):
    shape = (-1,) + (1,) * (x.ndim - 2)
    x_hat = (x - RUNNING_MEAN.reshape(shape)) / np.sqrt(RUNNING_VAR.reshape(shape) + 1e-5)
    return x_hat * w.reshape(shape) + b.reshape(shape)


LN, GN, RMS, BN = (N.LayerNorm,), (N.GroupNorm,), (N.RmsNorm,), (N.BatchNorm,)
CASES = [
    OpCase("layer_norm_affine", lambda x, w, b: F.layer_norm(x, (5,), w, b),
           lambda x, w, b: np_layer_norm(x, w, b), [(3, 4, 5), (5,), (5,)], LN),
    OpCase("layer_norm_two_dims", lambda x, w, b: F.layer_norm(x, (3, 4), w, b, eps=1e-5),
           lambda x, w, b: np_layer_norm(x, w, b, k=2), [(2, 3, 4), (3, 4), (3, 4)], LN),
    OpCase("layer_norm_plain", lambda x: F.layer_norm(x, [6]), np_layer_norm, [(4, 6)], LN),
    OpCase("layer_norm_weight_only", lambda x, w: F.layer_norm(x, 4, w),
           lambda x, w: np_layer_norm(x, w), [(3, 4), (4,)], LN),
    OpCase("group_norm_affine", lambda x, w, b: F.group_norm(x, 3, w, b),
           lambda x, w, b: np_group_norm(x, 3, w, b), [(2, 6, 3), (6,), (6,)], GN),
    OpCase("group_norm_4d_plain", lambda x: F.group_norm(x, 2), lambda x: np_group_norm(x, 2),
           [(2, 4, 2, 3)], GN),
    OpCase("rms_norm_weight", lambda x, w: F.rms_norm(x, (4,), w, eps=1e-6),
           lambda x, w: np_rms_norm(x, w, 1e-6), [(3, 4), (4,)], RMS),
    OpCase("rms_norm_default_eps", lambda x: F.rms_norm(x, [5]),
           lambda x: np_rms_norm(x, 1.0, np.finfo(np.float64).eps), [(2, 3, 5)], RMS),
    OpCase("batch_norm_train_2d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
           np_batch_norm, [(5, 3), (3,), (3,)], BN),
    OpCase("batch_norm_train_4d", lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
           np_batch_norm, [(3, 2, 2, 3), (2,), (2,)], BN),
    OpCase("batch_norm_eval_3d", bn_eval, np_bn_eval, [(2, 3, 4), (3,), (3,)], BN),
    OpCase("normalize_p2", F.normalize, lambda x: np_normalize(x, 2, 1), [(3, 4)],
           (N.Normalize,)),
    OpCase("normalize_p3_last_dim", lambda x: F.normalize(x, p=3, dim=-1),
           lambda x: np_normalize(x, 3, -1), [(2, 3, 4)], (N.Normalize,)),
    OpCase("normalize_p1", lambda x: F.normalize(x, 1, 0), lambda x: np_normalize(x, 1, 0),
           [(4, 3)], (N.Normalize,), domain="nonzero"),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_normalization_op(case):
    check_case(case)


def _rand(*shape, seed=0):
    return cr.from_numpy(np.random.default_rng(seed).standard_normal(shape)).requires_grad_()


@pytest.mark.parametrize("fn, shapes", [
    (lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    (lambda x, w: F.rms_norm(x, (4,), w), [(3, 4), (4,)]),
    (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(4, 3), (3,), (3,)]),
    (bn_eval, [(2, 3, 2), (3,), (3,)]),
    (lambda x: F.normalize(x, p=2.5), [(3, 4)]),
], ids=["layer_norm", "group_norm", "rms_norm", "batch_norm_train", "batch_norm_eval",
        "normalize"])
def test_second_derivatives(fn, shapes):
    inputs = tuple(_rand(*shape, seed=i) for i, shape in enumerate(shapes))
    assert gradgradcheck(fn, inputs)


def test_normalize_below_eps_divides_by_eps():
    x = cr.tensor([[3e-13, 4e-13], [3.0, 4.0]], dtype=cr.float64, requires_grad=True)
    y = F.normalize(x, eps=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), [[0.3, 0.4], [0.6, 0.8]])
    y.sum().backward()
    # row 0: y = x / eps, so dy/dx = 1/eps; row 1: the usual unit-vector Jacobian
    np.testing.assert_allclose(x.grad.numpy()[0], [1e12, 1e12])
    np.testing.assert_allclose(x.grad.numpy()[1], [(1 - 0.6 * 1.4) / 5, (1 - 0.8 * 1.4) / 5])


def test_float32_stays_float32():
    x = cr.randn(4, 3)
    w = cr.ones(3)
    for y in (F.layer_norm(x, (3,), w, w), F.group_norm(x.reshape(4, 3, 1), 3),
              F.rms_norm(x, (3,)), F.batch_norm(x, None, None, w, w, True), F.normalize(x)):
        assert y.dtype == cr.float32


def test_layer_norm_is_stable_for_large_offsets():
    x = cr.tensor([[1e4, 1e4 + 1.0, 1e4 + 2.0]], requires_grad=True)
    y = F.layer_norm(x, (3,))
    np.testing.assert_allclose(y.detach().numpy(), [[-1.2247, 0.0, 1.2247]], atol=1e-3)
    y.pow(2).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))


def test_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"\(2, 5\).*\(4,\)"):
        F.layer_norm(cr.randn(2, 5), (4,))
    with pytest.raises(RuntimeError, match="divisible"):
        F.group_norm(cr.randn(2, 5, 3), 2)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(cr.randn(1, 3), cr.zeros(3), cr.ones(3), training=True)
    with pytest.raises(RuntimeError, match="running_mean"):
        F.batch_norm(cr.randn(4, 3), None, None, training=False)
    with pytest.raises(RuntimeError, match=r"weight.*\(3,\).*\(2,\)"):
        F.batch_norm(cr.randn(4, 3), None, None, weight=cr.ones(2), training=True)


# -- running statistics --------------------------------------------------------------------------
def _batches():
    rng = np.random.default_rng(7)
    return [rng.standard_normal((4, 3, 5)).astype(np.float32) * s + s for s in (1.0, 2.0)]


def _hand_running_stats(batches, factors):
    mean, var = np.zeros(3), np.ones(3)
    for x, m in zip(batches, factors):
        values = x.transpose(1, 0, 2).reshape(3, -1).astype(np.float64)
        mean = (1 - m) * mean + m * values.mean(axis=1)
        var = (1 - m) * var + m * values.var(axis=1, ddof=1)  # unbiased, as PyTorch
    return mean, var


def test_batch_norm_running_stats_after_two_steps_and_eval_uses_them():
    bn = nn.BatchNorm1d(3, momentum=0.3)
    with cr.no_grad():
        bn.weight.copy_(cr.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(cr.tensor([0.0, -1.0, 3.0]))
    batches = _batches()
    for x in batches:
        out = bn(cr.from_numpy(x))
        np.testing.assert_allclose(out.detach().numpy(), np_batch_norm(
            x.astype(np.float64), np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])),
            atol=1e-5)
    mean, var = _hand_running_stats(batches, [0.3, 0.3])
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == cr.int64

    bn.eval()
    x = np.random.default_rng(8).standard_normal((2, 3, 5)).astype(np.float32)
    expected = (x - mean.reshape(3, 1)) / np.sqrt(var.reshape(3, 1) + 1e-5)
    expected = expected * np.array([1.0, 2.0, 0.5]).reshape(3, 1) + np.array(
        [0.0, -1.0, 3.0]).reshape(3, 1)
    np.testing.assert_allclose(bn(cr.from_numpy(x)).detach().numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)  # unchanged in eval
    assert bn.num_batches_tracked.item() == 2


def test_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(3, momentum=None)
    batches = _batches()
    for x in batches:
        bn(cr.from_numpy(x))
    mean, var = _hand_running_stats(batches, [1.0, 0.5])
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)


def test_batch_norm_2d_input_and_bn2d_stats():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    bn = nn.BatchNorm1d(2)
    bn(cr.from_numpy(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * x.var(axis=0, ddof=1),
                               rtol=1e-6)
    bn2 = nn.BatchNorm2d(2)
    images = np.random.default_rng(1).standard_normal((3, 2, 4, 4)).astype(np.float32)
    bn2(cr.from_numpy(images))
    np.testing.assert_allclose(bn2.running_mean.numpy(), 0.1 * images.mean(axis=(0, 2, 3)),
                               rtol=1e-5, atol=1e-7)


def test_batch_norm_without_running_stats_always_uses_the_batch():
    bn = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert bn.running_mean is None and bn.weight is None
    x = np.random.default_rng(2).standard_normal((3, 2, 2, 2))
    out = bn(cr.from_numpy(x))
    np.testing.assert_allclose(out.numpy(), np_standardize(x, (0, 2, 3)), atol=1e-6)


def test_batch_norm_layer_checks_rank_and_state_dict():
    with pytest.raises(ValueError, match="2D or 3D.*4D"):
        nn.BatchNorm1d(3)(cr.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="4D"):
        nn.BatchNorm2d(3)(cr.randn(2, 3, 4))
    bn = nn.BatchNorm2d(4)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert (bn.eps, bn.momentum, bn.affine, bn.track_running_stats) == (1e-5, 0.1, True, True)
    assert repr(bn) == ("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                        "track_running_stats=True)")


def test_batch_norm_gradient_flows_to_input_and_affine():
    bn = nn.BatchNorm1d(3).double()
    with cr.no_grad():
        bn.weight.copy_(cr.tensor([1.0, 2.0, 0.5]))
    x = _rand(5, 3, seed=4)
    assert gradcheck(lambda x, w, b: bn(x), (x, bn.weight, bn.bias))


# -- feature normalisation layers ----------------------------------------------------------------
def test_layer_norm_module_with_affine_gradcheck():
    ln = nn.LayerNorm((2, 3)).double()
    assert ln.weight.shape == (2, 3) and ln.weight.numpy(force=True).tolist() == [[1.0] * 3] * 2
    with cr.no_grad():
        ln.weight.copy_(cr.from_numpy(np.random.default_rng(1).standard_normal((2, 3))))
        ln.bias.copy_(cr.from_numpy(np.random.default_rng(2).standard_normal((2, 3))))
    x = _rand(4, 2, 3)
    np.testing.assert_allclose(ln(x).detach().numpy(), np_layer_norm(
        x.detach().numpy(), ln.weight.detach().numpy(), ln.bias.detach().numpy(), k=2))
    assert gradcheck(lambda x, w, b: ln(x), (x, ln.weight, ln.bias))


def test_layer_norm_module_options():
    assert nn.LayerNorm(4, bias=False).bias is None
    plain = nn.LayerNorm(4, elementwise_affine=False)
    assert plain.weight is None and list(plain.parameters()) == []
    assert nn.LayerNorm(4).normalized_shape == (4,)
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"


def test_group_norm_and_rms_norm_modules():
    gn = nn.GroupNorm(2, 4)
    x = cr.randn(3, 4, 5)
    np.testing.assert_allclose(gn(x).detach().numpy(),
                               np_group_norm(x.numpy().astype(np.float64), 2), atol=1e-5)
    with pytest.raises(ValueError, match="divisible"):
        nn.GroupNorm(3, 4)
    rms = nn.RMSNorm(5)
    assert rms.eps is None and rms.weight.shape == (5,)
    np.testing.assert_allclose(rms(x).detach().numpy(), np_rms_norm(
        x.numpy().astype(np.float64), 1.0, np.finfo(np.float32).eps), rtol=1e-5)
    assert nn.RMSNorm([5], elementwise_affine=False).weight is None


def test_batch_norm_state_from_before_num_batches_tracked_loads():
    # PyTorch < 0.4.1 saved no num_batches_tracked; PyTorch loads such a state dict (and a
    # plain dict without its version metadata) keeping the module's own count
    import collections

    bn = cr.nn.BatchNorm1d(3)
    bn.num_batches_tracked.fill_(5)
    old = {"weight": cr.full((3,), 2.0), "bias": cr.zeros(3), "running_mean": cr.ones(3),
           "running_var": cr.ones(3)}
    assert bn.load_state_dict(old).missing_keys == []
    assert bn.num_batches_tracked.item() == 5 and bn.weight.tolist() == [2.0, 2.0, 2.0]
    versioned = collections.OrderedDict(old)
    versioned._metadata = {"": {"version": 2}}  # a file of a version that has the count
    with pytest.raises(RuntimeError, match="num_batches_tracked"):
        bn.load_state_dict(versioned)
    versioned._metadata = {"": {"version": 1}}
    assert bn.load_state_dict(versioned).missing_keys == []
    # instance norms share the rule (PyTorch's _NormBase)
    inorm = cr.nn.InstanceNorm1d(3, track_running_stats=True)
    assert inorm.load_state_dict({"running_mean": cr.zeros(3), "running_var": cr.ones(3)}) \
        .missing_keys == []


@pytest.mark.parametrize("value", [0.1, -0.04845801, 1 / 3, 0.7, 0.3])
def test_batch_norm_of_a_constant_channel_has_variance_zero_whatever_its_value(value):
    # a float32 mean of 1024 copies of 0.1 is off by a rounding residue (variance 2e-16, not
    # 0); PyTorch accumulates in double and gets 0 for every value: with eps=0 that is nan
    # (0/0) at every value, never the residue amplified to unit size, and at the default eps
    # the channel normalises to exactly 0
    x = np.random.default_rng(3).standard_normal((16, 3, 8, 8)).astype(np.float32)
    x[:, 1] = np.float32(value)
    out = nn.BatchNorm2d(3)(cr.from_numpy(x)).detach().numpy()
    assert (out[:, 1] == 0).all()
    np.testing.assert_allclose(out[:, 0], np_standardize(x.astype(np.float64), (0, 2, 3))[:, 0],
                               atol=1e-4)
    bn = nn.BatchNorm2d(3, eps=0.0)
    with np.errstate(all="ignore"):
        out = bn(cr.from_numpy(x)).detach().numpy()
    assert np.isnan(out[:, 1]).all() and np.isfinite(out[:, [0, 2]]).all()
    assert bn.running_var.numpy()[1] == pytest.approx(0.9)  # 0.9 * 1 + 0.1 * 0
