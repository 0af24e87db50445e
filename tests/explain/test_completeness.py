"""Integrated gradients' completeness at 64 steps on the presets' MLP, CNN and LSTMs, briefly
trained (float32, as users have them): the convergence delta is the difference between the sum
of a sample's attributions and F(x) - F(baseline) (computed here independently), within 1% of
F(x) - F(baseline) for the smooth LSTMs; for the ReLU networks, whose gradient jumps along the
path, within 1% of the attributions' total size (the tolerance of ``explain.completeness``,
and of ``chainrule explain --check``), and it shrinks as the steps grow."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain
from chainrule.data import load_digits
from chainrule.nn import functional as F
from chainrule.train.models import SeriesLSTM
from chainrule.train.presets import CharLSTM, cnn, mlp


def digits(split, count):
    images, labels = load_digits(split)
    x = images[:count]  # pixels in [0, 1]
    return torch.from_numpy((x - 0.3) / 0.4), torch.from_numpy(labels[:count].astype(np.int64))


def trained(model, x, y, steps, loss=F.cross_entropy):
    """``model`` after ``steps`` full-batch Adam steps on (x, y)."""
    torch.manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    return model.eval()


def check_completeness(model, x, target, baseline=None, smooth=True):
    attributions, delta = explain.integrated_gradients(model, x, target, baseline=baseline,
                                                       steps=64, return_convergence_delta=True)
    assert attributions.shape == x.shape and delta.shape == (len(x),)
    with torch.no_grad():
        reference = x * 0 if baseline is None else baseline
        at_x, at_baseline = model(x), model(reference)
    rows = np.arange(len(x))
    if target is None:
        difference = (at_x - at_baseline).numpy()[:, 0]
    else:
        difference = (at_x - at_baseline).numpy()[rows, np.broadcast_to(target, len(x))]
    flat = attributions.numpy().astype(np.float64).reshape(len(x), -1)
    sums = flat.sum(axis=1)
    assert np.all(np.abs(difference) > 1e-3)  # far above float32 rounding
    np.testing.assert_allclose(delta.numpy(), sums - difference, atol=1e-4)
    if smooth:
        np.testing.assert_allclose(sums, difference, rtol=0.01)
    else:
        assert np.all(np.abs(sums - difference) <= 0.01 * np.abs(flat).sum(axis=1))
        check = explain.completeness(model, x, target, baseline=baseline)
        assert check.passed, str(check)
    return np.abs(sums - difference) / np.abs(difference)


def test_completeness_on_the_mlp_preset():
    torch.manual_seed(0)
    model = trained(mlp((1, 8, 8), 10, 32, 2, 0.2), *digits("train", 256), steps=25)
    x, y = digits("test", 8)
    errors = check_completeness(model, x, target=y, smooth=False)
    assert np.median(errors) < 0.01  # of F(x) - F(b): most samples cross few kinks


def test_completeness_on_the_cnn_preset_from_a_blurred_baseline():
    torch.manual_seed(0)
    model = trained(cnn((1, 8, 8), 10, 16, 0.25), *digits("train", 128), steps=12)
    x, y = digits("test", 3)
    check_completeness(model, x, target=y, smooth=False)
    check_completeness(model, x, target=y, smooth=False, baseline=torch.from_numpy(
        explain.blur(x.numpy()).astype(np.float32)))


def test_completeness_on_the_series_lstm():
    torch.manual_seed(0)
    time = torch.arange(0.0, 40.0).reshape(1, -1) * 0.4 + torch.rand(64, 1) * 6
    windows = torch.sin(time) + 0.1 * torch.randn(64, 40)
    model = SeriesLSTM(horizon=1, hidden_size=16, num_layers=1, dropout=0.0)
    model = trained(model, windows[:, :24], windows[:, 24:25], steps=30, loss=F.mse_loss)
    check_completeness(model, windows[:6, 8:32], target=None)


def test_completeness_on_a_character_lstm_at_its_embedding():
    torch.manual_seed(0)
    model = CharLSTM(vocab_size=12, hidden_size=16, num_layers=1, dropout=0.0, block_size=10)
    last = lambda tokens: model(tokens)[:, -1]  # noqa: E731
    tokens = torch.randint(0, 12, (4, 10))

    class LastPosition(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, tokens):
            return last(tokens)

    wrapped = LastPosition()
    attributions, delta = explain.integrated_gradients(wrapped, tokens, target=3, steps=64,
                                                       return_convergence_delta=True)
    with torch.no_grad():
        vectors = model.embedding(tokens)
        at_tokens = model.head(model.lstm(vectors)[0])[:, -1, 3]
        at_zero = model.head(model.lstm(vectors * 0)[0])[:, -1, 3]
    difference = (at_tokens - at_zero).numpy()
    np.testing.assert_allclose(attributions.numpy().sum(axis=1), difference, rtol=0.01)
    assert np.abs(delta.numpy()).max() < 0.01 * np.abs(difference).min()


def test_convergence_delta_shrinks_with_the_steps():
    torch.manual_seed(0)
    model = mlp((6,), 3, 16, 2, 0.0).double()
    model[2] = torch.nn.Tanh()  # smooth: the midpoint rule's error falls as 1/steps^2
    model[5] = torch.nn.Tanh()
    x = torch.randn(5, 6, dtype=torch.float64) * 2
    errors = []
    for steps in (4, 16, 64):
        _, delta = explain.integrated_gradients(model, x, 1, steps=steps,
                                                return_convergence_delta=True)
        errors.append(np.abs(delta.numpy()).max())
    assert errors[0] > 8 * errors[1] > 64 * errors[2] > 0


@pytest.mark.parametrize("steps", [0, -1])
def test_integrated_gradients_needs_a_step(steps):
    with pytest.raises(ValueError, match="steps must be at least 1"):
        explain.integrated_gradients(torch.nn.Linear(2, 1), torch.randn(1, 2), steps=steps)
