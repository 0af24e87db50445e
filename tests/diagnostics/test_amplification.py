"""Amplification across depth and through time named at the right layer (amp17): residual
blocks read as blocks, not as a chain; the layers after a recurrent layer that amplifies
through time not called vanishing; the backward signal's gain through time measured at the
recurrent layer's own states (against autograd) and reported there."""

import math

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.gates import through_time_gain
from chainrule.diagnostics.rules import Rules, _init_gain
from chainrule.nn import functional as F

from .suite import data, models
from .suite.harness import fit


def _gain(sizes):
    """_init_gain's gain for layers of these sizes (against natural size), or None."""
    layers = {n: {"weight_before": size} for n, size in sizes.items()}
    found = _init_gain(layers, list(sizes), {n: 1.0 for n in sizes}, set(), 100.0)
    return found and found[1]


def _rms_gain(model, x):
    """The stream's root-mean-square after the blocks over that after the stem: the truth."""
    with torch.no_grad():
        h = model.stem(x)
        start = math.sqrt(float((h * h).mean()))
        for block in model.blocks:
            h = block(h)
        return math.sqrt(float((h * h).mean())) / start


def test_residual_blocks_three_times_too_large_amplify_as_blocks_not_as_a_chain():
    torch.manual_seed(0)
    model = models.ResidualMLP(norm=False)
    with torch.no_grad():
        for block in model.blocks:
            block.fc1.weight.mul_(3.0)
            block.fc2.weight.mul_(3.0)
    x, _ = data.classes()(1)
    truth = _rms_gain(model, x)
    sizes = {"stem": 1.0, **{f"blocks.{i}.fc{j}": 3.0 for i in range(8) for j in (1, 2)},
             "out": 1.0}
    estimate = _gain(sizes)
    assert truth > 100  # the stream really is amplified a hundredfold
    assert estimate is not None and truth / 10 < estimate < truth * 10, (truth, estimate)
    # the same sizes in a chain (no container items) stay a product of 1.22s: 25
    chain = {str(i): size for i, size in enumerate(sizes.values())}
    assert _gain(chain) is None


def test_residual_blocks_of_natural_size_amplify_nothing():
    torch.manual_seed(0)
    model = models.ResidualMLP(norm=False)
    x, _ = data.classes()(1)
    assert _rms_gain(model, x) < 3
    sizes = {"stem": 1.0, **{f"blocks.{i}.fc{j}": 1.0 for i in range(16) for j in (1, 2)},
             "out": 1.0}
    assert _gain(sizes) is None


def test_after_a_recurrent_layer_amplifying_through_time_nothing_is_called_vanishing():
    torch.manual_seed(0)
    model = models.Recurrent("LSTM", hidden=64)
    with torch.no_grad():  # the LSTM's matrices 10 times too large, its head of natural size
        model.rnn.weight_ih_l0.mul_(10.0)
        model.rnn.weight_hh_l0.mul_(10.0)
    batches = data.sequences(length=100)
    x, y = batches(0)
    x = x.clone().requires_grad_(True)
    F.cross_entropy(model(x), y).backward()
    through_time = np.linalg.norm(x.grad.numpy(), axis=(0, 2))
    assert through_time[0] > 100 * through_time[-1]  # the truth: amplified through time
    model.zero_grad()
    monitor = fit(model, torch.optim.Adam(model.parameters(), 1e-3), batches, 30)
    rules = [(f.rule, f.layer) for f in monitor.findings]
    assert rules == [("exploding", "rnn")], [str(f) for f in monitor.findings]
    assert "through time" in monitor.findings[0].message


def _carried_back(layer, x, v):
    """The norm per sequence of ``v`` on the last state carried back to the initial state (the
    hidden and cell states' together), by autograd: the truth ``through_time_gain`` rebuilds."""
    h0 = torch.zeros(1, x.shape[0], layer.hidden_size, requires_grad=True)
    if layer.mode == "LSTM":
        c0 = torch.zeros(1, x.shape[0], layer.hidden_size, requires_grad=True)
        _, (last, _) = layer(x, (h0, c0))
    else:
        _, last = layer(x, h0)
    (last[0] * torch.from_numpy(v.astype(np.float32))).sum().backward()
    squares = h0.grad.numpy()[0] ** 2
    if layer.mode == "LSTM":
        squares = squares + c0.grad.numpy()[0] ** 2
    return np.sqrt(squares.sum(1))


