"""The activation probe on nn.Sequential's fused runs (diagnostics/activations.py): the runs stay
fused on sampled steps, and what the probe measures there is what the activations' values say,
fused or not."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.autograd.engine import add_forward_observer
from chainrule.diagnostics.activations import (
    SOFTMAX_OPS,
    ActivationProbe,
    made_by_product,
    saturating_bias,
    softmax_rows,
    wrong_share,
)
from chainrule.nn import functional as F
from chainrule.ops.linear_chain import LinearChain

EPS = 0.02


def model_with_dead_and_saturated_units():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(),
                          nn.Linear(16, 2))
    with torch.no_grad():
        model[0].bias[:10] = -100.0  # 10 of 32 units never active
        model[2].weight[:4] *= 200.0  # 4 of 16 tanh units pinned near -1 or 1
    return model


def expected(model, x):
    """Dead share of the ReLU and saturated share of the Tanh, from the weights in NumPy."""
    w1, b1, w2, b2 = (p._data.astype(np.float64) for p in list(model.parameters())[:4])
    h1 = np.maximum(x._data @ w1.T + b1, 0)
    h2 = np.tanh(h1 @ w2.T + b2)
    dead = 1 - np.count_nonzero((h1 > 0).any(axis=0)) / h1.shape[1]
    saturated = np.count_nonzero(np.abs(h2) > 1 - EPS) / h2.size
    return dead, saturated


def measure(model, x):
    probe = ActivationProbe(model, EPS, 1, {"0", "2", "4"})
    probe.arm(1)
    out = model(x)
    stats = probe.collect(1)
    order = probe.order_of(["4", "2", "0"])
    probe.disarm()
    return out, stats, order


@pytest.mark.parametrize("unfused_by", [None, "hook", "observer"])
def test_a_run_is_measured_alike_fused_or_not(unfused_by):
    model = model_with_dead_and_saturated_units()
    x = torch.randn(64, 8)
    dead, saturated = expected(model, x)
    assert 0.3 < dead < 0.33 and saturated > 0.2  # (what the setup is for)
    remove = None
    if unfused_by == "hook":  # a user's hook on one module: the run is not fused
        handle = model[2].register_forward_hook(lambda module, args, output: None)
        remove = handle.remove
    elif unfused_by == "observer":  # someone watches each op: not fused either
        remove = add_forward_observer(lambda node, args, outputs: None)
    try:
        out, stats, order = measure(model, x)
    finally:
        if remove is not None:
            remove()
    assert (type(out.grad_fn) is LinearChain) == (unfused_by is None)
    assert set(stats) == {"1", "3"}
    assert stats["1"]["dead"] == pytest.approx(dead, abs=1e-12)
    assert stats["3"]["saturated"] == pytest.approx(saturated, rel=1e-6)
    assert (stats["1"]["after"], stats["3"]["after"]) == ("0", "2")
    assert stats["1"]["inputs"] == 64
    assert order == ["0", "2", "4"]


def test_a_module_used_twice_in_a_fused_run_is_measured_at_each_place():
    torch.manual_seed(0)
    act = nn.ReLU()
    model = nn.Sequential(nn.Linear(4, 8), act, nn.Linear(8, 8), act, nn.Linear(8, 1))
    with torch.no_grad():
        model[2].bias.fill_(-100.0)  # every unit of the second place dead
    probe = ActivationProbe(model, EPS, 1, {"0", "2", "4"})
    probe.arm(1)
    assert type(model(torch.randn(16, 4)).grad_fn) is LinearChain
    stats = probe.collect(1)
    probe.disarm()
    assert stats["1[1]"]["dead"] == 1.0 and stats["1[0]"]["dead"] < 1.0


def test_a_final_activation_of_a_fused_run_is_measured_apart_as_the_models_output():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1), nn.Sigmoid())
    probe = ActivationProbe(model, EPS, 1, {"0", "2"})
    probe.arm(1)
    out = model(torch.randn(16, 4) * 30)
    assert type(out.grad_fn) is LinearChain
    stats = probe.collect(1)
    probe.disarm()
    # the output sigmoid is no unit of the model: measured apart, as the share of the model's
    # outputs within EPS of 0 or 1 (judged by the rules only when saturated from the start)
    assert set(stats) == {"1", "output:3"}
    p = out.detach().numpy()
    assert stats["output:3"]["kind"] == "saturated_output"
    assert stats["output:3"]["saturated"] == pytest.approx(((p < EPS) | (p > 1 - EPS)).mean())


def test_another_models_run_is_not_measured():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    probe = ActivationProbe(model, EPS, 1, {"0", "2"})
    probe.arm(1)
    assert type(other(torch.randn(16, 4)).grad_fn) is LinearChain
    assert probe.collect(1) == {} and probe.order_of(["2", "0"]) == ["2", "0"]
    probe.disarm()


@pytest.mark.parametrize("kind", ["relu", "relu6", "sigmoid", "tanh"])
@pytest.mark.parametrize("shape", [(7,), (64, 33), (8, 5, 33), (4, 6, 5, 5)])
def test_compiled_tallies_count_as_numpy_does(kind, shape):
    from chainrule import kernels
    from chainrule.diagnostics.activations import _Tally

    pytest.importorskip("numba")  # (the kernels are used once numba is loaded)
    rng = np.random.default_rng(0)
    units = shape[1] if len(shape) >= 4 else shape[-1]
    # every third unit never active (and every third from the second always at the ReLU6
    # cap), values on both sides of the saturation bounds
    offset = np.choose(np.arange(units) % 3, [-20.0, 20.0, 0.0])
    offset = offset.reshape((units,) + (1,) * (len(shape) - 2)) if len(shape) >= 4 else offset
    values = rng.standard_normal((3,) + shape) * 4 + offset
    values = {"relu": np.maximum(values, 0), "relu6": np.clip(values, 0, 6),
              "sigmoid": 1 / (1 + np.exp(-values)), "tanh": np.tanh(values)}[kind]
    values = values.astype(np.float32)
    tallies = []
    for compiled in (True, False):
        with kernels.use_kernels(compiled):
            assert (kernels.if_loaded("probe", values[0]) is not None) == compiled
            tally = _Tally(kind, None, 1)
            for batch in values:  # three forwards pooled
                tally.add(batch, EPS)
            tallies.append(tally.stats())
    # (which units are off: the same ones, compared as arrays)
    off = [t.pop("off", None) for t in tallies]
    assert (off[0] is None) == (off[1] is None)
    assert off[0] is None or np.array_equal(off[0], off[1])
    assert tallies[0] == tallies[1]
    measured = tallies[0].get("dead", tallies[0].get("saturated"))
    assert 0 < measured < 1


def _softmax_calls(run):
    """(node, args, outputs) of each softmax or fused attention op ``run()`` makes."""
    calls = []
    remove = add_forward_observer(lambda node, args, outputs: calls.append(
        (node, args, outputs)) if type(node).__name__ in SOFTMAX_OPS else None)
    try:
        run()
    finally:
        remove()
    return calls


def test_softmax_rows_count_sharp_rows_and_leave_out_rows_a_mask_decides():
    scores = torch.tensor([[0.0, 30.0, 1.0],               # sharp: its top two 29 apart
                           [0.0, 0.1, 0.2],                # spread
                           [float("-inf"), 2.0, float("-inf")],  # one position left: certain
                           [-1e9, 0.5, -1e9],              # the same by a -1e9 mask
                           [-1e4 + 0.3, 0.0, 0.2]])        # BERT's -1e4 added: two left
    (call,) = _softmax_calls(lambda: scores.softmax(dim=-1))
    positions, saturated, total, margins = softmax_rows(*call, eps=0.02)
    assert (saturated, total) == (1, 3)
    assert margins.tolist() == pytest.approx([29.0])
    assert positions.shape == (1, 5, 1)  # five rows of one 2-d call: five inputs


def test_softmax_rows_of_the_fused_op_match_its_probabilities():
    torch.manual_seed(0)
    q, k = torch.randn(3, 2, 5, 4) * 6, torch.randn(3, 2, 5, 4) * 6
    mask = torch.ones(5, 5, dtype=torch.bool).tril()
    (call,) = _softmax_calls(lambda: F.scaled_dot_product_attention(q, k, k, attn_mask=mask))
    _, saturated, total, _ = softmax_rows(*call, eps=0.02)
    scores = (q @ k.transpose(-1, -2) / 2.0).masked_fill(~mask, float("-inf"))
    top = scores.softmax(-1).max(-1).values.numpy()[:, :, 1:]  # (the first query: one key)
    assert (saturated, total) == (int((top > 0.98).sum()), 3 * 2 * 4)


def test_softmax_rows_leave_out_a_batch_broadcast_from_the_mask():
    q, k = torch.randn(1, 1, 4, 8), torch.randn(3, 1, 4, 8)
    mask = torch.zeros(3, 1, 4, 4)
    (call,) = _softmax_calls(lambda: F.scaled_dot_product_attention(q, k, k, attn_mask=mask))
    assert softmax_rows(*call, eps=0.02) is None


def test_a_softmax_the_probe_cannot_read_leaves_the_training_step_alone(monkeypatch):
    # an attention layout the read does not know must cost the measurement, not the step
    from chainrule.diagnostics import GradientMonitor, activations

    def unreadable(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(activations, "softmax_rows", unreadable)
    torch.manual_seed(0)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            out, _ = self.attention(x, x, x)
            return self.head(out.mean(1))

    model = Classifier()
    x, y = torch.randn(4, 5, 8), torch.randint(0, 3, (4,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with GradientMonitor(model) as monitor:
        for _ in range(4):  # steps 1, 2 and 4 are sampled
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            monitor.step(loss)
    assert monitor.step_count == 4
    assert not any("attention" in name for name in monitor.activations)


def test_scores_made_as_a_product_of_two_forward_tensors_are_attentions():
    x = torch.randn(2, 5, 8)
    q_proj, k_proj, gate = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 4)
    q, k = q_proj(x), k_proj(x)
    mask = torch.full((5, 5), float("-inf")).triu(1)
    assert made_by_product(q @ k.transpose(-2, -1))
    assert made_by_product((q @ k.transpose(-2, -1)) / 8 ** 0.5 + mask)
    # a gate, a head, a product with a parameter written out by hand: scores from a layer
    assert not made_by_product(gate(x))
    assert not made_by_product(x @ gate.weight.t() / 2.0)
    assert not made_by_product(torch.randn(2, 5, 5))


def _softmax_stats(forward, x):
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(8, 8)

        def forward(self, x):
            return forward(self.proj(x)) * 2.0  # (the model's output goes unread)

    model = Model()
    probe = ActivationProbe(model, EPS, 1, {"proj"})
    probe.arm(1)
    model(x)
    stats = probe.collect(1)
    probe.disarm()
    return next(s for s in stats.values() if s["kind"] == "softmax")


def test_a_softmax_of_noised_scores_is_read_as_sampled_and_a_masked_one_not():
    x = torch.randn(64, 8)
    noise = torch.tensor(-np.log(np.random.default_rng(0).exponential(size=(64, 8))))
    mask = torch.zeros(64, 8)
    mask[:, 0] = float("-inf")
    sampled = _softmax_stats(lambda s: ((s + noise) / 0.1).softmax(-1), x)
    masked = _softmax_stats(lambda s: (s + mask).softmax(-1), x)
    plain = _softmax_stats(lambda s: s.softmax(-1), x)
    assert sampled.get("sampled") and sampled["temperature"] == pytest.approx(0.1)
    assert not masked.get("sampled") and not plain.get("sampled")
    assert not sampled.get("attention") and not plain.get("attention")


def test_a_bias_that_saturates_by_itself_is_told_from_weights_that_do():
    gate = nn.Linear(4, 8)
    nn.init.constant_(gate.bias, -10.0)  # sigmoid(-10) = 4.5e-5: shut whatever the input
    assert saturating_bias(gate, "sigmoid", 0.02) == pytest.approx(-10.0)
    assert saturating_bias(gate, "tanh", 0.02) == pytest.approx(-10.0)
    nn.init.constant_(gate.bias, -2.0)  # a gate started mostly shut, as meant: still learns
    assert saturating_bias(gate, "sigmoid", 0.02) is None
    large = nn.Linear(4, 8)
    with torch.no_grad():
        large.weight.mul_(100.0)  # saturated through the input: the weights' fault
    assert saturating_bias(large, "sigmoid", 0.02) is None
    router = nn.Linear(16, 4)
    with torch.no_grad():
        router.bias.copy_(torch.tensor([20.0, 0.0, 0.0, 0.0]))
    # one-hot within 0.02 from a gap of log(0.98 * 3 / 0.02) = 5.0 on
    assert saturating_bias(router, "softmax", 0.02) == pytest.approx(20.0)
    with torch.no_grad():
        router.bias.copy_(torch.tensor([4.0, 0.0, 0.0, 0.0]))
    assert saturating_bias(router, "softmax", 0.02) is None
    assert saturating_bias(nn.LayerNorm(8), "sigmoid", 0.02) is None  # a shift, not a bias
    assert saturating_bias(nn.Linear(4, 8, bias=False), "sigmoid", 0.02) is None


class _Functional(nn.Module):
    """model_with_dead_and_saturated_units written with functional activations in a forward
    whose first argument is not called ``self`` (any name is legal Python)."""

    def __init__(me, sequential):
        super().__init__()
        me.a, me.b, me.c = sequential[0], sequential[2], sequential[4]

    def forward(me, x):
        return me.c(torch.tanh(me.b(F.relu(me.a(x)))))


def test_functional_activations_are_measured_whatever_the_forward_calls_its_module():
    model = model_with_dead_and_saturated_units()
    x = torch.randn(64, 8)
    dead, saturated = expected(model, x)
    functional = _Functional(model)
    probe = ActivationProbe(functional, EPS, 1, {"a", "b", "c"})
    probe.arm(1)
    functional(x)
    stats = probe.collect(1)
    probe.disarm()
    assert sorted(stats) == ["_Functional:Relu[0]", "_Functional:Tanh[0]"]
    assert stats["_Functional:Relu[0]"]["after"] == "a"
    assert stats["_Functional:Relu[0]"]["dead"] == pytest.approx(dead)
    assert stats["_Functional:Tanh[0]"]["saturated"] == pytest.approx(saturated)
    assert dead > 0.25 and saturated > 0.05  # (the truth is not trivially zero)


def test_wrong_share_counts_the_saturated_outputs_on_the_far_side_of_their_targets():
    sigmoid = torch.tensor([0.995, 0.001, 0.999, 0.5, 0.97])  # three within 0.02 of 0 or 1
    targets = torch.tensor([1.0, 1.0, 0.0, 0.0, 0.0])  # the 2nd and 3rd confident and wrong
    assert wrong_share("sigmoid", sigmoid, targets, 0.02) == (3, 2)
    tanh = torch.tensor([-0.999, 0.995, 0.2])
    assert wrong_share("tanh", tanh, torch.tensor([-1.0, -0.5, 1.0]), 0.02) == (2, 1)
    assert wrong_share("tanh", tanh, torch.tensor([1.0]), 0.02) is None  # (broadcast: unread)
