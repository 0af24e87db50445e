"""torch.amp on the CPU: autocast regions are recorded but compute in full precision (our
documented choice); GradScaler follows PyTorch's rules, hand-derived below."""

import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn


def test_cpu_autocast_is_recorded_and_computes_in_the_inputs_dtype():
    model = nn.Linear(3, 2)
    x = torch.randn(4, 3)
    assert not torch.is_autocast_enabled("cpu")
    with torch.autocast(device_type="cpu"):
        assert torch.is_autocast_enabled("cpu")
        assert "bfloat16" in str(torch.get_autocast_dtype("cpu"))  # PyTorch's CPU default
        y = model(x)
    assert not torch.is_autocast_enabled("cpu")
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y.detach().numpy(), model(x).detach().numpy())
    with torch.amp.autocast("cpu", enabled=False):
        assert not torch.is_autocast_enabled("cpu")


def test_autocast_for_an_absent_device_warns_and_disables_itself():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        region = torch.autocast(device_type="cuda", dtype=torch.float16)
    with region:
        assert not torch.is_autocast_enabled("cuda")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        region = torch.cuda.amp.autocast()
    with pytest.warns(UserWarning, match="target dtype is not supported"):
        torch.autocast("cpu", dtype=torch.float64)
    with pytest.raises(RuntimeError, match="device type"):
        torch.autocast("gpu")


def test_autocast_as_decorator():
    @torch.autocast("cpu")
    def inside():
        return torch.is_autocast_enabled("cpu")

    assert inside() and not torch.is_autocast_enabled("cpu")


def test_disabled_scaler_passes_everything_through():
    w = nn.Parameter(torch.tensor([1.0, 2.0]))
    optimizer = torch.optim.SGD([w], lr=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scaler = torch.amp.GradScaler(enabled=False)
    loss = (w * w).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])  # w - 0.5 * 2w
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    assert not scaler.is_enabled()


def test_cuda_scaler_warns_and_disables_itself():
    with pytest.warns(UserWarning, match="Disabling"):
        assert not torch.amp.GradScaler("cuda").is_enabled()
    with pytest.warns(UserWarning, match="Disabling"):
        assert not torch.cuda.amp.GradScaler().is_enabled()


def test_cpu_scaler_scales_unscales_skips_overflow_and_adapts():
    w = nn.Parameter(torch.tensor([1.0, 2.0], dtype=torch.float64))
    optimizer = torch.optim.SGD([w], lr=0.25)
    scaler = torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=2)
    # step 1: loss = sum(w^2); grad = 2w = [2, 4], scaled by 8 -> [16, 32]; unscaled for the step
    scaled = scaler.scale((w * w).sum())
    assert scaled.item() == pytest.approx(8.0 * 5.0)
    scaled.backward()
    np.testing.assert_allclose(w.grad.numpy(), [16.0, 32.0])
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.0])
    assert scaler.get_scale() == 8.0
    # step 2: clean again -> growth_interval (2) clean steps: the scale doubles
    optimizer.zero_grad()
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(optimizer)
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(optimizer)
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.25, 0.5])
    assert scaler.get_scale() == 16.0
    # step 3: an infinite gradient: the step is skipped and the scale backs off by half
    optimizer.zero_grad()
    scaler.scale((w * float("inf")).sum()).backward()
    scaler.step(optimizer)
    scaler.update()
    np.testing.assert_allclose(w.detach().numpy(), [0.25, 0.5])
    assert scaler.get_scale() == 8.0
    state = scaler.state_dict()
    assert state == {"scale": 8.0, "growth_factor": 2.0, "backoff_factor": 0.5,
                     "growth_interval": 2, "_growth_tracker": 0}
    fresh = torch.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.get_scale() == 8.0 and fresh.get_growth_interval() == 2