@pytest.mark.parametrize("kind, options, gain", [
    ("RNN", {}, 2.5), ("RNN", {"nonlinearity": "relu"}, 1.5), ("LSTM", {}, 10.0),
    ("GRU", {}, 5.0), ("LSTM", {}, 1.0)])
def test_the_gain_through_time_is_the_chain_rule_through_the_layer(kind, options, gain):
    torch.manual_seed(0)
    layer = getattr(nn, kind)(4, 32, batch_first=True, **options)
    with torch.no_grad():
        layer.weight_hh_l0.mul_(gain)
    x = torch.randn(8, 30, 4)
    # the same random start as the measurement's (its seed 0, one draw per direction)
    start = np.random.default_rng(0).standard_normal((8, 32))
    start /= np.linalg.norm(start, axis=1, keepdims=True)
    truth = float(np.exp(np.mean(np.log(_carried_back(layer, x, start)))))
    measured = through_time_gain(layer, (x,), layer(x))
    assert measured == pytest.approx(truth, rel=1e-3)
    # time-major input: the same sequences, the same gain
    layer.batch_first = False
    x_time = x.transpose(0, 1).contiguous()
    assert through_time_gain(layer, (x_time,), layer(x_time)) == pytest.approx(measured)


def test_healthy_layers_let_the_signal_fade_and_layers_far_too_large_amplify_it():
    x, _ = data.sequences(length=30)(1)
    for kind in ("RNN", "LSTM", "GRU"):
        torch.manual_seed(0)
        healthy = getattr(nn, kind)(4, 64, batch_first=True)
        assert through_time_gain(healthy, (x,), healthy(x)) < 0.1
        if kind == "RNN":  # an orthogonal recurrence keeps the signal at most
            nn.init.orthogonal_(healthy.weight_hh_l0)
            assert through_time_gain(healthy, (x,), healthy(x)) < 1.0
    torch.manual_seed(0)
    large = models.recurrent_scaled(models.Recurrent("LSTM", hidden=64), 10.0,
                                    recurrent_only=False).rnn
    assert through_time_gain(large, (x,), large(x)) > 10
    bidirectional = nn.GRU(4, 16, batch_first=True, bidirectional=True)
    assert through_time_gain(bidirectional, (x,), bidirectional(x)) < 1.0


@pytest.mark.parametrize("kind, bidirectional", [("LSTM", False), ("GRU", True)])
def test_a_stacked_layers_gain_is_its_largest_layers_each_on_the_outputs_below(
        kind, bidirectional):
    # the truth: each layer as a layer of its own (whose gain autograd holds above), the
    # second fed the first's outputs; the second's recurrence made large, so that it is the
    # larger of the two
    torch.manual_seed(0)
    stacked = getattr(nn, kind)(4, 16, num_layers=2, batch_first=True,
                                bidirectional=bidirectional)
    with torch.no_grad():
        stacked.weight_hh_l1.mul_(8.0)
    alone = [getattr(nn, kind)(4 if i == 0 else 16 * (1 + bidirectional), 16, batch_first=True,
                               bidirectional=bidirectional) for i in range(2)]
    with torch.no_grad():
        for i, layer in enumerate(alone):
            for name, param in layer.named_parameters():
                param.copy_(getattr(stacked, name.replace("_l0", f"_l{i}")))
    x = torch.randn(8, 30, 4)
    below, _ = alone[0](x)
    gains = [through_time_gain(alone[0], (x,), below),
             through_time_gain(alone[1], (below,), alone[1](below))]
    assert gains[1] > gains[0]
    assert through_time_gain(stacked, (x,), stacked(x)) == pytest.approx(max(gains), rel=1e-6)


