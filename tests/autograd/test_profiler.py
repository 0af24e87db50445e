"""The profiler: which ops, nodes and ranges it records, how their times nest, the schedule's
steps, and the files it writes; and that it leaves nothing behind when it stops."""

import gzip
import json

import numpy as np
import pytest

import chainrule
from chainrule import nn
from chainrule.autograd import engine
from chainrule.autograd.function import Function
from chainrule.profiler import (
    ProfilerAction,
    profile,
    record_function,
    schedule,
    tensorboard_trace_handler,
)


def _model():
    chainrule.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))


def _averages(prof, **options):
    return {event.key: event for event in prof.key_averages(**options)}


def test_ops_backward_nodes_and_ranges_are_counted():
    model, x = _model(), chainrule.randn(4, 8)
    with profile() as prof:
        for _ in range(3):
            with record_function("forward"):
                loss = model(x).sum()
            with record_function("backward"):
                loss.backward()
    averages = _averages(prof)
    assert averages["Linear"].count == 6 and averages["Tanh"].count == 3
    assert averages["LinearBackward"].count == 6 and averages["TanhBackward"].count == 3
    assert averages["forward"].count == 3 and averages["backward"].count == 3
    # every op of the forward pass ran inside a "forward" range, every node inside "backward"
    forward_ops = sum(averages[k].cpu_time_total for k in ("Linear", "Tanh", "Sum"))
    assert forward_ops <= averages["forward"].cpu_time_total
    assert averages["LinearBackward"].cpu_time_total <= averages["backward"].cpu_time_total
    for event in prof.events():
        children = sum(child.cpu_time_total for child in event.cpu_children)
        assert event.self_cpu_time_total == pytest.approx(event.cpu_time_total - children)
        assert event.self_cpu_time_total >= 0


def test_an_op_made_of_ops_gets_the_time_of_its_own_work_as_self_time():
    class DoubleExp(Function):  # forward runs two more ops inside it
        @staticmethod
        def forward(ctx, x):
            return x.exp().exp()

        @staticmethod
        def backward(ctx, grad):
            return grad

    with profile() as prof:
        DoubleExp.apply(chainrule.ones(3, requires_grad=True))
    (outer,) = [e for e in prof.events() if e.name == "DoubleExp"]
    assert sorted(child.name for child in outer.cpu_children) == ["Exp", "Exp"]
    inner = sum(child.cpu_time_total for child in outer.cpu_children)
    assert outer.self_cpu_time_total == pytest.approx(outer.cpu_time_total - inner)


def test_ops_recorded_under_create_graph_nest_in_their_backward_node():
    x = chainrule.randn(5, requires_grad=True)
    with profile() as prof:
        (grad,) = chainrule.autograd.grad((x ** 3).sum(), x, create_graph=True)
    pow_nodes = [e for e in prof.events() if e.name == "PowBackward"]
    assert len(pow_nodes) == 1 and pow_nodes[0].cpu_children  # its backward's own ops
    assert grad.requires_grad


def test_shapes_memory_and_stack_when_asked():
    model, x = _model(), chainrule.randn(4, 8)
    with profile(record_shapes=True, profile_memory=True, with_stack=True) as prof:
        model(x)
    shapes = _averages(prof, group_by_input_shape=True)
    first = [a for a in prof.key_averages(group_by_input_shape=True) if a.key == "Linear"]
    assert {a.input_shapes for a in first} == {"[[4, 8], [16, 8], [16]]",
                                               "[[4, 16], [2, 16], [2]]"}
    assert shapes["Tanh"].cpu_memory_usage == 4 * 16 * 4  # its output, float32
    linear = next(e for e in prof.events() if e.name == "Linear")
    assert "test_profiler.py" in linear.stack[0]


