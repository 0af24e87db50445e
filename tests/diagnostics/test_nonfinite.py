"""Non-finite values: the first op that made one, in forward or backward, and its line."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics import GradientMonitor, NonFiniteTracer, nonfinite
from chainrule.nn import functional as F


def _line_of(marker):
    with open(__file__) as source:
        return next(i for i, line in enumerate(source, 1)
                    if marker in line and "_line_of" not in line)


class SqrtOfRelu(nn.Module):
    """sqrt(0) = 0 is fine going forward; its gradient 1 / (2 sqrt(0)) is not, and the ReLU
    written as a product with its mask turns it into nan (F.relu would select 0 there)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.fc(x)
        return (h * (h > 0)).sqrt()  # SQRT LINE


def test_backward_origin_names_the_op_and_its_line():
    torch.manual_seed(0)
    model = SqrtOfRelu()
    x = torch.randn(8, 4)
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        model(x).sum().backward()
        (finding,) = monitor.step()
    assert finding.rule == "nonfinite"
    origin = monitor.watch.origin
    assert (origin.op, origin.pass_, origin.kind) == ("Sqrt", "backward", "inf")
    assert origin.line == _line_of("# SQRT LINE") and origin.layer == "SqrtOfRelu"
    assert "Sqrt produced inf in the backward pass" in finding.message


class LogOfLinear(nn.Module):
    """A head whose forward calls its module ``m``, not ``self``: legal, and its layer is
    still the one named."""

    def __init__(m):
        super().__init__()
        m.fc = nn.Linear(3, 2)

    def forward(m, h):
        return m.fc(h).log()  # LOG HEAD LINE


def test_a_forward_whose_module_is_not_called_self_is_named_as_the_layer():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), LogOfLinear())
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = model(torch.randn(8, 4)).sum()
        loss.backward()
        monitor.step(loss)
    origin = monitor.watch.origin
    assert (origin.op, origin.pass_) == ("Log", "forward")
    assert origin.line == _line_of("# LOG HEAD LINE") and origin.layer == "1"


class HalfSqrt(torch.autograd.Function):
    """sqrt of the positive part, whose hand-written backward divides by the output."""

    @staticmethod
    def forward(ctx, x):
        y = x.clamp(min=0).sqrt()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        half = 0.5 * grad
        return half / y  # CUSTOM BACKWARD LINE


class CustomSqrt(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return HalfSqrt.apply(self.fc(x))  # APPLY LINE


@pytest.mark.parametrize("record_sites", [False, True])
def test_a_birth_in_a_custom_backward_is_placed_at_its_line_in_that_backward(record_sites):
    # found by running the step again (the default: the evidence comes at the end of the
    # backward, so the re-run's own backward runs inside that one) or live
    torch.manual_seed(0)
    model = CustomSqrt()
    with GradientMonitor(model, record_sites=record_sites) as monitor, \
            np.errstate(all="ignore"):
        model(torch.randn(8, 4)).sum().backward()
        (finding,) = monitor.step()
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.kind, origin.inside) == (
        "HalfSqrt", "backward", "inf", "Div")
    assert origin.line == _line_of("# CUSTOM BACKWARD LINE")
    assert origin.layer == "CustomSqrt"
    assert "Div in its backward made it" in finding.message


def test_a_birth_in_a_custom_backward_in_the_loss_is_placed_at_its_line_in_that_backward():
    # the loss is not run again: the Function's backward alone is, on evidence, from what it
    # received and what it saved (which the engine frees before the node's hooks run)
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = HalfSqrt.apply(model(torch.randn(8, 4))).sum()  # LOSS APPLY LINE
        loss.backward()
        (finding,) = monitor.step()
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.kind, origin.inside, origin.in_loss) == (
        "HalfSqrt", "backward", "inf", "Div", True)
    assert origin.line == _line_of("# CUSTOM BACKWARD LINE") and origin.layer is None
    assert "Div in its backward made it" in finding.message
    assert model.weight.grad is not None and not np.isfinite(model.weight.grad.numpy()).all()


def test_what_a_custom_loss_function_keeps_for_its_backward_holds_no_cycle_to_its_graph():
    import gc
    import weakref

    model = nn.Linear(4, 3)
    with GradientMonitor(model) as monitor:
        loss = HalfSqrt.apply(model(torch.randn(8, 4)).abs() + 1).sum()
        node = weakref.ref(loss.grad_fn.next_functions[0][0])
        assert isinstance(node(), HalfSqrt)
        loss.backward()
        assert monitor.step() == []
        gc.disable()
        try:
            del loss
            assert node() is None  # freed by reference counting, not left to the collector
        finally:
            gc.enable()


