"""Every op is registered once, reachable where PyTorch has it, and tested by a row.

The ops are what ``chainrule.ops.registry.register`` recorded: a public function, the
``Function`` classes (graph nodes) it applies, and the namespaces it is reachable in. The rows
are the ``OpCase`` entries of the ``CASES`` list of any ``tests/**/test_*.py`` module. Four
rules hold them together:

- every ``Function`` class in ``chainrule.ops`` (and the engine's own ``grad_ops``) has a row
  naming it in ``covers``;
- every ``Function`` class in ``chainrule.ops`` is applied by a registered op (none is
  unreachable);
- every registered op is called directly by some row (found by running the rows, below);
- every op is reachable in each namespace where PyTorch documents it, and in none where
  PyTorch has no such name (``tests/ops/torch_namespaces.json``, recorded from PyTorch by
  ``bench/record_torch_namespaces.py``).
"""

import importlib
import inspect
import json
import pkgutil
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional
import chainrule.ops
import chainrule.special
import tests
from chainrule.autograd import grad_ops
from chainrule.autograd.function import Function
from chainrule.ops import registry
from tests.nn import test_against_pytorch
from tests.opcheck import make_inputs

# Where PyTorch gives one name to two different ops, the one chainrule registers under it is
# the one in the other namespace; the missing one is listed here, with why.
SAME_NAME_OTHER_OP = {}
TORCH_NAMESPACES = json.loads((Path(__file__).parent / "torch_namespaces.json").read_text())
NAMESPACE_OBJECTS = {
    registry.TOP: chainrule,
    registry.METHOD: chainrule.Tensor,
    registry.FUNCTIONAL: chainrule.nn.functional,
    registry.SPECIAL: chainrule.special,
}


def _classes_in(module):
    """Public Function subclasses defined in ``module`` (private helper bases excluded)."""
    return {f"{module.__name__}.{name}": obj for name, obj in vars(module).items()
            if inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
            and obj.__module__ == module.__name__ and not name.startswith("_")}


def _op_classes():
    """Public Function subclasses defined in chainrule.ops and in the engine's grad_ops."""
    found = _classes_in(grad_ops)
    for info in pkgutil.walk_packages(chainrule.ops.__path__, "chainrule.ops."):
        found.update(_classes_in(importlib.import_module(info.name)))
    return found


def _case_tables():
    """(module name, CASES) for every test module under tests/ that defines a CASES list."""
    tables, broken = [], []
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if info.ispkg or not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        path = Path(info.module_finder.path) / (info.name.rsplit(".", 1)[-1] + ".py")
        if "CASES" not in path.read_text(encoding="utf-8"):
            continue  # only modules that may hold a table are imported
        try:
            module = importlib.import_module(info.name)
        except Exception as error:  # a broken table must not hide as "no rows"
            broken.append(f"{info.name}: {type(error).__name__}: {error}")
            continue
        if hasattr(module, "CASES"):
            tables.append((info.name, module.CASES))
    return tables, broken


def _rows():
    tables, broken = _case_tables()
    assert not broken, "test modules with op tables failed to import:\n  " + "\n  ".join(broken)
    return [case for _, cases in tables for case in cases if hasattr(case, "reference")]


def _code_of_each_op():
    """{code object: op name} for the callables of every registered op. A code object shared
    by several ops (a wrapper made by a factory, such as the reflected operators) is left
    out: calls through it are seen at the op it calls."""
    owners = {}
    for op in registry.OPS.values():
        for value in [op.function] + [v for p in op.places.values() for v in p.values()]:
            function = value.fget if isinstance(value, property) else value
            if hasattr(function, "__code__"):
                owners.setdefault(function.__code__, set()).add(op.name)
    return {code: names.pop() for code, names in owners.items() if len(names) == 1}


CODE_OF_EACH_OP = _code_of_each_op()


def _ops_called_directly(call):
    """The registered ops that ``call()`` calls itself (not from inside another op).

    It runs once under a profiler that watches the code of every registered callable: a call
    entered while no registered op is running is one made directly."""
    called, depth = set(), [0]

    def watch(frame, event, arg):
        name = CODE_OF_EACH_OP.get(frame.f_code)
        if name is None:
            return
        if event == "call":
            if depth[0] == 0:
                called.add(name)
            depth[0] += 1
        elif event == "return":
            depth[0] -= 1

    sys.setprofile(watch)
    try:
        call()
    finally:
        sys.setprofile(None)
    return called


def _row_call(case):
    tensors = [chainrule.from_numpy(a) for a in make_inputs(case)]
    return lambda: case.op(*tensors)


def _recorded_case_call(case):
    return lambda: test_against_pytorch.evaluate(case)


# -- rows ----------------------------------------------------------------------------------------
def test_every_op_class_has_a_row_in_an_op_table():
    covered = {cls for case in _rows() for cls in getattr(case, "covers", ())}
    missing = sorted(name for name, cls in _op_classes().items() if cls not in covered)
    if missing:
        pytest.fail(
            f"{len(missing)} Function class(es) have no OpCase row:\n  " + "\n  ".join(missing)
            + "\nAdd a row naming each in covers=(...) to the CASES list of its tests/ module.",
            pytrace=False,
        )


