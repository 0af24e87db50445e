"""A run's status follows from what is on disk: run.json says "running" until the run records
how it ended, and a run killed outright (SIGKILL, out of memory, a power cut) never does; its
lock, which the kernel drops with the process, tells the two apart."""

import fcntl
import json
import os

import pytest

from chainrule.cli import main
from chainrule.train import runlock
from chainrule.train.runlock import RunLock, is_held

from .runs import TINY, without_plots


@pytest.fixture
def run(tmp_path):
    with without_plots():
        assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY, "--epochs",
                     "1"]) == 0
    return tmp_path / "run"


def listed_status(capsys, run):
    assert main(["runs", str(run.parent)]) == 0
    out = capsys.readouterr().out
    return out.splitlines()[1].split()[-3], out  # the status column, before the date's two


def as_left_by_sigkill(run):
    record = json.loads((run / "run.json").read_text())
    record["status"] = "running"  # what a process killed mid-run leaves behind
    (run / "run.json").write_text(json.dumps(record))


def test_a_run_recorded_as_running_whose_lock_nobody_holds_was_killed(run, capsys):
    as_left_by_sigkill(run)
    status, out = listed_status(capsys, run)
    assert status == "killed", out
    assert f"continue it with: chainrule train --resume {run}" in out
    lock = RunLock(run).acquire()  # a process training in it
    try:
        assert is_held(run) is True
        assert listed_status(capsys, run)[0] == "running"
    finally:
        lock.release()
    assert is_held(run) is False


def test_a_finished_run_stays_finished_and_needs_no_resume(run, capsys):
    status, out = listed_status(capsys, run)
    assert status == "finished" and "--resume" not in out


def test_a_trainer_starting_during_a_status_probe_waits_for_it(run, monkeypatch):
    probe = os.open(run / "lock", os.O_RDONLY)
    fcntl.flock(probe, fcntl.LOCK_SH)  # `chainrule runs` asking, at that very instant

    waited = []

    def probe_lets_go(seconds):
        waited.append(seconds)
        os.close(probe)  # the probe is done: closing lets go of its lock
        monkeypatch.setattr(runlock.time, "sleep", lambda seconds: None)

    monkeypatch.setattr(runlock.time, "sleep", probe_lets_go)
    RunLock(run).acquire().release()
    assert waited  # it waited rather than report the run in use