def test_a_tracer_over_a_backward_places_only_a_custom_backward_inside_it():
    x = torch.zeros(3, requires_grad=True)
    with NonFiniteTracer(backward=True) as tracer, np.errstate(all="ignore"):
        HalfSqrt.apply(x).sum().backward()  # (its backward's ops are no forward births)
    origin = tracer.origin
    assert (origin.op, origin.pass_, origin.inside) == ("HalfSqrt", "backward", "Div")
    assert origin.line == _line_of("# CUSTOM BACKWARD LINE")
    with NonFiniteTracer(backward=True) as tracer, np.errstate(all="ignore"):
        x.sqrt().sum().backward()  # BUILT-IN SQRT LINE
    origin = tracer.origin  # a built-in op's backward is chainrule's: the call's line
    assert (origin.op, origin.pass_, origin.inside) == ("Sqrt", "backward", None)
    assert origin.line == _line_of("# BUILT-IN SQRT LINE")


def test_finite_training_reports_nothing_and_closing_removes_hooks():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    monitor = GradientMonitor(model)
    model(torch.randn(2, 4)).sum().backward()
    assert monitor.step() == []
    monitor.close()
    assert not model._forward_hooks and not model[1]._forward_hooks
    assert monitor.watch.origin is None


def test_parameter_already_nan_is_named():
    model = nn.Sequential(nn.Linear(4, 3))
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = model(torch.randn(2, 4)).sum()
        loss.backward()
        (finding,) = monitor.step(loss)  # before any update: not an explosion
    assert monitor.watch.origin.op == "parameter" and finding.rule == "nonfinite"
    assert "'0.weight'" in finding.message


def _first_finding(model, x):
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = model(x).sum()  # INF CALL
        loss.backward()
        return monitor.step(loss)[0]


def test_an_inf_in_the_input_that_a_layer_turns_into_nan_is_named_as_the_input():
    """A convolution sums +inf and -inf products into nan, a normalisation subtracts inf from
    inf: the nan is new at that op, but nothing there is the cause: the input held the inf."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU())
    x = torch.randn(8, 2, 6)
    x[3, 1, 2] = float("inf")
    finding = _first_finding(model, x)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.kind) == ("input", "forward", "inf")
    assert origin.file == __file__ and origin.line == _line_of("# INF CALL")
    assert "it became nan at BatchNorm in layer '1'" in finding.message


def test_an_inf_weight_that_a_layer_turns_into_nan_is_named_as_the_parameter():
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight[1, 2] = float("inf")
    finding = _first_finding(model, torch.randn(5, 4))
    assert (finding.origin.op, finding.origin.layer) == ("parameter", "0.weight")


def test_an_inf_class_weight_that_the_loss_turns_into_nan_entered_as_data():
    """Weights 1 / count for a class never counted: cross-entropy divides inf by inf. The nan
    is new at that op, but what made it entered from outside (a keyword option)."""
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    weights = torch.tensor([0.01, 0.02, float("inf")])
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = F.cross_entropy(model(torch.randn(6, 4)), torch.tensor([0, 1, 2, 0, 1, 2]),
                               weight=weights)
        loss.backward()
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.kind, origin.entered_at) == ("data", "inf", "CrossEntropy")
    assert "it became nan at CrossEntropy" in finding.message


def test_nan_loss_outside_the_model_is_found_in_the_loss_with_its_line():
    model = nn.Sequential(nn.Linear(4, 1))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        loss = torch.log(model(torch.randn(3, 4)) * 0).sum()  # LOSS LINE: -inf in the loss
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Log", "forward", True)
    assert origin.line == _line_of("# LOSS LINE") and origin.layer is None
    assert "Log produced inf in the forward pass in the loss computation" in finding.message


class LogHead(nn.Module):
    def forward(self, x):
        return x.log()  # HEAD LINE


class WithHeads(nn.Module):
    """A body the model's forward runs, and heads the loss calls one by one."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(4, 2)
        self.heads = nn.ModuleList([LogHead(), LogHead()])

    def forward(self, x):
        return self.body(x)


class LogLoss(nn.Module):
    """A loss module outside the model: its frames are walked, never named."""

    def forward(self, x):
        return x.log().sum()


def test_a_loss_op_inside_a_head_the_loss_calls_is_named_after_that_head():
    torch.manual_seed(0)
    model = WithHeads()
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        out = model(torch.randn(3, 4)).abs() + 1.0  # finite logs
        loss = sum(head(out).sum() for head in model.heads)
        assert monitor.step(loss) == [] and monitor.watch.origin is None
        out = model(torch.randn(3, 4))
        loss = model.heads[0](out.abs() + 1.0).sum() + model.heads[1](out * 0).sum()
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Log", "forward", True)
    assert origin.line == _line_of("# HEAD LINE") and origin.layer == "heads.1"
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        (finding,) = monitor.step(LogLoss()(model(torch.randn(3, 4)) * 0))
    assert finding.origin.op == "Log" and finding.origin.layer is None