def test_the_schedule_steps_as_pytorch_documents():
    steps = schedule(wait=1, warmup=1, active=2, repeat=1)
    A = ProfilerAction
    assert [steps(i) for i in range(6)] == [A.NONE, A.WARMUP, A.RECORD, A.RECORD_AND_SAVE,
                                            A.NONE, A.NONE]
    skipping = schedule(skip_first=2, wait=0, warmup=0, active=1)
    assert [skipping(i) for i in range(4)] == [A.NONE, A.NONE, A.RECORD_AND_SAVE,
                                               A.RECORD_AND_SAVE]
    model, x, ready = _model(), chainrule.randn(4, 8), []
    with profile(schedule=steps, on_trace_ready=lambda p: ready.append(p.key_averages())) as p:
        for _ in range(6):
            model(x).sum().backward()
            p.step()
    assert len(ready) == 1
    window = {a.key: a for a in ready[0]}
    assert window["Linear"].count == 4  # two recorded steps, two Linear each
    assert window["ProfilerStep#2"].count == 1 and window["ProfilerStep#3"].count == 1


def test_the_table_lists_what_was_recorded_sorted():
    model, x = _model(), chainrule.randn(4, 8)
    with profile() as prof:
        model(x).sum().backward()
    text = prof.key_averages().table(sort_by="cpu_time_total", row_limit=3)
    lines = text.splitlines()
    assert lines[1].split()[:4] == ["Name", "Self", "CPU", "%"]
    assert len(lines) == 3 + 3 + 2  # rules and header, three rows, rule and total
    totals = sorted((a.cpu_time_total for a in prof.key_averages()), reverse=True)
    assert lines[3].split()[0] in {a.key for a in prof.key_averages()
                                   if a.cpu_time_total == totals[0]}
    assert lines[-1].startswith("Self CPU time total: ")


def test_chrome_traces_and_the_tensorboard_handler(tmp_path):
    model, x = _model(), chainrule.randn(4, 8)
    handler = tensorboard_trace_handler(str(tmp_path / "log"), worker_name="w", use_gzip=True)
    with profile(on_trace_ready=handler) as prof:
        model(x).sum().backward()
    prof.export_chrome_trace(str(tmp_path / "trace.json"))
    trace = json.loads((tmp_path / "trace.json").read_text())["traceEvents"]
    assert len(trace) == len(prof.events())
    assert {e["name"] for e in trace} >= {"Linear", "LinearBackward", "Tanh"}
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in trace)
    (written,) = list((tmp_path / "log").iterdir())
    assert written.name.startswith("w.") and written.name.endswith(".pt.trace.json.gz")
    assert len(json.loads(gzip.decompress(written.read_bytes()))["traceEvents"]) == len(trace)


def test_nothing_stays_behind_and_nothing_is_recorded_outside():
    plain_apply = Function.__dict__["apply"]
    observers = (list(engine._observers), list(engine._start_observers),
                 list(engine._end_observers))
    with profile() as prof:
        chainrule.ones(2).exp()
    chainrule.ones(2).exp()  # after the block: not recorded
    assert Function.__dict__["apply"] is plain_apply
    assert (engine._observers, engine._start_observers, engine._end_observers) == observers
    assert _averages(prof)["Exp"].count == 1
    with record_function("ignored"):  # no profiler: a range costs nothing and records nothing
        pass


def test_the_older_api_and_its_switch():
    with chainrule.autograd.profiler.profile(use_cuda=False) as prof:
        chainrule.ones(2).exp()
    assert prof.table().count("Exp") == 1
    with chainrule.autograd.profiler.profile(enabled=False) as off:
        chainrule.ones(2).exp()
    with pytest.raises(RuntimeError, match="nothing recorded"):
        off.key_averages()


def test_one_profile_at_a_time_and_ranges_as_decorators():
    @record_function("helper")
    def helper(x):
        return x * 2

    with profile() as prof:
        with pytest.raises(RuntimeError, match="already recording"):
            profile().start()
        np.testing.assert_array_equal(helper(chainrule.ones(2)).numpy(), [2.0, 2.0])
    assert _averages(prof)["helper"].count == 1
