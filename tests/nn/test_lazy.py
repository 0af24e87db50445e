"""Lazy layers: sizes from the first call, the eager layer's initialisation and class after it,
optimizers and state dicts that meet them before it, and clear errors for early use."""

import copy
import math
import pickle
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn


def test_lazy_linear_learns_in_features_and_becomes_linear():
    chainrule.manual_seed(0)
    layer = nn.LazyLinear(5)
    assert repr(layer) == "LazyLinear(in_features=0, out_features=5, bias=True)"
    out = layer(chainrule.randn(3, 2, 7))
    assert out.shape == (3, 2, 5)
    assert type(layer) is nn.Linear and type(layer.weight) is nn.Parameter
    assert layer.in_features == 7 and layer.weight.shape == (5, 7) and layer.bias.shape == (5,)
    bound = 1 / math.sqrt(7)  # PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for both
    assert np.abs(layer.weight.detach().numpy()).max() <= bound
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert np.abs(layer.weight.detach().numpy()).max() > bound / 2  # drawn, not left empty
    assert not layer._forward_pre_hooks  # the initialising hook removed itself


def test_lazy_model_computes_what_the_eager_model_computes():
    chainrule.manual_seed(1)
    lazy = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(1))
    x = chainrule.randn(6, 3, dtype=chainrule.float64)
    lazy.double()
    lazy(x)  # the dry run
    eager = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    eager.load_state_dict(lazy.state_dict())
    lazy(x).sum().backward()
    eager(x).sum().backward()
    for (name, a), b in zip(lazy.named_parameters(), eager.parameters()):
        assert a.dtype == chainrule.float64, name
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())


def test_an_optimizer_built_before_the_first_call_updates_the_materialised_parameters():
    chainrule.manual_seed(2)
    layer = nn.LazyLinear(2)
    optimizer = chainrule.optim.SGD(layer.parameters(), lr=0.5)
    x = chainrule.ones(1, 3)
    layer(x).sum().backward()
    before = layer.weight.detach().clone()
    optimizer.step()
    # d(sum(W x + b))/dW = 1 x^T, all ones here: each weight moves by -lr
    np.testing.assert_allclose(layer.weight.detach().numpy(), before.numpy() - 0.5, rtol=1e-6)


@pytest.mark.parametrize("cls, eager, shape, weight_shape", [
    (nn.LazyConv1d, nn.Conv1d, (2, 3, 9), (4, 3, 3)),
    (nn.LazyConv2d, nn.Conv2d, (2, 3, 6, 6), (4, 3, 3, 3)),
    (nn.LazyConv3d, nn.Conv3d, (1, 3, 4, 4, 4), (4, 3, 3, 3, 3)),
    (nn.LazyConvTranspose1d, nn.ConvTranspose1d, (2, 3, 5), (3, 4, 3)),
    (nn.LazyConvTranspose2d, nn.ConvTranspose2d, (2, 3, 4, 4), (3, 4, 3, 3)),
    (nn.LazyConvTranspose3d, nn.ConvTranspose3d, (1, 3, 3, 3, 3), (3, 4, 3, 3, 3)),
])
def test_lazy_convolutions_take_in_channels_from_the_input(cls, eager, shape, weight_shape):
    layer = cls(4, 3)
    batched = layer(chainrule.randn(*shape))
    assert type(layer) is eager and layer.in_channels == 3
    assert layer.weight.shape == weight_shape and layer.bias.shape == (4,)
    reference = eager(3, 4, 3)
    reference.load_state_dict(layer.state_dict())
    x = chainrule.randn(*shape)
    np.testing.assert_array_equal(layer(x).detach().numpy(), reference(x).detach().numpy())
    assert batched.shape[:2] == (shape[0], 4)


def test_lazy_convolution_from_an_unbatched_sample_and_its_group_check():
    layer = nn.LazyConv2d(6, 3, groups=3, bias=False)
    layer(chainrule.randn(3, 8, 8))  # (C, H, W): the channels are dim 0
    assert layer.in_channels == 3 and layer.weight.shape == (6, 1, 3, 3) and layer.bias is None
    with pytest.raises(ValueError, match=r"in_channels \(4\) must be divisible by groups \(3\)"):
        nn.LazyConv2d(6, 3, groups=3)(chainrule.randn(1, 4, 8, 8))
    with pytest.raises(RuntimeError, match="expected a 3-D .* or 4-D"):
        nn.LazyConv2d(6, 3)(chainrule.randn(8, 8))


