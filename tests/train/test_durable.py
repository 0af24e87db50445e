"""Checkpoints are fsynced off the training thread (train/durable.py), and still survive a crash
of the machine: every checkpoint file and its folder are fsynced, an older checkpoint is deleted
only once a newer one is on disk, the run does not end before its last checkpoint is, and a
newest checkpoint torn by a crash is skipped for the durable one before it."""

import os
import sys
from pathlib import Path

import pytest

from chainrule.cli import main
from chainrule.train.durable import BackgroundSync

from .runs import TINY, assert_same_run, without_plots

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="names fsynced files through /proc/self/fd")

# checkpoints at steps 0, 3, 6, 9, 12 (and at the epoch ends, 6 and 12); two kept
SETTINGS = [*TINY, "--keep-last", "2"]


@pytest.fixture(autouse=True, scope="module")
def _no_plots():
    with without_plots():
        yield


@pytest.fixture
def events(monkeypatch):
    """("fsync", path) and ("unlink", path) in the order they happened, on any thread."""
    happened = []
    fsync, unlink = os.fsync, Path.unlink

    def recorded_fsync(fd):
        fsync(fd)
        happened.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))

    def recorded_unlink(path, missing_ok=False):
        happened.append(("unlink", str(path.resolve())))
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(os, "fsync", recorded_fsync)
    monkeypatch.setattr(Path, "unlink", recorded_unlink)
    return happened


def durable_at(events, index, folder):
    """The files of ``folder`` durable before ``events[index]``: fsynced, then the folder."""
    durable, synced = set(), set()
    for kind, path in events[:index]:
        if kind == "fsync" and path == folder:
            durable |= synced
        elif kind == "fsync":
            synced.add(path)
    return durable


def deleted_after_a_newer_durable_one(events, folder):
    """The names of the step checkpoints deleted from ``folder``, in order, each checked to
    have gone only once a newer step checkpoint was durable."""
    removed = [(i, path) for i, (kind, path) in enumerate(events)
               if kind == "unlink" and Path(path).parent == Path(folder)
               and Path(path).name.startswith("step-")]
    for index, path in removed:
        newer = [p for p in durable_at(events, index, folder) if Path(p).name > Path(path).name
                 and Path(p).name.startswith("step-")]
        assert newer, f"{path} was deleted before any newer checkpoint was durable"
    return [Path(p).name for _, p in removed]


def test_every_checkpoint_is_durable_before_older_ones_go_and_before_the_run_ends(
        tmp_path, events):
    assert main(["train", "--out", str(tmp_path), "--name", "run", *SETTINGS]) == 0
    folder = str((tmp_path / "run" / "checkpoints").resolve())
    assert deleted_after_a_newer_durable_one(events, folder) == [
        f"step-{s:09d}.safetensors" for s in (0, 3, 6)]
    kept = {str(p.resolve()) for p in Path(folder).iterdir()}
    assert {Path(p).name for p in kept} == {"step-000000009.safetensors",
                                            "step-000000012.safetensors", "best.safetensors"}
    assert kept <= durable_at(events, len(events), folder)  # when the command returned


def test_with_one_checkpoint_kept_the_new_one_is_durable_before_the_old_one_goes(
        tmp_path, events):
    settings = [*TINY, "--keep-last", "1"]
    assert main(["train", "--out", str(tmp_path), "--name", "run", *settings]) == 0
    folder = str((tmp_path / "run" / "checkpoints").resolve())
    assert deleted_after_a_newer_durable_one(events, folder) == [
        f"step-{s:09d}.safetensors" for s in (0, 3, 6, 9)]


def test_a_newest_checkpoint_torn_by_a_machine_crash_is_skipped_and_the_run_resumes(tmp_path):
    reference = tmp_path / "reference"
    assert main(["train", "--out", str(reference), "--name", "run", *SETTINGS]) == 0
    out = tmp_path / "crashed"
    assert main(["train", "--out", str(out), "--name", "run", *SETTINGS]) == 0
    newest = out / "run" / "checkpoints" / "step-000000012.safetensors"
    with open(newest, "r+b") as torn:  # its data never reached the disk: the name, no bytes
        torn.truncate(0)
    assert main(["train", "--resume", str(out / "run"), "--quiet"]) == 0
    assert_same_run(out / "run", reference / "run")


def test_an_fsync_that_fails_is_reported_at_the_next_checkpoint_or_at_the_end(tmp_path,
                                                                                 monkeypatch):
    def failing(fd):
        raise OSError(5, "Input/output error")

    sync = BackgroundSync()
    (tmp_path / "a").write_bytes(b"x")
    monkeypatch.setattr(os, "fsync", failing)
    sync.start([tmp_path / "a"], tmp_path)
    with pytest.raises(OSError, match="could not make a checkpoint durable"):
        sync.wait()
    sync.wait()  # reported once
