"""A run interrupted at any phase of a step -- killed with SIGKILL, or stopped with Ctrl-C --
and resumed ends bit-identical to a run that was never interrupted.

The interruptions are placed exactly by the test hook of train/faults.py
(CHAINRULE_FAULT=PHASE@STEP:SIGNAL makes the run signal itself there): nothing here sleeps or
watches the clock."""

import json
import os
import signal
import subprocess

import pytest

from chainrule.cli import main
from chainrule.train.faults import VARIABLE

from .runs import TINY, assert_same_run, command, without_plots


@pytest.fixture(autouse=True, scope="module")
def _no_plots():
    with without_plots():
        yield


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    assert main(["train", "--out", str(out), "--name", "run", *TINY]) == 0
    return out / "run"


def launch(args, fault=None):
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    if fault:
        env[VARIABLE] = fault
    return subprocess.run(command(*args), env=env, capture_output=True, text=True, timeout=600)


# (fault, what the next resume must report); each resume continues from the newest checkpoint
# before the point of the previous kill: step 0, 3, 3, 6, 6, 9
KILLS = [
    ("data@1:KILL", "from step-000000000"),  # before the first step: the early checkpoint
    ("forward@4:KILL", "from step-000000003"),
    ("backward@5:KILL", "from step-000000003"),
    ("best@6:KILL", "restored best.safetensors"),  # step-6 written, best not yet updated
    ("optimizer@8:KILL", "from step-000000006"),  # the update applied, the step not counted
    ("checkpoint@9:KILL", "removed .step-000000009.safetensors"),  # a torn temporary file
]


def test_sigkill_at_every_phase_then_resume_matches_the_uninterrupted_run(tmp_path, reference,
                                                                           capsys):
    run = tmp_path / "run"
    first = launch(["train", "--out", str(tmp_path), "--name", "run", *TINY], KILLS[0][0])
    assert first.returncode == -signal.SIGKILL, first.stderr
    # run.json still says running; `runs` sees that no process holds the run's lock
    assert json.loads((run / "run.json").read_text())["status"] == "running"
    assert main(["runs", str(tmp_path)]) == 0
    assert "killed" in capsys.readouterr().out.splitlines()[1]
    for (_, expected), (next_fault, _) in zip(KILLS, KILLS[1:] + [(None, None)]):
        resumed = launch(["train", "--resume", str(run), "--quiet"], next_fault)
        assert expected in resumed.stdout, resumed.stdout + resumed.stderr
        assert resumed.returncode == (-signal.SIGKILL if next_fault else 0), resumed.stderr
    assert_same_run(run, reference)
    assert not [p for p in run.rglob(".*.tmp")]


PHASES = ["data@2", "forward@4", "backward@5", "optimizer@7", "checkpoint@9", "best@6"]


def test_ctrl_c_at_every_phase_finishes_the_step_saves_it_and_resumes_bit_exact(
        tmp_path, reference, monkeypatch, capsys):
    run = tmp_path / "run"
    monkeypatch.setenv(VARIABLE, f"{PHASES[0]}:INT")
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY]) == 130
    for phase in sorted(PHASES[1:], key=lambda p: int(p.split("@")[1])):
        monkeypatch.setenv(VARIABLE, f"{phase}:INT")
        step = int(phase.split("@")[1])
        assert main(["train", "--resume", str(run), "--quiet"]) == 130
        out = capsys.readouterr().out
        # the step during which Ctrl-C came was completed and saved (an epoch's last step is
        # followed by its evaluation and checkpoint first)
        assert f"step {step} finished and saved" in out, out
    monkeypatch.delenv(VARIABLE)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert_same_run(run, reference)


def test_a_second_ctrl_c_stops_at_once_without_saving_and_the_run_still_resumes(
        tmp_path, reference, monkeypatch, capsys):
    run = tmp_path / "run"
    monkeypatch.setenv(VARIABLE, "optimizer@5:INT2")  # mid-step: the update is half done
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY]) == 130
    assert "stopped at once" in capsys.readouterr().out
    assert not (run / "checkpoints" / "step-000000005.safetensors").exists()
    monkeypatch.delenv(VARIABLE)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "from step-000000003" in capsys.readouterr().out
    assert_same_run(run, reference)


def test_sigterm_stops_as_ctrl_c_does_with_status_143_and_the_run_resumes_bit_exact(
        tmp_path, reference, monkeypatch, capsys):
    run = tmp_path / "run"
    monkeypatch.setenv(VARIABLE, "optimizer@4:TERM")  # kill, systemd, Slurm, Docker
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY]) == 143
    assert "interrupted: step 4 finished and saved" in capsys.readouterr().out
    assert (run / "checkpoints" / "step-000000004.safetensors").exists()
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    # a second SIGTERM (a service manager that insists) stops at once, here between writing
    # step-6 and updating best.safetensors
    monkeypatch.setenv(VARIABLE, "best@6:TERM2")
    assert main(["train", "--resume", str(run), "--quiet"]) == 143
    assert "stopped at once" in capsys.readouterr().out
    monkeypatch.delenv(VARIABLE)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "restored best.safetensors" in capsys.readouterr().out
    assert_same_run(run, reference)
