"""Behaviour of the newer layers that a value comparison does not show: SyncBatchNorm's
conversion, the deprecated Container, AdaptiveLogSoftmaxWithLoss's predictions, EmbeddingBag's
empty bags, optimizer-free details."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn


def test_convert_sync_batchnorm_shares_parameters_and_buffers():
    net = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2), nn.Sequential(nn.BatchNorm1d(3)))
    inner = net[1]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(converted[1], nn.SyncBatchNorm)
    assert isinstance(converted[2][0], nn.SyncBatchNorm)
    assert converted[1].weight is inner.weight
    assert converted[1].running_mean is inner.running_mean
    assert isinstance(converted[0], nn.Conv2d)


def test_sync_batchnorm_accepts_any_rank_from_two():
    bn = nn.SyncBatchNorm(3)
    assert tuple(bn(cr.randn(4, 3)).shape) == (4, 3)
    assert tuple(bn(cr.randn(2, 3, 2, 2, 2)).shape) == (2, 3, 2, 2, 2)
    with pytest.raises(ValueError, match="at least 2D"):
        bn(cr.randn(3))


def test_container_is_deprecated_but_works():
    with pytest.warns(UserWarning, match="deprecated"):
        container = nn.Container(first=nn.Linear(2, 2))
    assert [name for name, _ in container.named_children()] == ["first"]


def test_adaptive_softmax_predicts_the_most_likely_class():
    cr.manual_seed(0)
    asm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs=[5, 12], div_value=2.0)
    x = cr.randn(6, 8)
    log_prob = asm.log_prob(x)
    np.testing.assert_allclose(log_prob.exp().sum(1).detach().numpy(), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(asm.predict(x).numpy(), log_prob.argmax(1).numpy())
    target = cr.tensor([0, 6, 13, 19, 4, 11])
    output, loss = asm(x, target)
    np.testing.assert_allclose(output.detach().numpy(),
                               log_prob.detach().numpy()[np.arange(6), target.numpy()],
                               rtol=1e-5)
    np.testing.assert_allclose(loss.item(), -output.detach().numpy().mean(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Target values should be in"):
        asm(x, cr.tensor([0, 1, 2, 3, 4, 20]))
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs=[12, 5])


def test_embedding_bag_empty_bags_and_errors():
    bag = nn.EmbeddingBag(5, 2, mode="max")
    out = bag(cr.tensor([1, 2, 3]), cr.tensor([0, 0, 3]))
    assert not out.detach().numpy()[:1].any() and not out.detach().numpy()[2].any()
    with pytest.raises(ValueError, match="offsets has to be None"):
        bag(cr.tensor([[1, 2]]), cr.tensor([0]))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        bag(cr.tensor([1, 2]), cr.tensor([0]), per_sample_weights=cr.ones(2))
    with pytest.raises(IndexError, match="out of range"):
        bag(cr.tensor([1, 7]), cr.tensor([0]))


def test_gumbel_softmax_samples_the_categorical_distribution():
    cr.manual_seed(0)
    logits = cr.tensor([[1.0, 0.0, -1.0]]).repeat(4000, 1)
    hard = nn.functional.gumbel_softmax(logits, tau=0.5, hard=True)
    counts = hard.numpy().sum(0) / 4000
    expected = np.exp([1.0, 0.0, -1.0]) / np.exp([1.0, 0.0, -1.0]).sum()
    np.testing.assert_allclose(counts, expected, atol=0.03)  # Gumbel-max is exact sampling
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
    soft = nn.functional.gumbel_softmax(logits[:5].requires_grad_(), tau=2.0)
    np.testing.assert_allclose(soft.detach().numpy().sum(1), 1.0, rtol=1e-6)


def test_straight_through_gradient_is_the_soft_samples():
    cr.manual_seed(1)
    x = cr.randn(3, 4, requires_grad=True)
    weights = cr.randn(3, 4)
    cr.manual_seed(2)
    (nn.functional.gumbel_softmax(x, hard=True) * weights).sum().backward()
    hard_grad = x.grad.numpy().copy()
    x.grad = None
    cr.manual_seed(2)
    (nn.functional.gumbel_softmax(x, hard=False) * weights).sum().backward()
    np.testing.assert_allclose(hard_grad, x.grad.numpy(), rtol=1e-6)


def test_affine_grid_and_grid_sample_warn_about_the_default_alignment():
    theta = cr.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        grid = nn.functional.affine_grid(theta, (1, 1, 3, 4))
    x = cr.randn(1, 1, 3, 4)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        same = nn.functional.grid_sample(x, grid)
    np.testing.assert_allclose(same.numpy(), x.numpy(), rtol=1e-5, atol=1e-6)  # identity map
    with pytest.raises(RuntimeError, match="4D or 5D input"):
        nn.functional.grid_sample(cr.randn(1, 2, 2), cr.zeros(1, 1, 2), align_corners=False)