def test_a_masked_softmax_over_a_row_that_is_all_minus_inf_gives_birth_to_nan():
    scores = torch.randn(2, 3)
    mask = torch.tensor([[False, True, False], [True, True, True]])
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        scores.masked_fill(mask, float("-inf")).softmax(-1)  # SOFTMAX LINE
    origin = tracer.origin
    assert (origin.op, origin.kind) == ("Softmax", "nan")
    assert origin.line == _line_of("# SOFTMAX LINE")


def test_nan_in_the_loss_backward_names_the_op_and_the_pass():
    model = nn.Sequential(nn.Linear(4, 2))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        out = model(torch.randn(3, 4))
        loss = (out - out.detach()).pow(2).sum().sqrt()  # ROOT LINE: sqrt(0), gradient 1/0
        loss.backward()
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Sqrt", "backward", True)
    assert origin.line == _line_of("# ROOT LINE")


class ScaledLinear(nn.Module):
    """A layer and a parameter that only the loss uses."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.scale = nn.Parameter(torch.ones(2))

    def forward(self, x):
        return self.fc(x)


def test_a_loss_gradient_summed_into_by_a_later_backward_is_not_taken_for_the_birth():
    # the loss ops' gradients are checked only on evidence: by then a later backward may have
    # summed into one in place (kept as a leaf's .grad), and the op that made it is no longer
    # the op that gave birth
    model = ScaledLinear()
    with GradientMonitor(model, every=1) as monitor, np.errstate(all="ignore"):
        out = model(torch.randn(3, 4))
        first = out.sum() + (model.scale * torch.ones(2)).sum()  # scale.grad is Mul's array
        second = (model.scale * 0.0).sqrt().sum()  # BIRTH LINE: sqrt'(0) is infinite
        first.backward()
        second.backward()  # inf * 0 = nan, summed into scale.grad in place
        (finding,) = monitor.step(first)
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.in_loss) == ("Sqrt", "backward", True)
    assert origin.line == _line_of("# BIRTH LINE")


def test_the_gradients_kept_for_a_check_go_with_the_next_forward():
    model = nn.Sequential(nn.Linear(4, 2))
    with GradientMonitor(model) as monitor:
        for _ in range(3):
            loss = model(torch.randn(3, 4)).pow(2).mean()
            loss.backward()
            assert monitor.watch.backward_checks  # kept until there is evidence, or not
        model(torch.randn(3, 4))
        assert not monitor.watch.backward_checks


def test_tracer_skips_propagation_and_masking():
    x = torch.tensor([1.0, 0.0, 2.0])
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        masked = x.masked_fill(x == 0, float("-inf"))  # placing -inf on purpose: not an origin
        y = (masked * 2).exp()  # propagation of a non-finite input: not an origin
        torch.log(x - x)  # TRACER LINE: the first op to make -inf from finite inputs
    assert y is not None
    assert tracer.origin.op == "Log" and tracer.origin.line == _line_of("# TRACER LINE")


def test_an_overflow_in_the_forward_is_traced_when_the_loss_turns_non_finite():
    """The loop stops on the non-finite loss before backward: the model's forward is run again
    (weights unchanged) and the op that overflowed is named, with the layer and the line."""
    model = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        with torch.no_grad():
            model[0].weight.fill_(3e38)  # finite, but x @ w.T overflows
        loss = F.mse_loss(model(torch.ones(3, 4)), torch.zeros(3, 2))  # MODEL CALL
        (finding,) = monitor.step(loss)
    origin = finding.origin
    assert (origin.pass_, origin.kind, origin.layer) == ("forward", "inf", "0")
    assert origin.op not in ("parameter", "input") and not origin.in_loss
    assert origin.file == __file__ and origin.line == _line_of("# MODEL CALL")


def _train_until(model, loss_fn, break_at, steps=12):
    """SGD under a monitor (default rate: steps 7, 9, 10, ... are not sampled); before step
    ``break_at``'s forward, ``break_at`` is called to plant the cause."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(16, 4), torch.randint(0, 3, (16,))
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            if step == 7:
                break_at()
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            monitor.step(loss)
    return monitor


