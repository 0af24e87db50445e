"""Every differentiable op has a row in some op table.

The ops are the public ``Function`` subclasses defined in the modules of ``chainrule.ops``; the
rows are the ``OpCase`` entries of the ``CASES`` list of any ``tests/**/test_*.py`` module, and
a row exercises the classes named in its ``covers``."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import chainrule.ops
import tests
from chainrule.autograd.function import Function


def _op_classes():
    """Public Function subclasses defined in chainrule.ops (private helper bases excluded)."""
    found = {}
    for info in pkgutil.walk_packages(chainrule.ops.__path__, "chainrule.ops."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, Function) and obj is not Function
                    and obj.__module__ == module.__name__ and not name.startswith("_")):
                found[f"{module.__name__}.{name}"] = obj
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


def test_every_op_has_a_row_in_an_op_table():
    tables, broken = _case_tables()
    assert not broken, "test modules with op tables failed to import:\n  " + "\n  ".join(broken)
    covered = {cls for _, cases in tables for case in cases
               for cls in getattr(case, "covers", ())}
    missing = sorted(name for name, cls in _op_classes().items() if cls not in covered)
    if missing:
        pytest.fail(
            f"{len(missing)} Function class(es) in chainrule.ops have no OpCase row:\n  "
            + "\n  ".join(missing)
            + "\nAdd a row naming each in covers=(...) to the CASES list of its tests/ module.",
            pytrace=False,
        )


def test_covers_name_function_classes():
    tables, _ = _case_tables()
    assert tables, "no CASES tables were found under tests/"
    for module_name, cases in tables:
        for case in cases:
            for cls in getattr(case, "covers", ()):
                assert inspect.isclass(cls) and issubclass(cls, Function), (
                    f"{module_name}: row {case} covers {cls!r}, which is not a Function class"
                )


def test_the_walk_finds_the_basic_families():
    names = _op_classes()
    for expected in ("elementwise.Add", "reduce.Sum", "linalg.MatMul", "shape.Reshape"):
        assert f"chainrule.ops.{expected}" in names
