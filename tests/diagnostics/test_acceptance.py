"""The acceptance suite: deliberately broken models are each diagnosed correctly within 50
steps at the default sampling rate, and healthy models stay silent over a full short run."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F

from .helpers import classification_data, rules_found, train_monitored


def mlp(widths, activation, init=None):
    layers = []
    for fan_in, fan_out in zip(widths, widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), activation()]
    model = nn.Sequential(*layers[:-1])
    if init is not None:
        for layer in model:
            if isinstance(layer, nn.Linear):
                init(layer)
    return model


def test_twenty_layer_sigmoid_mlp_has_vanishing_gradients():
    torch.manual_seed(0)
    model = mlp([16] + [32] * 20 + [2], nn.Sigmoid)
    monitor = train_monitored(model, torch.optim.SGD(model.parameters(), lr=0.1), 50)
    assert rules_found(monitor) == {"vanishing"}
    (finding,) = monitor.findings
    assert finding.layer == "0"  # the first layer, where it is worst
    assert finding.step <= 50 and "Remedy" in finding.message


def test_learning_rate_ten_explodes():
    torch.manual_seed(0)
    model = mlp([16, 64, 64, 2], nn.ReLU)
    monitor = train_monitored(model, torch.optim.SGD(model.parameters(), lr=10.0), 50)
    exploding = [f for f in monitor.findings if f.rule == "exploding"]
    assert exploding and exploding[0].step <= 10
    assert "lower the learning rate" in exploding[0].message


def test_large_negative_bias_kills_relu_units():
    torch.manual_seed(0)
    model = mlp([16, 64, 64, 2], nn.ReLU)
    with torch.no_grad():
        model[0].bias.fill_(-5.0)
        model[2].bias.fill_(-5.0)
    monitor = train_monitored(model, torch.optim.SGD(model.parameters(), lr=0.1), 50)
    assert rules_found(monitor) == {"dead"}
    assert {f.layer for f in monitor.findings} == {"1", "3"}
    assert "100%" in monitor.findings[0].message


def test_huge_tanh_weights_saturate():
    torch.manual_seed(0)
    model = mlp([16, 64, 64, 2], nn.Tanh)
    with torch.no_grad():
        model[0].weight.mul_(20.0)
        model[2].weight.mul_(20.0)
    monitor = train_monitored(model, torch.optim.SGD(model.parameters(), lr=0.1), 50)
    assert rules_found(monitor) == {"saturation"}
    assert {f.layer for f in monitor.findings} == {"1", "3"}


class LogOfShrinkingScale(nn.Module):
    """The loss drives ``scale`` down through zero; log(relu(scale)) then gives -inf."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 2)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        log_scale = torch.log(self.scale.relu())  # LOG LINE
        return self.fc(x) + log_scale


def _line_of(marker):
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1)
                    if marker in line and "_line_of" not in line)


def test_log_of_zero_is_reported_with_op_and_line():
    torch.manual_seed(0)
    model = LogOfShrinkingScale()

    def loss_fn(out, y):
        return F.cross_entropy(out, y) + out.mean()  # pushes log_scale (and scale) down

    with np.errstate(all="ignore"):
        monitor = train_monitored(model, torch.optim.SGD(model.parameters(), lr=0.5), 50,
                                  loss_fn=loss_fn)
    (finding,) = monitor.findings
    assert finding.rule == "nonfinite"
    assert finding.step > 1  # finite at first: the value reaches zero during training
    assert "Log produced inf in the forward pass" in finding.message
    assert f"test_acceptance.py:{_line_of('# LOG LINE')}" in finding.message
    origin = monitor.watch.origin
    assert (origin.op, origin.line) == ("Log", _line_of("# LOG LINE"))


# -- healthy models ---------------------------------------------------------------------------

def kaiming(layer):
    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    nn.init.zeros_(layer.bias)


class ResidualLayerNormMLP(nn.Module):
    def __init__(self, features=16, width=32, blocks=4):
        super().__init__()
        self.inp = nn.Linear(features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU(),
                          nn.Linear(width, width)) for _ in range(blocks))
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h)
        return self.out(h)


class TinyGPT(nn.Module):
    def __init__(self, vocab=12, width=16, context=8):
        super().__init__()
        self.tokens = nn.Embedding(vocab, width)
        self.positions = nn.Embedding(context, width)
        layer = nn.TransformerEncoderLayer(width, 2, dim_feedforward=32, dropout=0.0,
                                           activation="relu", batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, vocab)
        self.register_buffer("mask", torch.triu(torch.ones(context, context, dtype=torch.bool),
                                                diagonal=1))

    def forward(self, x):
        h = self.tokens(x) + self.positions(torch.arange(x.shape[1]))
        return self.head(self.norm(self.blocks(h, mask=self.mask, is_causal=True)))


def _sequence_data():
    rng = np.random.default_rng(0)
    start = rng.integers(0, 12, size=(16, 1))
    tokens = (start + np.arange(9)) % 12  # counting: predictable next tokens
    return (torch.from_numpy(tokens[:, :-1].astype(np.int64)),
            torch.from_numpy(tokens[:, 1:].astype(np.int64)))


def _sequence_loss(logits, targets):
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@pytest.mark.parametrize("name", ["kaiming_relu_mlp", "residual_layernorm_mlp", "tiny_gpt"])
def test_healthy_models_stay_silent(name):
    torch.manual_seed(0)
    data, loss_fn, steps = classification_data(), None, 200
    if name == "kaiming_relu_mlp":
        model = mlp([16, 64, 64, 64, 2], nn.ReLU, init=kaiming)
    elif name == "residual_layernorm_mlp":
        model = ResidualLayerNormMLP()
    else:
        model, data, loss_fn, steps = TinyGPT(), _sequence_data(), _sequence_loss, 100
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    monitor = train_monitored(model, optimizer, steps, data=data, loss_fn=loss_fn, every=10)
    assert monitor.findings == [], [str(f) for f in monitor.findings]
    assert len(monitor.samples) >= steps // 10  # it did look
    losses = [loss for _, loss, _ in monitor.steps]
    assert losses[-1] < losses[0]  # and the model did learn
    if name == "tiny_gpt":  # the functional relu inside the encoder layers is watched too
        assert any(":Relu[" in key for key in monitor.samples[-1]["activations"])