def test_unsampled_step_nan_in_a_weight_the_loss_uses_by_itself_is_found_at_its_op():
    # on unsampled steps a layer's bias stands for its weight's gradient, which is only true
    # for the use inside the layer: a weight the loss also uses must be read on every step
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))

    def group_lasso(out, y):
        rows = torch.sqrt((model[2].weight ** 2).sum(dim=1))  # ROWS LINE
        return F.cross_entropy(out, y) + 1e-3 * rows.sum()

    def zero_a_row():
        with torch.no_grad():
            model[2].weight[1] = 0.0

    monitor = _train_until(model, group_lasso, zero_a_row)
    finding = next(f for f in monitor.findings if f.rule == "nonfinite")
    origin = finding.origin
    assert finding.step == 7, [str(f) for f in monitor.findings]
    assert (origin.op, origin.pass_, origin.line) == ("Sqrt", "backward", _line_of("# ROWS LINE"))
    assert not [f for f in monitor.findings if f.rule == "exploding"]


class RootOfSize(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x).abs().sqrt()  # SIZE ROOT LINE: sqrt'(0) is infinite


def test_unsampled_step_nan_born_in_backward_inside_a_layer_is_found_through_its_bias():
    torch.manual_seed(0)
    model = RootOfSize()

    def kill_a_unit():  # fc's first unit is now 0 for every input: sqrt'(0) = inf
        with torch.no_grad():
            model.fc.weight[0] = 0.0
            model.fc.bias[0] = 0.0

    monitor = _train_until(model, lambda out, y: F.cross_entropy(out, y), kill_a_unit)
    finding = next(f for f in monitor.findings if f.rule == "nonfinite")
    assert finding.step == 7, [str(f) for f in monitor.findings]
    assert (finding.origin.op, finding.origin.pass_) == ("Sqrt", "backward")
    assert finding.origin.line == _line_of("# SIZE ROOT LINE")


def test_a_forward_runs_again_with_the_dropout_masks_it_drew_and_the_stream_goes_on():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Dropout(0.5), nn.Linear(16, 1))
    outputs = []
    model.register_forward_hook(lambda module, args, out: outputs.append(out.detach().numpy()))
    with GradientMonitor(model) as monitor:
        model(torch.randn(8, 4))
        call = monitor.watch.calls[-1]
        state = torch.get_rng_state()
        monitor.watch.rerun(call, NonFiniteTracer())
        assert torch.equal(torch.get_rng_state(), state)  # the stream goes on where it was
    np.testing.assert_array_equal(outputs[1], outputs[0])  # the same masks
    with GradientMonitor(model.eval()) as monitor:  # draws nothing: no state is kept
        model(torch.randn(8, 4))
        assert monitor.watch.calls[-1].rng is None


def _cross_entropy_by_helper(out, target):
    return F.cross_entropy(out, target)  # HELPER PATH


def test_a_remembered_op_site_is_the_walks_on_every_path_to_the_op():
    """op_call_site remembers the walk by the line that called the op (here F.cross_entropy's
    own, whoever called it): called by a module, directly and by a helper, in turn, each call
    gets the place the full walk gives, the line of the path it came by."""
    from chainrule.autograd.engine import add_forward_observer
    from chainrule.diagnostics.nonfinite import call_site, op_call_site

    places = []

    def observer(node, args, outputs):
        if type(node).__name__ == "CrossEntropy" or "Entropy" in type(node).__name__:
            quick = op_call_site(None, set(), skip=2)
            walked = call_site(None, skip=2, forwards=set())
            places.append(((quick.file, quick.line), (walked.file, walked.line)))

    logits, target = torch.randn(4, 3, requires_grad=True), torch.tensor([0, 1, 2, 0])
    criterion = nn.CrossEntropyLoss()
    remove = add_forward_observer(observer)
    try:
        for _ in range(3):
            criterion(logits, target)  # MODULE PATH
            F.cross_entropy(logits, target)  # DIRECT PATH
            _cross_entropy_by_helper(logits, target)
    finally:
        remove()
    expected = [_line_of(f"# {path} PATH") for path in ("MODULE", "DIRECT", "HELPER")] * 3
    assert [quick for quick, _ in places] == [walked for _, walked in places]
    assert [line for (_, line), _ in places] == expected
    assert {file for (file, _), _ in places} == {__file__}


def test_a_remembered_op_site_is_each_watchs_own():
    """Two watches see the same op through the same frames; the one whose model runs the
    module the op is in names it, the other does not: what one remembered is not the other's."""
    from chainrule.autograd.engine import add_forward_observer
    from chainrule.diagnostics.nonfinite import op_call_site

    class Head(nn.Module):
        def forward(self, out, target):
            return F.cross_entropy(out, target)

    head = Head()
    theirs, ours = (None, set()), ({id(head): "head"}, {Head.forward.__code__})
    layers = []

    def observer(node, args, outputs):
        if "Entropy" in type(node).__name__:  # (called here: skip=2 is the op's caller)
            layers.append(op_call_site(*theirs, skip=2).layer)
            layers.append(op_call_site(*ours, skip=2).layer)
            layers.append(op_call_site(*theirs, skip=2).layer)

    remove = add_forward_observer(observer)
    try:
        head(torch.randn(4, 3, requires_grad=True), torch.tensor([0, 1, 2, 0]))
    finally:
        remove()
    assert layers == [None, "head", None]


