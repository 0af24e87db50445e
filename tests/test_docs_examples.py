"""Every ``>>>`` example runs as a test: those in the package's docstrings and in docs/*.md.

An example runs with ``chainrule`` (also as ``torch``), ``nn``, ``F`` and ``np`` at hand, in
a fresh temporary directory (an example may write a file), and with grad mode, the default
dtype and the random seed reset around it, so that examples stay independent of each other.
Code that cannot run in a test (it needs MPI, or several processes) is written as a plain code
block, not as a ``>>>`` example.
"""

import doctest
import importlib
import pkgutil
from pathlib import Path

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional

DOCS = Path(__file__).resolve().parents[1] / "docs"
RUN_ON_IMPORT = ("chainrule.__main__", "chainrule.as_torch")  # importing them does the work
OPTIONS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _globals():
    return {"chainrule": chainrule, "torch": chainrule, "nn": chainrule.nn,
            "F": chainrule.nn.functional, "np": np}


def _docstring_examples():
    finder = doctest.DocTestFinder(exclude_empty=True)
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name in RUN_ON_IMPORT:
            continue
        module = importlib.import_module(info.name)
        for test in finder.find(module, module.__name__, extraglobs=_globals()):
            if test.examples:
                yield test


def _document_examples():
    parser = doctest.DocTestParser()
    for path in sorted(DOCS.glob("*.md")):
        # a code fence ends an example's expected output, as a blank line would
        lines = path.read_text(encoding="utf-8").splitlines()
        text = "\n".join("" if line.startswith("```") else line for line in lines)
        test = parser.get_doctest(text, _globals(), f"docs/{path.name}", str(path), 0)
        if test.examples:
            yield test


EXAMPLES = {test.name: test for test in [*_docstring_examples(), *_document_examples()]}


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dtype, grad = chainrule.get_default_dtype(), chainrule.is_grad_enabled()
    chainrule.manual_seed(0)
    yield
    chainrule.set_default_dtype(dtype)
    chainrule.set_grad_enabled(grad)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_as_written(name, isolated):
    test = EXAMPLES[name]
    test.globs = dict(test.globs)  # the runner clears them afterwards; keep the originals
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    report = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)


def test_the_examples_are_found():
    assert "chainrule.tensor.Tensor" in EXAMPLES and "docs/engine.md" in EXAMPLES
    assert sum(len(test.examples) for test in EXAMPLES.values()) > 100