def test_lazy_batch_norm_statistics_and_parameters():
    norm = nn.LazyBatchNorm2d()
    x = chainrule.randn(4, 5, 3, 3) * 2 + 1
    out = norm(x)
    assert type(norm) is nn.BatchNorm2d and norm.num_features == 5
    np.testing.assert_array_equal(norm.weight.detach().numpy(), np.ones(5, np.float32))
    np.testing.assert_array_equal(norm.bias.detach().numpy(), np.zeros(5, np.float32))
    # one training step from running_mean 0, momentum 0.1: 0.1 x the batch mean per channel
    np.testing.assert_allclose(norm.running_mean.numpy(),
                               0.1 * x.numpy().mean(axis=(0, 2, 3)), rtol=1e-5, atol=1e-6)
    assert int(norm.num_batches_tracked) == 1
    np.testing.assert_allclose(out.detach().numpy().mean(axis=(0, 2, 3)), 0, atol=1e-5)


def test_lazy_instance_norm_without_parameters_learns_num_features_quietly():
    norm = nn.LazyInstanceNorm1d()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the eager layer warns when num_features is wrong
        norm(chainrule.randn(2, 3, 7))
        norm(chainrule.randn(2, 3, 7))
    assert type(norm) is nn.InstanceNorm1d and norm.num_features == 3
    affine = nn.LazyInstanceNorm2d(affine=True)
    affine(chainrule.randn(3, 5, 5))  # unbatched (C, H, W)
    assert affine.weight.shape == (3,)


def test_a_state_dict_loaded_before_the_first_call_gives_its_shapes_and_values():
    chainrule.manual_seed(3)
    trained = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(12, 2))
    fresh = nn.Sequential(nn.LazyConv2d(3, 3), nn.Flatten(), nn.LazyLinear(2))
    fresh.load_state_dict(trained.state_dict())
    x = chainrule.randn(1, 2, 4, 4)
    # the checkpoint's values, not re-initialised at the first call
    np.testing.assert_array_equal(fresh(x).detach().numpy(), trained(x).detach().numpy())
    assert type(fresh[2]) is nn.Linear and fresh[2].in_features == 12
    with pytest.raises(RuntimeError, match="size mismatch for 2.weight"):
        nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(10, 2)).load_state_dict(
            fresh.state_dict())


def test_an_uninitialised_state_dict_is_kept_as_such_and_never_saved_half():
    lazy = nn.LazyLinear(3)
    state = lazy.state_dict()
    assert isinstance(state["weight"], nn.UninitializedParameter)
    other = nn.LazyLinear(3)
    other.load_state_dict(state)  # nothing to take: it stays lazy, its first call decides
    assert other(chainrule.ones(2, 4)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="weight in the state dict is uninitialized"):
        nn.Linear(4, 3).load_state_dict(state)
    with pytest.raises(ValueError, match="run one batch through the model before saving"):
        chainrule.save(state, "never-written.pt")


def test_using_a_parameter_before_the_first_call_says_what_to_do():
    weight = nn.LazyLinear(3).weight
    for use in (lambda: weight.shape, lambda: weight.numel(), lambda: weight + 1,
                lambda: weight.sum(), lambda: np.asarray(weight), lambda: weight[0]):
        with pytest.raises(ValueError, match=r"uninitialized parameter .*dry run"):
            use()
    with pytest.raises(ValueError, match="uninitialized parameter"):
        sum(p.numel() for p in nn.LazyLinear(2).parameters())
    assert weight.requires_grad and weight.grad is None and weight.dtype == chainrule.float32


def test_copies_before_the_first_call_stay_lazy_and_independent():
    layer = nn.LazyLinear(2).double()
    restored = pickle.loads(pickle.dumps(layer))
    duplicate = copy.deepcopy(layer)
    restored(chainrule.ones(1, 3, dtype=chainrule.float64))
    duplicate(chainrule.ones(1, 5, dtype=chainrule.float64))
    assert restored.weight.shape == (2, 3) and duplicate.weight.shape == (2, 5)
    assert restored.weight.dtype == chainrule.float64
    assert isinstance(layer.weight, nn.UninitializedParameter)