def test_a_forward_after_one_that_raised_is_still_recorded():
    """A forward that raised never ran its forward hook, so the watch's depth stayed up; the
    next call of the same step (a loop that skips a bad batch) is still recorded, with its
    random state, and runs again with the masks it drew."""

    class Flaky(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.drop, self.out = nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1)

        def forward(self, x, fail=False):
            h = self.drop(self.hidden(x))
            if fail:
                raise RuntimeError("a bad batch")
            return self.out(h)

    torch.manual_seed(0)
    model = Flaky()
    with GradientMonitor(model) as monitor:
        with pytest.raises(RuntimeError):
            model(torch.randn(8, 4), fail=True)
        out = model(torch.randn(8, 4))
        call = monitor.watch.calls[-1]
        assert call.outputs[0] is out and call.rng is not None
        again = []
        handle = model.register_forward_hook(lambda module, args, result: again.append(result))
        monitor.watch.rerun(call, NonFiniteTracer())
        handle.remove()
    np.testing.assert_array_equal(again[0].detach().numpy(), out.detach().numpy())


def test_draws_outside_the_models_forward_read_no_generator_state(monkeypatch):
    """The generator's state (a read that costs more than the rest of a step's watch) is read
    only for a forward of the model that draws: not for the batches drawn between steps."""
    from chainrule.diagnostics import watch

    reads = []
    original = watch._rng_state
    monkeypatch.setattr(watch, "_rng_state", lambda: reads.append(1) or original())
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    with GradientMonitor(model) as monitor:
        for _ in range(3):
            loss = model(torch.randn(8, 4)).pow(2).mean()  # drawn before the forward
            loss.backward()
            torch.rand(8)  # and after it
            monitor.step(loss)
        assert reads == []
        model.append(nn.Dropout(0.5))  # now the forward draws: once a step
        for _ in range(2):
            loss = model(torch.randn(8, 4)).pow(2).mean()
            loss.backward()
            torch.rand(8)
            monitor.step(loss)
    assert len(reads) == 2


def test_a_nan_made_by_a_hook_on_a_gradient_is_placed_at_the_hooks_op():
    # no node makes it: the gradient the next node receives already holds it
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with NonFiniteTracer(backward=True) as tracer, np.errstate(all="ignore"):
        h = x * 1.0
        h.register_hook(lambda g: g / g.norm(dim=-1, keepdim=True))  # HOOK LINE
        (h[:1] * 2.0).sum().backward()  # the second row's gradient is 0
    origin = tracer.origin
    assert (origin.op, origin.pass_, origin.kind, origin.in_hook) == (
        "Div", "backward", "nan", True)
    assert origin.line == _line_of("# HOOK LINE")
    assert not np.isfinite(x.grad.numpy()[1]).any() and np.isfinite(x.grad.numpy()[0]).all()


class _ScaledByHook(nn.Module):
    """A loss scale applied twice by hooks' code, too large for float32: the hook makes +-inf,
    and the layer's weight gradient sums +inf and -inf products into nan."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        h = self.fc(x)
        if h.requires_grad:
            h.register_hook(lambda g: g * 2.0 ** 100 * 2.0 ** 100)  # SCALE HOOK LINE
        return self.head(h)


@pytest.mark.parametrize("record_sites", [False, True])
def test_an_inf_made_by_a_hook_that_the_next_node_turns_into_nan_is_the_hooks(record_sites):
    # the layer's backward received inf and made nan: a new kind there, but nothing of its own
    torch.manual_seed(0)
    model = _ScaledByHook()
    with GradientMonitor(model, record_sites=record_sites) as monitor, \
            np.errstate(all="ignore"):
        F.cross_entropy(model(torch.randn(8, 4)), torch.tensor([0, 1] * 4)).backward()
        findings = monitor.step()
    assert not np.isfinite(model.fc.weight.grad.numpy()).all()
    origin = next(f for f in findings if f.rule == "nonfinite").origin
    assert (origin.op, origin.pass_, origin.kind, origin.in_hook) == (
        "Mul", "backward", "inf", True)
    assert origin.line == _line_of("# SCALE HOOK LINE") and origin.layer == "fc"


class _MaskedHead(nn.Module):
    """Five classes, the last two masked to -inf by the model, on purpose."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)
        self.register_buffer("allowed", torch.arange(5) < 3)

    def forward(self, x):
        return self.fc(x).masked_fill(~self.allowed, float("-inf"))


