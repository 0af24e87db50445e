"""Whole PyTorch-style training programs (written for this corpus, in the style of real
scripts) run unchanged with ``import torch`` giving chainrule; their losses over the first
steps match PyTorch 2.13's from the same initial weights (recorded by bench/record_corpus.py,
float64 where the case says so)."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule

from ..torch_alias import torch_is_chainrule
from .cases import CASES
from .harness import PROGRAMS, run_program

RECORDED = json.loads((Path(__file__).parent / "torch_losses.json").read_text())


def test_every_program_has_a_case_and_a_recording():
    programs = sorted(p.stem for p in PROGRAMS.glob("*.py"))
    assert programs == sorted(CASES) == sorted(RECORDED)
    assert len(programs) >= 12


@pytest.mark.parametrize("name", sorted(CASES))
def test_losses_match_pytorch(name, tmp_path):
    case, recorded = CASES[name], RECORDED[name]
    assert recorded["args"] == case["args"], "re-record: bench/record_corpus.py " + name
    with torch_is_chainrule():
        losses, _ = run_program(chainrule, name, case["args"], float64=case["float64"],
                                workdir=tmp_path)
    expected = recorded["losses"]
    assert len(losses) == len(expected) > 0
    rtol = 1e-6 if case["float64"] else 2e-3
    np.testing.assert_allclose(losses, expected, rtol=rtol, atol=rtol * 1e-2, err_msg=name)


@pytest.mark.parametrize("name", sorted(n for n in CASES if "smoke" in CASES[n]))
def test_runs_with_its_random_parts_on(name, tmp_path):
    with torch_is_chainrule():
        losses, printed = run_program(chainrule, name, CASES[name]["smoke"], float64=False,
                                      workdir=tmp_path)
    assert losses and np.all(np.isfinite(losses)) and printed
