"""Checkpoints you can trust: a damaged, foreign or forged newest checkpoint is reported and
skipped (--resume goes on from the previous one, bit-exact), never used and never a crash;
eval and sample refuse it with exit 2 and the file's name; the best checkpoint follows from what
is on disk; one process at a time trains in a run directory."""

import os
import pickle
import shutil
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train.runlock import RunLock

from .owndata_files import write_image_folder, write_series, write_table
from .runs import TINY, assert_same_run, without_plots

NEWEST = "step-000000012.safetensors"


@pytest.fixture(autouse=True, scope="module")
def _no_plots():
    with without_plots():
        yield


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("finished")
    assert main(["train", "--out", str(out), "--name", "run", *TINY]) == 0
    return out / "run"


@pytest.fixture
def run(finished, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def flip_a_bit(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x04
    path.write_bytes(bytes(data))


def forged(change):
    """Rewrite the file with ``change(state)`` applied, with a valid checksum: what a careful
    forger (or a bug) would produce."""
    def damage(path):
        state = cr.load(path)
        change(state)
        cr.save(state, path)
    return damage


def replace_with_directory(path):
    path.unlink()
    path.mkdir()


def replace_with_pipe(path):
    path.unlink()
    os.mkfifo(path)


def setter(*keys, value):
    def change(state):
        node = state
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return change


DAMAGES = {
    "a flipped bit": (flip_a_bit, "do not match its checksum"),
    "a truncation": (lambda p: p.write_bytes(p.read_bytes()[:-100]), "checksum"),
    "an empty file": (lambda p: p.write_bytes(b""), "empty or truncated"),
    "a directory": (replace_with_directory, "is a directory"),
    "a named pipe": (replace_with_pipe, "is a named pipe"),
    "a pickle": (lambda p: p.write_bytes(pickle.dumps({"model": 1})),
                 "not a file written by torch.save"),
    "a model tensor of the wrong shape": (
        forged(lambda s: s["model"].update({"1.weight": cr.zeros(16, 63)})), "holds"),
    "a huge hidden size": (forged(setter("config", "hidden_size", value=100_000)),
                           "parameters but it holds"),
    "an impossible setting": (forged(setter("config", "lr", value=-1.0)), "lr must be positive"),
    "a huge batch": (forged(setter("config", "batch_size", value=10 ** 15)), "would take"),
    "a setting of the wrong type": (forged(setter("config", "epochs", value="2")),
                                    "epochs must be an integer"),
    "a malformed position": (forged(setter("position", "step", value=-3)), "position"),
    "a missing entry": (forged(lambda s: s.pop("scheduler")), "'scheduler' entry"),
    "optimizer state of the wrong shape": (
        forged(lambda s: s["optimizer"]["state"][0].update({"exp_avg": cr.zeros(3)})),
        "optimizer.state.0.exp_avg should be"),
    "optimizer state missing a moment": (
        forged(lambda s: s["optimizer"]["state"][0].pop("exp_avg_sq")),
        "optimizer.state.0 should have the entries"),
    "a scheduler of another kind": (forged(setter("scheduler", value={"last_epoch": 1})),
                                    "scheduler should have the entries"),
    "a foreign random state": (forged(setter("rng", value=cr.zeros(5, dtype=cr.uint8))),
                               "rng should be"),
    "a vocabulary for an image model": (forged(setter("task", "kind", value="text")),
                                        "image task is malformed"),
    "pixel statistics of the wrong shape": (
        forged(setter("task", "mean", value=np.zeros((1, 8, 7), np.float32))),
        "the saved image preprocessing has 'mean' = ndarray of shape (1, 8, 7)"),
    "a zero pixel scale": (
        forged(setter("task", "scale", value=np.zeros((1, 8, 8), np.float32))),
        "'scale' that is not positive"),
}


# one of each kind: the file itself, what is in place of it, each round of state checks
ON_RESUME = ["a flipped bit", "a directory", "a named pipe", "a huge hidden size",
             "optimizer state of the wrong shape", "a scheduler of another kind"]


@pytest.mark.parametrize("label", ON_RESUME)
def test_resume_skips_a_damaged_newest_checkpoint_and_ends_bit_exact(
        run, finished, capsys, label):
    damage, reason = DAMAGES[label]
    damage(run / "checkpoints" / NEWEST)
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"skipping {NEWEST}: " in out and reason in out, out
    assert "from step-000000009" in out
    assert f"set aside {NEWEST} as {NEWEST}.damaged" in out
    assert (run / "checkpoints" / f"{NEWEST}.damaged").exists()
    assert_same_run(run, finished)


# eval and sample use the model alone; the optimizer and schedule states are checked on resume
RESUME_ONLY = {"optimizer state of the wrong shape", "optimizer state missing a moment",
               "a scheduler of another kind"}


@pytest.mark.parametrize("label", sorted(set(DAMAGES) - RESUME_ONLY))
def test_eval_refuses_a_damaged_checkpoint_with_exit_2_naming_it(run, capsys, label):
    damage, reason = DAMAGES[label]
    path = run / "checkpoints" / NEWEST
    damage(path)
    if label == "a directory":  # a directory given to eval is taken for a run directory
        reason = "is not a chainrule run directory"
    assert main(["eval", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and reason in err, err
    assert "Traceback" not in err


def test_forged_sizes_are_refused_before_anything_is_allocated(run, capsys):
    path = run / "checkpoints" / NEWEST
    forged(setter("config", "hidden_size", value=100_000))(path)
    tracemalloc.start()
    try:
        assert main(["eval", str(path)]) == 2
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 * 2**20  # an mlp of width 100,000 would take 37 GiB
    assert "parameters but it holds" in capsys.readouterr().err


def test_resume_with_every_checkpoint_damaged_says_so_and_exits_2(run, capsys):
    for path in (run / "checkpoints").glob("step-*"):
        flip_a_bit(path)
    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out.count("skipping step-") == 5
    assert "holds no usable checkpoint" in captured.err


def test_resume_of_a_run_killed_before_its_first_checkpoint_says_how_to_restart(run, capsys):
    for path in (run / "checkpoints").iterdir():
        path.unlink()
    assert main(["train", "--resume", str(run)]) == 2
    assert f"--config {run / 'config.toml'}" in capsys.readouterr().err


def newest_best_epoch(run):
    return cr.load(run / "checkpoints" / NEWEST)["best"][1]


def test_a_stale_best_checkpoint_is_noticed_and_the_recorded_best_used(run, capsys):
    # a kill between writing the epoch's step checkpoint and best.safetensors leaves the older
    # best behind: here, the checkpoint of step 0 in its place
    epoch = newest_best_epoch(run)
    step = cr.load(run / "checkpoints" / NEWEST)["history"][epoch - 1]["step"]
    shutil.copy(run / "checkpoints" / "step-000000000.safetensors",
                run / "checkpoints" / "best.safetensors")
    assert main(["eval", str(run)]) == 0
    captured = capsys.readouterr()
    assert f"best.safetensors is not the checkpoint of epoch {epoch}" in captured.err
    assert captured.out.startswith(str(run / "checkpoints" / f"step-{step:09d}.safetensors"))


def test_a_directory_in_place_of_the_best_checkpoint_is_skipped(run, capsys):
    best = run / "checkpoints" / "best.safetensors"
    replace_with_directory(best)
    assert main(["eval", str(run)]) == 0
    assert "skipping best.safetensors: is a directory" in capsys.readouterr().err


def test_a_run_in_use_by_another_process_is_refused(run, capsys):
    lock = RunLock(run).acquire()
    try:
        assert main(["train", "--resume", str(run)]) == 2
    finally:
        lock.release()
    assert f"is in use by process {os.getpid()}" in capsys.readouterr().err


def test_a_lock_left_by_a_killed_process_does_not_block(run):
    holder = (f"import fcntl, os, signal; fd = os.open({str(run / 'lock')!r}, os.O_RDWR | "
              "os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'process 1 on "
              "elsewhere'); os.kill(os.getpid(), signal.SIGKILL)")
    assert subprocess.run([sys.executable, "-c", holder]).returncode == -9
    assert b"process 1" in (run / "lock").read_bytes()
    assert main(["train", "--resume", str(run), "--quiet"]) == 0


def test_resume_removes_the_temporary_files_of_killed_writes(run, capsys):
    stale = run / "checkpoints" / ".step-000000015.safetensors.4242-0a0b0c0d.tmp"
    stale.write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert f"removed {stale.name}" in capsys.readouterr().out
    assert not stale.exists()


def test_run_files_get_the_users_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY,
                     "--epochs", "1"]) == 0
    finally:
        os.umask(previous)
    run = tmp_path / "run"
    for path in [run / "config.toml", run / "metrics.jsonl", *run.glob("checkpoints/*")]:
        assert path.stat().st_mode & 0o777 == 0o644, path


OWN_DATA = {
    "table": lambda tmp: ["--data", "table", "--data-path", str(write_table(tmp / "t.csv")),
                          "--target", "label"],
    "series lstm": lambda tmp: ["--data", "series", "--model", "lstm", "--data-path",
                                str(write_series(tmp / "s.csv")), "--target", "value",
                                "--time", "week", "--window", "8", "--horizon", "2"],
    "image folder mlp": lambda tmp: ["--data", "images", "--model", "mlp", "--data-path",
                                     str(write_image_folder(tmp / "images"))],
}


@pytest.mark.parametrize("kind", sorted(OWN_DATA))
def test_own_data_checkpoints_pass_the_checks_and_forged_preprocessing_is_refused(
        tmp_path, capsys, kind):
    if kind == "image folder mlp":
        pytest.importorskip("PIL")
    flags = OWN_DATA[kind](tmp_path)
    assert main(["train", "--out", str(tmp_path), "--name", "run", *flags, "--epochs", "1",
                 "--hidden-size", "8", "--quiet", "--no-diagnose"]) == 0
    run = tmp_path / "run"
    assert main(["train", "--resume", str(run), "--quiet"]) == 0  # finished: tests and reports
    newest = sorted((run / "checkpoints").glob("step-*.safetensors"))[-1]
    assert main(["eval", str(newest)]) == 0
    forged(setter("task", "preprocessing", value={"bogus": 1}))(newest)
    capsys.readouterr()
    assert main(["eval", str(newest)]) == 2
    err = capsys.readouterr().err
    assert "is damaged: the saved" in err and "preprocessing lacks the entries" in err, err
