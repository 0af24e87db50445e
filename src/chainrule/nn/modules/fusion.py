"""``nn.Sequential``'s fused steps: a run of ``Linear`` layers, each alone or followed by
``Tanh``, ``Sigmoid`` or ``ReLU``, runs as one op (``ops/linear_chain.py``) with the values and
gradients of the modules run one by one.

A run is fused only while nothing can tell it from the modules: each is of exactly those
classes (a subclass may override anything), none has hooks or a ``forward`` of its own set on
the instance, and no one watches the ops (a forward observer: the diagnostics' non-finite
watch, anomaly mode, the ONNX exporter; the profiler, which replaces ``Function.apply``). The
values between the layers are seen by nobody else inside a Sequential, so the only trace of
the fusion is the graph: the output's node is one ``LinearChainBackward`` whose edges lead to
the run's input and to every weight and bias, where the modules would have made a node each.

An observer that reads a run's values from that node (``LinearChain.hidden``, the activations'
outputs), as the diagnostics' activation probe does, says so with ``read_fused_runs``: it
leaves the runs fused (the values and gradients are the same bit for bit either way).
"""

from ...autograd import function
from ...autograd.function import Function
from ...ops import elementwise
from ...ops.linear_chain import linear_chain
from .activation import ReLU, Sigmoid, Tanh
from .linear import Linear

_ACTIVATION_OPS = {Tanh: elementwise.Tanh, Sigmoid: elementwise.Sigmoid, ReLU: elementwise.Relu}
_PLAIN_APPLY = Function.__dict__["apply"]
_RUN_READERS = []  # forward observers that read fused runs from their node (read_fused_runs)


def plan(modules):
    """The steps of a Sequential of ``modules``: a module, or a run to fuse as
    (modules of the run, its Linear layers, the activation op after each or None); None when
    no run is worth fusing (one Linear alone is already one op)."""
    steps, fused, i = [], False, 0
    while i < len(modules):
        start, linears, ops = i, [], []
        while i < len(modules) and type(modules[i]) is Linear:
            linears.append(modules[i])
            op = _ACTIVATION_OPS.get(type(modules[i + 1])) if i + 1 < len(modules) else None
            ops.append(op)
            i += 1 if op is None else 2
        if len(linears) > 1 or (linears and ops[0] is not None):
            steps.append((tuple(modules[start:i]), tuple(linears), tuple(ops)))
            fused = True
        elif linears:
            steps.append(linears[0])
        else:
            steps.append(modules[i])
            i += 1
    return tuple(steps) if fused else None


def ops_unobserved():
    """Whether no one watches the ops one by one (see the module docstring)."""
    observers = function._forward_observers
    return ((not observers or all(map(_RUN_READERS.__contains__, observers)))
            and Function.__dict__["apply"] is _PLAIN_APPLY)


def read_fused_runs(observer):
    """Let the forward observer ``observer`` see a fused run as its one ``LinearChain`` op
    without turning fusion off. Returns a function that takes that back."""
    _RUN_READERS.append(observer)
    return lambda: _RUN_READERS.remove(observer) if observer in _RUN_READERS else None


def fused_runs(sequential):
    """The runs of ``sequential`` that fuse while no one watches the ops one by one: [(its
    Linear layers, the module of the activation after each or None)]."""
    modules = tuple(sequential._modules.values())
    planned = sequential.__dict__.get("_fusion_plan")  # (kept by Sequential.forward)
    steps = (planned[1] if planned is not None and planned[0] == modules else plan(modules)) or ()
    return [(linears, _activations_after(run)) for run, linears, _ in
            (step for step in steps if type(step) is tuple) if all(map(_quiet, run))]


def _activations_after(run):
    after = []
    for module, following in zip(run, run[1:] + (None,)):
        if type(module) is Linear:
            after.append(following if type(following) in _ACTIVATION_OPS else None)
    return tuple(after)


def run(steps, input):
    """``input`` through the planned steps."""
    for step in steps:
        if type(step) is not tuple:
            input = step(input)
            continue
        modules, linears, ops = step
        if all(map(_quiet, modules)):
            input = linear_chain(input, [(linear.weight, linear.bias) for linear in linears], ops)
        else:
            for module in modules:
                input = module(input)
    return input


def _quiet(module):
    members = module.__dict__
    return not (members["_forward_pre_hooks"] or members["_forward_hooks"]
                or members["_backward_hooks"] or members["_backward_pre_hooks"]
                or "forward" in members)
