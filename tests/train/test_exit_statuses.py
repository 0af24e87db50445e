"""README's table of exit statuses is true: each status it lists is what the command returns in
the situation it names, and no other status is possible (a bug has its own, 70)."""

import os
import re
import signal
from pathlib import Path

import pytest

from chainrule import cli
from chainrule.cli import main
from chainrule.train.faults import VARIABLE

from .runs import TINY, without_plots

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(autouse=True, scope="module")
def _no_plots():
    with without_plots():
        yield


def readme_statuses():
    table = README.read_text().split("Every command exits with one of these statuses")[1]
    return {int(m) for m in re.findall(r"^\| (\d+) \|", table.split("\n\n")[1], re.M)}


def test_the_readme_lists_exactly_the_statuses_the_command_line_has():
    constants = {v for k, v in vars(cli).items() if k.startswith("EXIT_")}
    assert readme_statuses() == {0, 1} | constants


def full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fsync)


def corrupt_file(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(os.urandom(200))
    return ["eval", str(path)]


SITUATIONS = {
    "success": (0, lambda tmp, mp: ["train", "--out", str(tmp), *TINY, "--epochs", "1"]),
    "diagnose finds a problem": (1, lambda tmp, mp: [
        "diagnose", "--steps", "6", "--hidden-size", "16", "--optimizer", "sgd", "--lr", "10",
        "--grad-clip", "0"]),
    "a bad flag value": (2, lambda tmp, mp: ["train", "--out", str(tmp), "--lr", "inf"]),
    "a corrupt checkpoint": (2, lambda tmp, mp: corrupt_file(tmp)),
    "a directory that is no run": (2, lambda tmp, mp: ["eval", str(tmp)]),
    "a non-finite loss": (3, lambda tmp, mp: [
        "train", "--out", str(tmp), *TINY, "--optimizer", "sgd", "--lr", "1e5", "--grad-clip",
        "0", "--momentum", "0", "--schedule", "constant"]),
    "a full disk": (4, lambda tmp, mp: full_disk(mp) or ["train", "--out", str(tmp), *TINY]),
    "Ctrl-C": (130, lambda tmp, mp: mp.setenv(VARIABLE, "forward@2:INT") or [
        "train", "--out", str(tmp), *TINY]),
    "SIGTERM": (143, lambda tmp, mp: mp.setenv(VARIABLE, "forward@2:TERM") or [
        "train", "--out", str(tmp), *TINY]),
    "SIGTERM outside the training loop": (143, lambda tmp, mp: terminated_while_reading(mp) or [
        "train", "--out", str(tmp), *TINY]),
    "an unreadable input": (2, lambda tmp, mp: unreadable_config(tmp, mp)),
}


def terminated_while_reading(monkeypatch):
    from chainrule.train import commands

    def load_task(config, *args):
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM should have stopped the command")

    monkeypatch.setattr(commands, "load_task", load_task)


def unreadable_config(tmp_path, monkeypatch):
    from .test_unreadable import config_run, make_unreadable

    path, argv = config_run(tmp_path)
    make_unreadable(monkeypatch, path)
    return argv


@pytest.mark.parametrize("situation", sorted(SITUATIONS))
def test_each_situation_exits_with_the_status_the_readme_gives(tmp_path, monkeypatch, capsys,
                                                               situation):
    status, argv = SITUATIONS[situation]
    assert status in readme_statuses()
    assert main(argv(tmp_path, monkeypatch)) == status
    assert "Traceback" not in capsys.readouterr().err


def test_an_unexpected_error_is_a_bug_with_its_own_status_and_its_traceback(tmp_path, capsys,
                                                                            monkeypatch):
    assert cli.exit_status(ZeroDivisionError()) is None  # none of the expected statuses
    from chainrule.train.loop import Trainer

    def bug(self):
        return 1 / 0

    monkeypatch.setattr(Trainer, "fit", bug)
    assert main(["train", "--out", str(tmp_path), *TINY]) == cli.EXIT_INTERNAL_ERROR == 70
    err = capsys.readouterr().err
    assert "Traceback" in err and "ZeroDivisionError" in err and "a bug in chainrule" in err
    assert 70 in readme_statuses()