def test_every_registered_op_is_called_by_a_row():
    # The op table's rows, and the cases recorded from PyTorch (tests/nn/torch_layers.json:
    # forward and gradients against PyTorch's float64 results) count alike.
    called = set()
    for case in _rows():
        called |= _ops_called_directly(_row_call(case))
    for case in test_against_pytorch.FIXTURE.values():
        called |= _ops_called_directly(_recorded_case_call(case))
    missing = sorted(set(registry.OPS) - called)
    if missing:
        pytest.fail(
            f"{len(missing)} registered op(s) are called directly by no OpCase row:\n  "
            + "\n  ".join(missing) + "\nAdd a row that calls each (chainrule.X, Tensor.X or "
            "nn.functional.X) to the CASES list of its tests/ module.",
            pytrace=False,
        )


def test_the_row_finder_sees_direct_calls_only():
    rows = {case.name: case for case in _rows()}
    assert _ops_called_directly(_row_call(rows["add"])) == {"add"}
    # mean divides a sum: the sum runs inside mean, so the row calls only mean directly
    assert _ops_called_directly(_row_call(rows["mean_dims"])) == {"mean"}


def test_every_registered_op_has_code_of_its_own():
    # the row finder tells ops apart by their code: a function made by a factory would hide
    shared = sorted(op.name for op in registry.OPS.values()
                    if op.function.__code__ not in CODE_OF_EACH_OP)
    assert not shared, "ops whose function shares its code with another op: " + ", ".join(shared)


def test_covers_name_function_classes():
    tables, _ = _case_tables()
    assert tables, "no CASES tables were found under tests/"
    for module_name, cases in tables:
        for case in cases:
            for cls in getattr(case, "covers", ()):
                assert inspect.isclass(cls) and issubclass(cls, Function), (
                    f"{module_name}: row {case} covers {cls!r}, which is not a Function class"
                )


# -- registration --------------------------------------------------------------------------------
def test_every_op_class_is_applied_by_a_registered_op():
    # grad_ops' classes are the engine's own (Accumulate, and Cast behind Tensor.to); those of
    # them that are public ops register from chainrule.ops like any other
    registered = {cls for op in registry.OPS.values() for cls in op.classes}
    missing = sorted(name for name, cls in _op_classes().items()
                     if cls not in registered and cls.__module__ != grad_ops.__name__)
    assert not missing, (
        "Function classes no registered op applies (name them in the register(...) line of "
        "the op that uses them):\n  " + "\n  ".join(missing)
    )


def test_registering_vouches_for_the_classes_as_built_in_ops():
    for op in registry.OPS.values():
        for cls in op.classes:
            assert cls._builtin_op, f"{cls.__name__} (registered by {op.name}) is not vouched"


def test_an_op_registers_once():
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(chainrule.exp)


def test_the_walk_finds_the_basic_families():
    names = _op_classes()
    for expected in ("ops.elementwise.Add", "ops.reduce.Sum", "ops.linalg.MatMul",
                     "ops.shape.Reshape", "autograd.grad_ops.SumToSize"):
        assert f"chainrule.{expected}" in names


# -- reachability --------------------------------------------------------------------------------
def test_every_op_is_reachable_where_it_is_registered():
    wrong = []
    for op in registry.OPS.values():
        for place, names in op.places.items():
            owner = NAMESPACE_OBJECTS[place]
            for name, value in names.items():
                if inspect.getattr_static(owner, name, None) is not value and (
                        getattr(owner, name, None) is not value):
                    wrong.append(f"{place}.{name}")
    assert not wrong, "registered but not reachable:\n  " + "\n  ".join(wrong)


def test_every_op_is_reachable_as_pytorch_has_it():
    unrecorded, missing, extra = [], [], []
    for op in registry.OPS.values():
        names = {name for place in op.places.values() for name in place}
        for name in sorted(names):
            if name not in TORCH_NAMESPACES:
                unrecorded.append(name)
                continue
            for place, theirs in TORCH_NAMESPACES[name].items():
                ours = name in op.places.get(place, {})
                if theirs == "documented" and not ours:
                    if f"{place}.{name}" not in SAME_NAME_OTHER_OP:
                        missing.append(f"{place}.{name}")
                elif theirs == "absent" and ours:
                    extra.append(f"{place}.{name}")
    assert not unrecorded, (
        "not in tests/ops/torch_namespaces.json; run PYTHONPATH=src python "
        "bench/record_torch_namespaces.py with torch installed:\n  " + "\n  ".join(unrecorded))
    assert not missing, "PyTorch documents these; register them there:\n  " + "\n  ".join(missing)
    assert not extra, "PyTorch has no such names; do not register them:\n  " + "\n  ".join(extra)


def test_operators_are_the_registered_functions():
    x = chainrule.tensor([1.0, -2.0])
    np.testing.assert_array_equal((x + 1).numpy(), chainrule.add(x, 1).numpy())
    np.testing.assert_array_equal((1 - x).numpy(), chainrule.sub(1, x).numpy())
    np.testing.assert_array_equal((7 // x).numpy(), chainrule.floor_divide(7, x).numpy())
    assert chainrule.Tensor.__matmul__ is chainrule.matmul


def test_the_gradgrad_column_documents_each_exception():
    exceptions = {}
    for case in _rows():
        assert case.gradgrad is True or (isinstance(case.gradgrad, str) and case.gradgrad), (
            f"row {case}: gradgrad must be True or a sentence saying why not")
        if case.gradgrad is not True and case.grad:
            exceptions[case.name] = case.gradgrad
    # today the recurrent ops and CTC, whose backwards run on arrays (tests/nn/test_rnn.py,
    # tests/nn/test_ctc.py); every other differentiable row is differentiated twice
    assert sorted({name.split("_")[0] for name in exceptions}) == [
        "ctc", "gru", "lstm", "rnn"], exceptions