_MASKED_LOSSES = {  # each picks the target's log-probability its own way
    "CrossEntropy": lambda z, y: F.cross_entropy(z, y),
    "NllLoss": lambda z, y: F.nll_loss(F.log_softmax(z, dim=-1), y),
    "Gather": lambda z, y: -F.log_softmax(z, dim=-1).gather(1, y[:, None]).mean(),
    "Index": lambda z, y: -F.log_softmax(z, dim=-1)[torch.arange(8), y].mean(),
}


def _masked_step(loss_fn, targets, record_sites=False, model=None):
    torch.manual_seed(0)
    model = model or _MaskedHead()
    with GradientMonitor(model, record_sites=record_sites) as monitor, \
            np.errstate(all="ignore"):
        loss = loss_fn(model(torch.randn(8, 4)), torch.tensor(targets))
        loss.backward()
        return loss, monitor.step(loss)


@pytest.mark.parametrize("record_sites", [False, True])
@pytest.mark.parametrize("op", sorted(_MASKED_LOSSES))
def test_a_target_in_a_class_the_model_masks_to_minus_inf_is_the_loss_ops(op, record_sites):
    # the model placed the -inf on purpose: neither "unknown" nor data from outside
    loss, findings = _masked_step(_MASKED_LOSSES[op], [0, 1, 2, 4, 0, 1, 2, 0], record_sites)
    assert loss.item() == float("inf")
    (finding,) = [f for f in findings if f.rule == "nonfinite"]
    origin = finding.origin
    assert (origin.op, origin.pass_, origin.kind, origin.in_loss, origin.from_mask) == (
        op, "forward", "inf", True, True)
    line = next(i for i, text in enumerate(open(__file__), 1)
                if f'"{op}": lambda' in text)
    assert origin.line == line
    assert "a target whose logit is -inf" in finding.message
    assert "in the loss computation" in finding.message


@pytest.mark.parametrize("op", sorted(_MASKED_LOSSES))
def test_minus_inf_masks_with_targets_they_allow_are_silent(op):
    loss, findings = _masked_step(_MASKED_LOSSES[op], [0, 1, 2, 1, 0, 1, 2, 0])
    assert np.isfinite(loss.item()) and findings == []


def test_an_inf_class_weight_with_masked_logits_is_still_data_from_outside():
    weight = torch.tensor([1.0, 1.0, float("inf"), 1.0, 1.0])
    _, findings = _masked_step(lambda z, y: F.cross_entropy(z, y, weight=weight),
                               [0, 1, 2, 1, 0, 1, 2, 0])
    (finding,) = [f for f in findings if f.rule == "nonfinite"]
    assert (finding.origin.op, finding.origin.entered_at) == ("data", "CrossEntropy")


def test_a_mask_times_a_one_hot_gives_birth_to_nan_at_the_product():
    # -inf * 0 for every masked class that is not the target: born there, not data
    _, findings = _masked_step(
        lambda z, y: -(F.log_softmax(z, dim=-1) * F.one_hot(y, 5)).sum(-1).mean(),
        [0, 1, 2, 1, 0, 1, 2, 0])
    (finding,) = [f for f in findings if f.rule == "nonfinite"]
    assert (finding.origin.op, finding.origin.kind, finding.origin.in_loss) == (
        "Mul", "nan", True)


def test_the_tracer_carries_a_mask_through_and_names_the_op_that_picks_it():
    z = torch.randn(4, 5)
    mask = torch.arange(5) >= 3
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        logp = F.log_softmax(z.masked_fill(mask, float("-inf")), dim=-1)
        logp.reshape(20).reshape(4, 5)[:, :4].t()  # views and copies carry it
        assert tracer.mask_made is None
        picked = logp.gather(1, torch.tensor([[0], [3], [1], [2]]))  # PICK LINE
    assert tracer.origin is None  # nothing was born: -inf in, -inf out
    assert not np.isfinite(picked.numpy()).all()
    made = tracer.mask_made
    assert (made.op, made.pass_, made.from_mask) == ("Gather", "forward", True)
    assert made.line == _line_of("# PICK LINE")


def test_a_masked_models_other_birth_is_not_hidden_behind_its_mask():
    class MaskedRoot(_MaskedHead):
        def forward(self, x):
            h = self.fc(x)
            h = (h * (h > 0)).sqrt()  # MASKED ROOT LINE
            return h.masked_fill(~self.allowed, float("-inf"))

    loss, findings = _masked_step(_MASKED_LOSSES["CrossEntropy"], [0, 1, 2, 1, 0, 1, 2, 0],
                                  model=MaskedRoot())
    assert np.isfinite(loss.item())  # the masked output was "unknown, nan" in the forward
    (finding,) = [f for f in findings if f.rule == "nonfinite"]
    assert (finding.origin.op, finding.origin.pass_) == ("Sqrt", "backward")
    assert finding.origin.line == _line_of("# MASKED ROOT LINE")