def _sample(step, gain, activations=True):
    """A recurrent layer 'rnn' started 7.5 times its natural size before a head of natural
    size; its measured gain through time ``gain``."""
    layers = {name: {"grad_norm": 1.0, "rho": 0.1, "update_ratio": 1e-3,
                     "weight_before": size, "weight_matrices": size, "ever_grad": True}
              for name, size in (("rnn", 7.5), ("head", 1.0))}
    measured = {"rnn": {"kind": "gates", "saturated": 0.0, "inputs": 64, "after": "rnn",
                        "through_time": gain}}
    return {"step": step, "order": ["rnn", "head"], "layers": layers,
            "activations": measured if activations else {},
            "natural": {"rnn": 1.0, "head": 1.0}}


def test_a_measured_gain_through_time_is_reported_at_the_recurrent_layer():
    rules = Rules(recurrent=["rnn"])
    found = [f for step, gain in ((1, 40.0), (2, 4.0), (4, 60.0)) for f in
             rules.on_sample(_sample(step, gain))]
    (finding,) = found
    assert (finding.rule, finding.layer, finding.step) == ("exploding", "rnn", 4)
    assert "grows a median 40x through time" in finding.message
    # below the threshold (a layer started large that trains): nothing
    rules = Rules(recurrent=["rnn"])
    assert not [f for step in (1, 2, 4, 8) for f in rules.on_sample(_sample(step, 15.0))]
    # a layer of natural size is not judged by it (weights that grew in training)
    rules = Rules(recurrent=["rnn"])
    sample = _sample(1, 50.0)
    sample["layers"]["rnn"].update(weight_before=1.0, weight_matrices=1.0)
    found = rules.on_sample(sample)
    assert not found + [f for step in (2, 4) for f in rules.on_sample(_sample(step, 50.0))]


class _Heads(nn.Module):
    """A trunk (two layers, the second residual) read by three heads, returned as ``shape``
    says: the heads are the layers that feed no other, whatever the model returns."""

    def __init__(self, shape):
        super().__init__()
        self.shape = shape
        self.stem, self.block = nn.Linear(6, 8), nn.Linear(8, 8)
        self.cls, self.reg, self.rec = nn.Linear(8, 3), nn.Linear(8, 1), nn.Linear(8, 6)

    def forward(self, x):
        h = F.relu(self.stem(x))
        h = h + F.relu(self.block(h))
        heads = self.cls(h), self.reg(h), self.rec(h)
        if self.shape == "dict":
            return dict(zip(("cls", "reg", "rec"), heads))
        if self.shape == "concatenated":
            return torch.cat([heads[0], heads[1].squeeze(-1)[:, None] * 2, heads[2]], dim=1)
        return heads


def _heads_seen(model, x):
    from chainrule.diagnostics import GradientMonitor

    with GradientMonitor(model) as monitor:  # (step 1 is sampled: the probe is armed)
        out = model(x)
        sum(t.sum() for t in (out.values() if isinstance(out, dict) else
                              out if isinstance(out, tuple) else [out])).backward()
        monitor.step(0.0)
        return monitor.probe.output_layers


@pytest.mark.parametrize("shape", ["tuple", "dict", "concatenated"])
def test_heads_are_the_layers_that_feed_no_other_whatever_the_model_returns(shape):
    assert _heads_seen(_Heads(shape), torch.randn(4, 6)) == {"cls", "reg", "rec"}


