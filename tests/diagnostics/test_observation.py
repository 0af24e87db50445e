"""A monitor follows only the model it was given: two monitors on two models report
independently, an unmonitored model's NaN neither reaches nor silences the monitored one, and
a NaN is traced whether the loop stops before backward or not, with or without record_sites."""

import math

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor
from chainrule.nn import functional as F

from .suite import data, models
from .suite.harness import fit, marked_line


def _dead_mlp():
    model = models.mlp([16, 64, 64, 2])
    with torch.no_grad():
        model[0].bias.fill_(-5.0)
    return model


class _LogOfZero(nn.Module):
    """A critic whose forward takes the log of a weight driven to zero: -inf, then NaN."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 1)

    def forward(self, x):
        return self.fc(x) * torch.log(self.fc.weight.abs().sum() * 0)


def test_two_monitors_on_two_models_report_independently():
    torch.manual_seed(0)
    dead, broken = _dead_mlp(), _LogOfZero()
    opt_a = torch.optim.SGD(dead.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(broken.parameters(), lr=0.1)
    batches = data.classes()
    with GradientMonitor(dead) as a, GradientMonitor(broken) as b, np.errstate(all="ignore"):
        for step in range(1, 21):
            x, y = batches(step)
            for model, opt, monitor in ((dead, opt_a, a), (broken, opt_b, b)):
                opt.zero_grad()
                out = model(x)
                loss = F.cross_entropy(out, y) if out.shape[1] == 2 else out.mean()
                loss.backward()
                opt.step()
                monitor.step(loss)
    assert [f.rule for f in a.findings] == ["dead"]
    assert [f.rule for f in b.findings] == ["nonfinite"]
    assert (b.findings[0].origin.op, b.findings[0].origin.pass_) == ("Log", "forward")


def test_an_unmonitored_critic_turning_nan_neither_reaches_nor_silences_the_generator():
    torch.manual_seed(0)
    generator, critic = _dead_mlp(), _LogOfZero()
    g_opt = torch.optim.SGD(generator.parameters(), lr=0.1)
    c_opt = torch.optim.SGD(critic.parameters(), lr=0.1)
    batches = data.classes()
    with GradientMonitor(generator) as monitor, np.errstate(all="ignore"):
        for step in range(1, 21):
            x, y = batches(step)
            out = generator(x)
            c_opt.zero_grad()
            critic(torch.cat([out.detach()] * 8, dim=1)).mean().backward()  # NaN, not ours
            c_opt.step()
            g_opt.zero_grad()
            loss = F.cross_entropy(out, y)
            loss.backward()
            g_opt.step()
            monitor.step(loss)
    assert [f.rule for f in monitor.findings] == ["dead"]


def _origin_and_forwards(make_model, layer, batches, record_sites):
    """The first finding's Origin over two steps of ``make_model()``, and how many times
    the module ``layer`` (an attribute of the model) ran forward in them."""
    torch.manual_seed(0)
    model = make_model()
    calls = []
    getattr(model, layer).register_forward_hook(lambda *args: calls.append(1))
    monitor = fit(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, 2,
                  record_sites=record_sites)
    return monitor.findings[0].origin, len(calls)


def test_only_the_optimizers_stepping_the_models_own_parameters_are_judged():
    """An SGD whose momentum never decays is named for the model it steps (found in the
    registry of live optimizers), not for another model trained beside it."""
    torch.manual_seed(0)
    student, teacher = models.mlp([16, 32, 2]), models.mlp([16, 32, 2])
    teacher_optimizer = torch.optim.SGD(teacher.parameters(), lr=1e-2, momentum=1.0)
    monitor = fit(student, torch.optim.SGD(student.parameters(), lr=1e-2), data.classes(), 8)
    assert monitor.findings == []
    monitor = fit(teacher, teacher_optimizer, data.classes(), 2)
    (finding,) = monitor.findings
    assert (finding.rule, finding.step) == ("exploding", 1)
    assert "momentum is 1" in finding.message


def test_record_sites_finds_a_backward_origin_live_without_running_the_step_again():
    live, live_calls = _origin_and_forwards(models.RootFeatures, "conv", data.images(), True)
    rerun, rerun_calls = _origin_and_forwards(models.RootFeatures, "conv", data.images(), False)
    assert live == rerun
    assert (live.op, live.pass_) == ("Sqrt", "backward")
    assert (live.file, live.line) == marked_line("sqrt backward in model")
    assert live_calls < rerun_calls  # the default ran the forward once more to find it


def test_record_sites_places_a_nan_made_in_a_gradient_hook_live_as_the_rerun_does():
    from .suite.broken import _HookedRows

    live, live_calls = _origin_and_forwards(_HookedRows, "emb", data.padded(), True)
    rerun, rerun_calls = _origin_and_forwards(_HookedRows, "emb", data.padded(), False)
    assert live == rerun
    assert (live.op, live.pass_, live.in_hook, live.layer) == ("Div", "backward", True, "emb")
    assert (live.file, live.line) == marked_line("gradient hook")
    assert live_calls < rerun_calls  # found live: the step was not run again


def test_a_nan_loss_is_traced_when_the_loop_stops_before_backward():
    torch.manual_seed(0)
    model = models.cnn()
    with torch.no_grad():
        model[-1].weight.mul_(300.0)
    from .suite.broken import _log_sigmoid_by_hand

    monitor = fit(model, torch.optim.SGD(model.parameters(), lr=0.01), data.images(), 20,
                  _log_sigmoid_by_hand, stop_on_nan=True)
    (finding,) = monitor.findings
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Log", "forward", True)
    assert (origin.file, origin.line) == marked_line("log in loss")
    assert "in the loss computation" in finding.message


def test_closing_removes_every_hook():
    model = models.Recurrent("LSTM")
    before = {name: (dict(m._forward_hooks), dict(m._forward_pre_hooks))
              for name, m in model.named_modules()}
    monitor = GradientMonitor(model, every=1)
    model(torch.randn(2, 5, 4)).sum().backward()
    monitor.step()
    monitor.close()
    after = {name: (dict(m._forward_hooks), dict(m._forward_pre_hooks))
             for name, m in model.named_modules()}
    assert after == before
    assert all(not p._grad_observers for p in model.parameters())


def test_a_closed_monitor_attached_again_goes_on_where_it_was():
    torch.manual_seed(0)
    model = models.mlp([16, 8, 2])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = data.classes()

    def train(step, monitor=None):
        x, y = batches(step)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.step(loss)
        return loss

    monitor = GradientMonitor(model)
    train(1, monitor)
    monitor.close()
    train(2)  # not watched: nothing read, nothing kept
    assert not monitor.tap.squares and not monitor.watch.calls
    assert all(not p._grad_observers for p in model.parameters())
    monitor.attach()
    monitor.attach()  # twice is once
    assert all(len(p._grad_observers) == 1 for p in model.parameters())
    train(3, monitor)
    (step, _, total), grads = monitor.steps[-1], [p.grad._data for p in model.parameters()]
    assert step == 2  # its own count: the closed step is not one of its steps
    assert total == pytest.approx(math.sqrt(sum(float((g.astype(np.float64) ** 2).sum())
                                                for g in grads)), rel=1e-5)
    assert monitor.samples[-1]["step"] == 2  # step 2 is sampled: its weight copies were taken


def test_an_activation_is_not_taken_for_the_model_output_that_reused_its_id():
    """The probe holds each activation's output until the model's output is known: an output
    dropped earlier (an LSTM's sequence read at its last step) could leave its id to the
    model's output, and the activation was then left out for good (a two-layer LSTM's
    saturation went unreported about one run in ten)."""
    import gc
    import weakref

    from chainrule.diagnostics.activations import ActivationProbe

    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    probe = ActivationProbe(model, 0.02, 1, set())
    probe.arm(1)
    output = torch.ones(2, 3)
    probe._record(("act", "", 0), "act", "tanh", output)
    held = weakref.ref(output)
    del output
    gc.collect()
    assert held() is not None  # its id cannot go to another tensor meanwhile
    probe._model_output(model, (), torch.zeros(2, 3))
    assert probe.output_activations == set() and "act" in probe.collect(1)
    probe.disarm()
    gc.collect()
    assert held() is None


def test_relus_by_other_names_are_watched_and_other_clamps_are_not():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(4, 8), nn.LeakyReLU(0.0), nn.Linear(8, 8)
            self.out = nn.Linear(8, 2)

        def forward(self, x):
            h = self.fc2(self.act(self.fc1(x))).clamp(min=0)  # a ReLU
            return self.out(h).clamp(1e-7, 1.0) + self.out(h).clamp(min=1e-7)  # not ones

    model = Net()
    with torch.no_grad():
        model.fc1.bias.fill_(-9.0)
    with GradientMonitor(model) as monitor:
        loss = model(torch.randn(32, 4)).sum()
        loss.backward()
        monitor.step(loss)
    assert sorted(monitor.activations) == ["Net:Clamp[0]", "act"]
    assert monitor.activations["act"]["dead"] == 1.0


def test_relus_written_by_hand_are_watched_whatever_op_they_use_and_look_alikes_are_not():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = nn.Linear(4, 16)
            self.fc = nn.ModuleList(nn.Linear(16, 16) for _ in range(8))

        def forward(self, x):
            h = self.inp(x)
            h = self.fc[0](h * (h > 0).float())  # ReLUs: a mask product,
            h = self.fc[1](torch.where(h > 0, h, 0.0))  # a where,
            h = self.fc[2](torch.maximum(h, torch.zeros_like(h)))  # a maximum with zeros,
            h = self.fc[3](F.threshold(h, 0.0, 0.0))  # a threshold at 0
            h = self.fc[4](F.relu(h) * 1.0)  # not: an identity on values that are not < 0,
            h = self.fc[5](torch.where(h > 0, h, 0.01 * h))  # a leaky ReLU,
            h = self.fc[6](F.dropout(h, 0.5))  # dropout,
            return self.fc[7](h.abs())  # abs

    torch.manual_seed(0)
    model = Net()
    with GradientMonitor(model) as monitor:
        loss = model(torch.randn(32, 4)).sum()
        loss.backward()
        monitor.step(loss)
    assert sorted(monitor.activations) == ["Net:Maximum[0]", "Net:Mul[0]", "Net:Relu[0]",
                                           "Net:Where[0]", "Net:Where[1]"]
    assert all(0 <= s["dead"] < 0.5 for s in monitor.activations.values())


def test_a_nan_loss_when_the_loop_calls_the_models_parts_says_its_forward_did_not_run():
    # model.encoder(...) then model.head(...) by the loop: the model's own forward never runs,
    # so nothing after it is watched; the finding said "the loss computation made it" before
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        logits = model[1](torch.log(model[0](x) - 100.0))  # log of negatives: nan
        loss = F.cross_entropy(logits, y)
        monitor.step(loss)
    (finding,) = monitor.findings
    assert finding.origin.op == "unwatched"
    assert "the model's own forward did not run this step" in finding.message
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):  # the model called
        monitor.step(F.cross_entropy(torch.log(model(x) - 100.0), y))
    assert monitor.findings[0].origin.op == "Log"


def test_a_nan_gradient_when_the_loop_calls_the_models_parts_says_its_forward_did_not_run():
    # the loss finite, its gradient not (sqrt's slope at 0): the op cannot be run again without
    # the model's forward, and saying "no single op made it" sent users to custom Functions
    model = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 2))
    with torch.no_grad():
        model[0].bias.fill_(-100.0)  # every unit below 0: sqrt's slope at 0 is inf, times 0 nan
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        h = model[0](torch.randn(8, 4))
        loss = model[1]((h * (h > 0)).sqrt()).sum()
        loss.backward()
        monitor.step(loss)
    (finding,) = monitor.findings
    assert finding.origin.op == "unwatched" and finding.origin.pass_ == "backward"
    assert "the gradients became" in finding.message
    assert "the model's own forward did not run this step" in finding.message


SMOOTH = [(nn.GELU(), "gelu", "none"), (nn.GELU("tanh"), "gelu", "tanh"), (nn.SiLU(), "silu", None),
          (nn.Mish(), "mish", None), (nn.Softplus(), "softplus", 1.0),
          (nn.Softplus(beta=10), "softplus", 10.0), (nn.ELU(), "elu", 1.0),
          (nn.ELU(2.0), "elu", 2.0), (nn.CELU(0.5), "celu", 0.5), (nn.SELU(), "selu", None)]


def _one_summed_step(model, x):
    """A monitor that watched one step of ``model`` on ``x`` (its output summed), closed."""
    with GradientMonitor(model) as monitor:
        loss = model(x).sum()
        loss.backward()
        monitor.step(loss)
    return monitor


@pytest.mark.parametrize("module,kind,parameter", SMOOTH, ids=[f"{k}-{p}" for _, k, p in SMOOTH])
def test_the_flat_tail_of_a_smooth_activation_is_where_its_own_backward_is_flat(
        module, kind, parameter):
    from chainrule.diagnostics.activations import flat_tail
    bound = 4 * 0.02 * 0.98  # a sigmoid's slope at 0.02 from its asymptote, over its peak
    tail, value = flat_tail(kind, parameter, bound)
    # the slopes the library's own backward gives, not the formulas flat_tail used
    x = torch.linspace(tail - 40, 6, 200_001, dtype=torch.float64, requires_grad=True)
    module(x).sum().backward()
    slope, points = x.grad.numpy(), x.detach().numpy()
    peak = np.abs(slope).max()
    assert np.all(np.abs(slope[points <= tail]) <= bound * peak * 1.01)
    assert np.abs(slope[(points > tail) & (points < tail + 0.05)]).max() > bound * peak
    assert module(torch.tensor([tail], dtype=torch.float64)).item() == pytest.approx(
        value * (1.0507009873554805 if kind == "selu" else 1.0))


def test_smooth_activations_count_units_in_their_flat_tail_as_dead_in_place_or_not():
    torch.manual_seed(0)
    x = torch.randn(32, 4)
    for act in (nn.GELU(), nn.SiLU(), nn.ELU(inplace=True), nn.Softplus(), nn.Mish(),
                nn.LogSigmoid()):
        model = nn.Sequential(nn.Linear(4, 8), act, nn.Linear(8, 2))
        sign = 1.0 if isinstance(act, nn.LogSigmoid) else -1.0  # (its tail is above 0)
        with torch.no_grad():
            model[0].bias[:6] = 30.0 * sign  # 6 of 8 units held far in the tail
            model[0].bias[6:] = 0.0
        monitor = _one_summed_step(model, x)
        assert monitor.activations["1"]["dead"] == 0.75, act


def test_conv1d_units_are_its_channels_unless_transposed_before_the_activation():
    class Net(nn.Module):
        def __init__(self, transposed):
            super().__init__()
            self.transposed = transposed
            self.conv, self.act = nn.Conv1d(4, 16, 3, padding=1), nn.ReLU()
            self.head = nn.Linear(16, 2)

        def forward(self, x):
            h = self.conv(x)
            h = self.act(h.transpose(1, 2) if self.transposed else h)
            return self.head(h.mean(1 if self.transposed else 2))

    torch.manual_seed(0)
    x = torch.randn(8, 4, 12)  # 12 positions, 16 channels
    for transposed in (False, True):
        model = Net(transposed)
        with torch.no_grad():
            model.conv.bias[:12] = -30.0  # 12 of 16 channels dead
        monitor = _one_summed_step(model, x)
        assert monitor.activations["act"]["dead"] == 0.75, transposed


def test_dead_units_explain_a_stall_before_them_but_not_a_head_left_out_after_them():
    from .suite.broken import _dead_first_layer_head_left_out
    for in_optimizer in (False, True):
        torch.manual_seed(0)
        _, monitor = _dead_first_layer_head_left_out(in_optimizer)
        rules = {(f.rule, f.layer) for f in monitor.findings}
        assert ("dead", "1") in rules
        assert (("stalled", "4") in rules) == (not in_optimizer), rules
        assert all(f.layer in ("1", "4") for f in monitor.findings), rules


def test_dead_units_are_found_when_the_loop_calls_the_models_parts_one_by_one():
    # the model's own forward never runs: its activations keep their names from one sample to
    # the next all the same (they were '1', '1[1]', '1[2]': a new name each sample, no streak)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3))
    with torch.no_grad():
        model[0].bias.fill_(-10.0)  # every unit below zero on every input
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with GradientMonitor(model) as monitor:
        for _ in range(8):  # samples at steps 1, 2, 4 and 8
            optimizer.zero_grad()
            loss = F.cross_entropy(model[2](model[1](model[0](x))), y)
            loss.backward()
            optimizer.step()
            monitor.step(loss)
    assert sorted(monitor.activations) == ["1"]
    (dead,) = [f for f in monitor.findings if f.rule == "dead"]
    assert (dead.layer, dead.step) == ("1", 4)


def test_an_optimizer_made_after_the_first_samples_is_judged_at_the_next():
    """The optimizers over the model's parameters are looked up again whenever one is made
    (or given a parameter group): a second optimizer whose momentum never decays, made at step
    60 for the head, is named at the sample after it (step 100), not never."""
    torch.manual_seed(0)
    model = models.mlp([16, 32, 2])
    body = torch.optim.SGD(model[0].parameters(), lr=1e-2)
    monitor = GradientMonitor(model)
    batches = data.classes()
    head = None
    for step in range(1, 121):
        if step == 60:
            head = torch.optim.SGD(model[-1].parameters(), lr=1e-2, momentum=1.0)
        x, y = batches(step)
        for optimizer in (body, head):
            if optimizer is not None:
                optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        for optimizer in (body, head):
            if optimizer is not None:
                optimizer.step()
        monitor.step(loss)
    monitor.close()
    (finding,) = [f for f in monitor.findings if "momentum" in f.message]
    assert finding.step == 100


def test_dead_units_behind_a_batch_norm_in_eval_mode_are_judged_by_the_biases_before_it():
    # an eval-mode batch norm is y = (x - mean) / sqrt(var + eps) * weight + bias: the signs of
    # the units after it follow the biases of the layer before it, carried through that map
    from chainrule.diagnostics.activations import dead_biases_natural

    conv, norm = nn.Conv2d(4, 3, 3), nn.BatchNorm2d(3)  # fan_in 36: the range starts at -1/6
    norm.eval()
    dead = np.array([0.0, 0.0, 1.0])  # the first two units dead
    with torch.no_grad():
        conv.bias.copy_(torch.tensor([-0.1, 0.1, -4.0]))
    assert dead_biases_natural(norm, dead, conv) is True
    with torch.no_grad():
        conv.bias[0] = -4.0  # pushed far below its initial range
    assert dead_biases_natural(norm, dead, conv) is False
    with torch.no_grad():
        norm.running_mean.fill_(-5.0)  # a shift moves the range with the biases
    assert dead_biases_natural(norm, dead, conv) is False
    with torch.no_grad():
        norm.weight.fill_(-1.0)  # a negative scale: a bias far down turns its unit on
    assert dead_biases_natural(norm, dead, conv) is True
    norm.train()  # normalising each batch: no bias decides the sign
    assert dead_biases_natural(norm, dead, conv) is None


@pytest.mark.parametrize("args, error, says", [
    ((lambda x: x,), TypeError, "watches an nn.Module"),  # (the model's forward, not the model)
    ((nn.Linear(2, 2), 2.5), TypeError, "whole number of steps"),
    ((nn.Linear(2, 2), 0), ValueError, "at least 1"),
    ((nn.Linear(2, 2), 50, [3]), TypeError, "must be a Thresholds"),
    ((nn.Linear(2, 2), 50, {"patiense": 3}), TypeError, "unexpected keyword argument 'patiense'"),
])
def test_a_monitor_given_something_other_than_a_model_and_a_period_says_what_it_needs(
        args, error, says):
    with pytest.raises(error, match=says):
        GradientMonitor(*args)


def test_a_step_given_something_other_than_a_loss_says_what_it_needs():
    model = nn.Linear(3, 2)
    with GradientMonitor(model) as monitor:
        out = model(torch.randn(4, 3))
        F.mse_loss(out, torch.zeros(4, 2)).backward()
        with pytest.raises(TypeError, match="one-element tensor or a number, got str"):
            monitor.step("0.5 at step 1")
        with pytest.raises(ValueError, match="reduce it first"):  # (a tensor of several losses)
            monitor.step(out.sum(dim=1))
        assert monitor.step(0.5) == [] and monitor.step_count == 1  # (refused calls: no step)


def test_layers_unfrozen_after_the_monitor_started_are_read_and_sampled():
    # a backbone frozen when the monitor started, unfrozen at step 20 in a new parameter group:
    # the step's total norm is every gradient's (the truth: all of them, read here), and the
    # next sample measures the backbone's layers (before, only the head was ever watched)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(),
                          nn.Linear(32, 2))
    backbone = list(model[0].parameters()) + list(model[2].parameters())
    for p in backbone:
        p.requires_grad_(False)
    optimizer = torch.optim.SGD(model[4].parameters(), lr=0.05)
    batches, truth = data.classes(), {}
    with GradientMonitor(model) as monitor:
        for step in range(1, 41):
            if step == 20:
                for p in backbone:
                    p.requires_grad_(True)
                optimizer.add_param_group({"params": backbone, "lr": 0.005})
            x, y = batches(step)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            truth[step] = math.sqrt(sum(float((p.grad._data.astype(np.float64) ** 2).sum())
                                        for p in model.parameters() if p.grad is not None))
            optimizer.step()
            monitor.step(loss)
    totals = {step: total for step, _, total in monitor.steps}
    assert totals[19] == pytest.approx(truth[19], rel=1e-5)  # (the head alone)
    assert totals[20] == pytest.approx(truth[20], rel=1e-5) and totals[20] > totals[19]
    layers = {s["step"]: set(s["layers"]) for s in monitor.samples}
    assert layers[16] == {"4"} and layers[32] == {"0", "2", "4"}
    assert monitor.findings == []


@pytest.mark.parametrize("fields, error, says", [
    ({"patience": 0}, ValueError, "Thresholds.patience must be a finite number of at least 1"),
    ({"jump_factor": math.nan}, ValueError, "Thresholds.jump_factor must be a finite number"),
    ({"dead_fraction": "half"}, TypeError, "Thresholds.dead_fraction must be a number"),
])
def test_thresholds_that_no_rule_could_use_are_refused_by_name(fields, error, says):
    from chainrule.diagnostics import Thresholds

    with pytest.raises(error, match=says):
        Thresholds(**fields)
    # (a dict of its fields is taken as one)
    with GradientMonitor(nn.Linear(2, 2), thresholds={"patience": 2}) as monitor:
        assert monitor.thresholds.patience == 2


def test_the_decay_source_is_an_optimizers_weight_decay_strong_enough_or_a_penalty():
    # (what the decaying rule asks before it blames a weight decay: docs/diagnostics.md)
    def source(make_optimizer, penalty=False):
        model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
        optimizer = make_optimizer(model.parameters())  # (alive while the monitor asks)
        with GradientMonitor(model) as monitor:
            loss = model(torch.randn(8, 4)).square().mean()
            if penalty:
                loss = loss + 1e-2 * model[0].weight.square().sum()
            loss.backward()
            monitor.step(loss)
            found = monitor._decay_source()
        del optimizer
        return found

    assert source(lambda p: None) is None  # an update by hand: cannot tell
    assert source(lambda p: torch.optim.SGD(p, 0.1)) is False
    assert source(lambda p: torch.optim.SGD(p, 0.1, weight_decay=1e-4)) is True  # coupled
    assert source(lambda p: torch.optim.AdamW(p, 1e-3)) is False  # 1e-3 x 1e-2 a step
    assert source(lambda p: torch.optim.AdamW(p, 0.1, weight_decay=0.1)) is True  # 1e-2
    assert source(lambda p: torch.optim.SGD(p, 0.1), penalty=True) is True


def test_another_models_weights_in_the_loss_are_no_penalty_and_move_it_once_trained():
    # a generator's loss runs through its critic's forward: the critic's weights are leaves
    # of the loss computation, but no penalty on the generator's (a decay source only for its
    # own); they move the loss once the critic's optimizer changes them
    generator, critic = nn.Linear(4, 2), nn.Linear(2, 1)
    g_opt = torch.optim.SGD(generator.parameters(), 0.1)
    c_opt = torch.optim.SGD(critic.parameters(), 0.1)
    with GradientMonitor(generator) as monitor:
        for step in range(2):
            g_opt.zero_grad()
            loss = critic(generator(torch.randn(8, 4))).square().mean()
            loss.backward()
            g_opt.step()
            monitor.step(loss)
            assert monitor._decay_source() is False
            assert monitor.rules.explosions.loss_moves() is (step == 1)
            c_opt.zero_grad()
            critic(torch.randn(8, 2)).mean().backward()
            c_opt.step()  # (the critic trained between the generator's steps)


def test_the_decay_source_knows_asgds_lambd_and_leaves_other_optimizers_undecided():
    class Custom(torch.optim.SGD):  # (a subclass may decay by settings of its own)
        pass

    model = nn.Sequential(nn.Linear(4, 2))
    for make, expected in ((lambda p: torch.optim.ASGD(p, 1e-2, lambd=1e3), True),
                           (lambda p: torch.optim.ASGD(p, 1e-2), False),  # 1e-4 x 1e-2
                           (lambda p: Custom(p, 0.1), None)):
        optimizer = make(model.parameters())
        with GradientMonitor(model) as monitor:
            assert monitor._decay_source() is expected
        del optimizer