class _AdditiveMask(nn.Module):
    """Logits plus an additive mask given with the input (0 where kept, -inf where masked)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 5)

    def forward(self, x, vocab_mask):
        return self.fc(x) + vocab_mask


@pytest.mark.parametrize("record_sites", [False, True])
def test_an_additive_mask_given_to_the_model_is_neither_its_input_data_nor_unknown(record_sites):
    mask = torch.zeros(5)
    mask[3:] = float("-inf")
    model = _AdditiveMask()
    torch.manual_seed(0)
    with GradientMonitor(model, record_sites=record_sites) as monitor, \
            np.errstate(all="ignore"):
        logits = model(torch.randn(8, 4), mask)
        loss = F.cross_entropy(logits, torch.tensor([0, 3] * 4))  # ADD LINE
        loss.backward()
        (finding,) = [f for f in monitor.step(loss) if f.rule == "nonfinite"]
    origin = finding.origin
    assert (origin.op, origin.in_loss, origin.from_mask) == ("CrossEntropy", True, True)
    assert origin.line == _line_of("# ADD LINE")


def test_rows_selected_before_the_loss_still_carry_the_mask():
    # dropping ignored positions (logits[valid]) keeps whole rows of classes: still a mask, and
    # the loss that picks a masked class is named, not the selection
    targets = torch.tensor([0, 3, 1, 2, -100, 1, 2, -100])
    valid = targets != -100
    _, findings = _masked_step(lambda z, y: F.cross_entropy(z[valid], y[valid]),  # VALID ROWS
                               targets.tolist())
    (finding,) = [f for f in findings if f.rule == "nonfinite"]
    assert (finding.origin.op, finding.origin.from_mask) == ("CrossEntropy", True)
    assert finding.origin.line == _line_of("# VALID ROWS")


_FINITE_LOSSES = {
    "CrossEntropy": lambda x, y, c: F.cross_entropy(x, c, label_smoothing=0.1),
    "NllLoss": lambda x, y, c: F.nll_loss(x, c),
    "BinaryCrossEntropyWithLogits": lambda x, y, c: F.binary_cross_entropy_with_logits(
        x, y.sigmoid(), pos_weight=torch.full((5,), 3.0)),
    "MseLoss": lambda x, y, c: F.mse_loss(x, y),
    "L1Loss": lambda x, y, c: F.l1_loss(x, y),
    "SmoothL1Loss": lambda x, y, c: F.smooth_l1_loss(x, y),
    "HuberLoss": lambda x, y, c: F.huber_loss(x, y, delta=0.5),
    "Sum": lambda x, y, c: (x - y).sum(),
}


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e15, 1e19, 1e30])
@pytest.mark.parametrize("op", sorted(_FINITE_LOSSES))
def test_the_loss_ops_left_unhooked_make_finite_gradients_wherever_their_forward_is_finite(
        op, scale):
    """The watch does not hook these loss ops' backward (watch._FINITE_BACKWARD): the claim is
    that from finite inputs, a finite forward and a finite incoming gradient their backward
    gives only finite gradients, at any scale the inputs reach before the forward overflows."""
    from chainrule.diagnostics.watch import _FINITE_BACKWARD

    assert set(_FINITE_LOSSES) == set(_FINITE_BACKWARD)
    rng = np.random.default_rng(0)
    for trial in range(20):
        x = torch.from_numpy((rng.standard_normal((6, 5)) * scale).astype(np.float32))
        x.requires_grad_()
        y = torch.from_numpy((rng.standard_normal((6, 5)) * scale).astype(np.float32))
        classes = torch.from_numpy(rng.integers(0, 5, 6))
        with np.errstate(all="ignore"):
            loss = _FINITE_LOSSES[op](x, y, classes)
            assert type(loss.grad_fn).__name__ == op
            if not np.isfinite(loss.item()):
                continue  # (found in the forward, where the watch checks every loss op)
            for incoming in (1.0, 65536.0, 1e-30):
                (grad,) = torch.autograd.grad(loss, [x], torch.tensor(incoming),
                                              retain_graph=True)
                assert np.isfinite(grad.numpy()).all(), (op, scale, trial, incoming)


def test_the_watch_hooks_a_loss_op_whose_backward_can_give_birth_and_not_the_others():
    model = nn.Linear(5, 5)
    x, y = torch.randn(6, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    with GradientMonitor(model):
        out = model(x)
        safe = F.cross_entropy(out, y)
        risky = out.abs().sqrt().sum()  # sqrt's backward at 0 is inf
        assert safe.grad_fn._node_hooks is None
        assert risky.grad_fn.next_functions[0][0]._node_hooks  # the Sqrt


def _scores(row):
    """A (1, 2, 3) batch of attention scores: a finite row, then ``row``."""
    return torch.tensor([[[0.5, -1.0, 2.0], row]])


MASKED, CAUSAL = float("-inf"), float("inf")


@pytest.mark.parametrize("make, cause", [
    (lambda: _scores([MASKED] * 3).softmax(-1), "masked_row"),
    (lambda: F.log_softmax(_scores([MASKED] * 3), -1) * 0.0, "masked_row"),
    (lambda: _scores([0.0, 1.0, CAUSAL]).softmax(-1), "plus_inf"),
    (lambda: F.scaled_dot_product_attention(  # key_padding_mask-style: every key hidden
        torch.ones(1, 2, 4), torch.ones(1, 3, 4), torch.ones(1, 3, 4),
        attn_mask=torch.zeros(1, 2, 3, dtype=torch.bool)), "masked_row"),
    (lambda: torch.ones(3) / torch.tensor([1.0, 0.0, 2.0]), "zero_divisor"),
    # 0 / 0: returns all equal standardised by their std, a zero vector by its norm
    (lambda: (torch.ones(8) - torch.ones(8).mean()) / torch.ones(8).std(), "zero_by_zero"),
    (lambda: torch.zeros(2, 3) / torch.zeros(2, 3).norm(dim=-1, keepdim=True), "zero_by_zero"),
    # a nonzero value over the 0 beside the 0 / 0: an x / 0 still
    (lambda: torch.tensor([0.0, 1.0]) / torch.zeros(2), "zero_divisor"),
    # three frames for three labels with a repeat (1, 1 needs a blank between: four frames)
    (lambda: F.ctc_loss(F.log_softmax(torch.zeros(3, 1, 3), -1), torch.tensor([[1, 1, 2]]),
                        torch.tensor([3]), torch.tensor([3])), "ctc_unalignable"),
    (lambda: F.layer_norm(torch.zeros(2, 4), (4,), eps=0.0), "eps_zero"),
    (lambda: F.group_norm(torch.ones(2, 4, 3), 2, eps=0.0), "eps_zero"),
    (lambda: F.pad(torch.ones(1, 2, 3), (4, 4), value=MASKED), "infinite_pad"),
])
def test_a_forward_birth_names_what_its_inputs_show(make, cause):
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        make()
    assert tracer.origin.pass_ == "forward" and tracer.origin.cause == cause
    assert nonfinite._CAUSES[cause][1] in nonfinite.explain(tracer.origin)


@pytest.mark.parametrize("make", [
    lambda: torch.log(torch.zeros(2)),  # no input tells: the general remedy
    lambda: torch.exp(torch.tensor([1000.0])) / torch.tensor([2.0]),  # exp overflowed, not Div
    lambda: torch.tensor([3e38]) / torch.tensor([1e-10]),  # a quotient too large, no 0
    lambda: _scores([MASKED, 0.0, 1.0]).softmax(-1).log(),  # a row partly masked: log(0)
    lambda: F.pad(torch.tensor([[1e38]]), (1, 1)) * 10.0,  # padded with 0: the product overflows
])
def test_a_birth_whose_inputs_do_not_tell_keeps_the_general_remedy(make):
    with NonFiniteTracer() as tracer, np.errstate(all="ignore"):
        make()
    assert tracer.origin is not None and tracer.origin.cause is None


def test_a_birth_in_the_loss_names_what_its_inputs_show():
    """The loss's ops are watched live (not traced again): a masked mean whose batch holds no
    labelled position divides 0 by a count of 0, and the finding says so, with the remedy for
    it, at the line of the division."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    x, y = torch.randn(6, 4), torch.randn(6, 1)
    with GradientMonitor(model) as monitor, np.errstate(all="ignore"):
        for labelled in (torch.ones(6, 1), torch.zeros(6, 1)):
            error = (model(x) - y) ** 2 * labelled
            loss = error.sum() / labelled.sum()  # NAN: masked mean
            loss.backward()
            monitor.step(loss)
    (finding,) = monitor.findings
    assert (finding.origin.op, finding.origin.pass_, finding.origin.in_loss) == (
        "Div", "forward", True)
    assert finding.origin.cause == "zero_by_zero"  # (the masked errors summed are 0 too)
    assert "its divisor holds 0" in finding.message and "a mean over no entries" in finding.message
    lines = open(__file__).read().splitlines()
    marked = next(i for i, line in enumerate(lines, 1) if line.endswith("# NAN: masked mean"))
    assert (finding.origin.file, finding.origin.line) == (__file__, marked)
