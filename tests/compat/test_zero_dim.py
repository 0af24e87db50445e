"""A 0-d tensor holds a 0-d ndarray, never a NumPy scalar, whichever op made it; the idioms that
used to crash on a NumPy scalar (accumulating a loss from 0, in-place scaling, saving) work."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn

a = torch.tensor(2.0)
v = torch.tensor([1.0, 2.0, 4.0])
MAKERS = {
    "a + 1": lambda: a + 1, "1 - a": lambda: 1 - a, "a * a": lambda: a * a, "a / 3": lambda: a / 3,
    "a ** 2": lambda: a**2, "-a": lambda: -a, "exp": lambda: a.exp(), "log": lambda: a.log(),
    "sqrt": lambda: a.sqrt(), "tanh": lambda: a.tanh(), "sigmoid": lambda: a.sigmoid(),
    "relu": lambda: a.relu(), "abs": lambda: a.abs(), "clamp": lambda: a.clamp(0, 1),
    "mean": lambda: v.mean(), "sum": lambda: v.sum(), "std": lambda: v.std(),
    "var": lambda: v.var(), "max": lambda: v.max(), "min": lambda: v.min(),
    "prod": lambda: v.prod(),
    "norm": lambda: v.norm(), "argmax": lambda: v.argmax(), "dot": lambda: v.dot(v),
    "index": lambda: v[1], "a > 1": lambda: a > 1, "mse": lambda: nn.functional.mse_loss(v, v * 2),
    "cross_entropy": lambda: nn.functional.cross_entropy(v[None], torch.tensor([1])),
    "float()": lambda: a.double(), "where": lambda: torch.where(a > 1, a, a * 2),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_zero_dim_results_hold_arrays(name):
    result = MAKERS[name]()
    assert result.ndim == 0
    assert type(result.detach().numpy()) is np.ndarray, name


def test_accumulating_a_loss_from_a_python_zero():
    criterion = nn.MSELoss()
    loss = 0
    for target in (1.0, 2.0, 3.0):
        loss += criterion(v, torch.full((3,), target))
    expected = sum(np.mean((np.array([1.0, 2.0, 4.0]) - t) ** 2) for t in (1.0, 2.0, 3.0))
    assert loss.item() == pytest.approx(expected)


def test_in_place_scaling_of_an_op_result():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    style_loss = (w * w).sum()
    style_loss *= 10.0
    style_loss += 1
    style_loss.backward()
    assert style_loss.item() == pytest.approx(51.0)
    np.testing.assert_allclose(w.grad.numpy(), [20.0, 40.0])


def test_a_dict_holding_a_zero_dim_result_saves_and_loads(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    torch.save({"loss": v.mean(), "best": (v * 2).max(), "step": 3}, path)
    back = torch.load(path)
    assert back["loss"].item() == pytest.approx(7 / 3) and back["best"].item() == 8.0
    assert back["loss"].shape == () and back["step"] == 3