def test_a_chain_has_one_head_fused_or_not_and_a_cell_fed_by_itself_is_still_a_head():
    chain = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 7), nn.Tanh(),
                          nn.Linear(7, 2))  # (nn.Sequential runs it as one fused op)
    assert _heads_seen(chain, torch.randn(3, 5)) == {"4"}

    class Loop(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell, self.head = nn.GRUCell(3, 4), nn.Linear(4, 2)

        def forward(self, xs):
            h = torch.zeros(xs.shape[1], 4)
            for x in xs:
                h = self.cell(x, h)
            return self.head(h)

    assert _heads_seen(Loop(), torch.randn(5, 2, 3)) == {"head"}


def test_a_head_returned_as_a_dict_is_not_amplifying_against_the_heads_after_it():
    # the suite's balanced three-head CNN (healthy.py) returning a dict, its regression head
    # squeezed: no heads were known then, and the regressor was 'amplifying', 275x the
    # reconstruction head computed after it (it is beside it, not on its way to the loss)
    from .suite.healthy import _ThreeHeads

    class Named(_ThreeHeads):
        def forward(self, x):
            h = self.trunk(x)
            return {"logits": self.cls(h), "value": self.reg(h).squeeze(-1),
                    "recon": self.rec(h)}

    torch.manual_seed(0)
    model, images, current = Named(), data.images(), []

    def loss_fn(out, y):
        x = current[0]
        return (F.cross_entropy(out["logits"], y) + F.mse_loss(out["value"], x.mean((1, 2, 3)) * 3)
                + 0.5 * F.mse_loss(out["recon"], x.flatten(1)))

    def batches(step):
        x, y = images(step)
        current[:] = [x]
        return x, y

    monitor = fit(model, torch.optim.Adam(model.parameters(), 1e-3), batches, 60, loss_fn,
                  every=10)
    assert monitor.findings == []


class _Scaled(nn.Module):
    """A stem (identity weights), ``middle`` Linear layers of weight ``gain`` x identity and
    zero bias, the first of them applied ``calls`` times to its own output, a ReLU, a head."""

    def __init__(self, gains, calls=1, width=8):
        super().__init__()
        self.stem = nn.Linear(width, width)
        self.middle = nn.ModuleList(nn.Linear(width, width) for _ in gains)
        with torch.no_grad():
            for layer, gain in zip([self.stem, *self.middle], [1.0, *gains]):
                layer.weight.copy_(gain * torch.eye(width))
                layer.bias.zero_()
        self.calls = calls
        self.act = nn.ReLU()
        self.head = nn.Linear(width, 2)

    def forward(self, x):
        h = self.act(self.stem(x))
        for _ in range(self.calls):
            h = self.middle[0](h)
        for layer in self.middle[1:]:
            h = layer(h)
        return self.head(h)


def _first_sample(model):
    torch.manual_seed(0)
    batches = data.Batches(np.abs(np.random.default_rng(0).standard_normal((64, 8)))
                           .astype(np.float32), np.zeros(64, dtype=np.int64), 32)
    monitor = fit(model, torch.optim.SGD(model.parameters(), 1e-6), batches, 1)
    return monitor.samples[0]["activations"]


def test_a_layer_applied_again_and_again_is_measured_by_the_gain_of_its_calls():
    # 2 x identity applied 5 times to non-negative inputs: exactly 2^5 from its first call's
    # input to its last call's output
    found = _first_sample(_Scaled([2.0], calls=5))["input:repeated"]
    assert (found["layer"], found["calls"]) == ("middle.0", 5)
    assert found["gain"] == pytest.approx(32.0, rel=1e-5)


def test_the_growth_across_depth_is_measured_from_the_layer_where_it_starts():
    # stem, then layers of gain 0.5, 10 and 10: the inputs shrink at 'middle.1' and grow by
    # 100 from there to the head's; 'middle.0' shrinks, it does not start the growth
    found = _first_sample(_Scaled([0.5, 10.0, 10.0]))["input:depth"]
    assert found["layer"] == "middle.1"
    assert found["gain"] == pytest.approx(100.0, rel=1e-5)


def test_gains_below_ten_are_not_handed_on():
    # (the measurements stay as they were where nothing amplifies: see activations.py)
    assert not {"input:repeated", "input:depth"} & set(_first_sample(_Scaled([3.0], calls=2)))


@pytest.mark.parametrize("batch", [1, 3])
def test_a_batch_of_fewer_sequences_carries_several_directions_back_through_each(batch):
    # GAIN_SEQUENCES directions in all, whatever the batch: each sequence repeated until
    # there are 8 rows, each row its own random direction (the measurement's seed 0)
    torch.manual_seed(0)
    layer = nn.RNN(4, 32, batch_first=True)
    with torch.no_grad():
        layer.weight_hh_l0.mul_(3.0)
    x = torch.randn(batch, 30, 4)
    rows = torch.from_numpy(np.repeat(x.numpy(), -(-8 // batch), axis=0))
    start = np.random.default_rng(0).standard_normal((rows.shape[0], 32))
    start /= np.linalg.norm(start, axis=1, keepdims=True)
    truth = float(np.exp(np.mean(np.log(_carried_back(layer, rows, start)))))
    assert through_time_gain(layer, (x,), layer(x)) == pytest.approx(truth, rel=1e-3)
