"""An input that is there but cannot be read (permission denied) exits 2 with "cannot read",
the path and the fix -- never 4, which says a file could not be written."""

import builtins
import errno
import io
import os

import pytest

from chainrule.cli import exit_status, main
from chainrule.data.readers._files import CannotReadError

from .owndata_files import write_image_folder, write_table


def make_unreadable(monkeypatch, path):
    """Take away read access to ``path``: chmod where that binds (not for root), else make
    every way of opening it fail as the kernel would."""
    if os.geteuid() != 0:
        path.chmod(0)  # restore_modes gives it back
        return
    denied = os.path.realpath(path)

    def guard(function):
        def guarded(target, *args, **kwargs):
            if not isinstance(target, int) and os.path.realpath(target) == denied:
                raise PermissionError(errno.EACCES, "Permission denied", str(target))
            return function(target, *args, **kwargs)
        return guarded

    for module, name in ((builtins, "open"), (io, "open"), (os, "open"), (os, "scandir"),
                         (os, "listdir")):
        monkeypatch.setattr(module, name, guard(getattr(module, name)))


@pytest.fixture
def restore_modes(tmp_path):
    yield
    for path in [tmp_path, *tmp_path.rglob("*")]:
        os.chmod(path, 0o700)  # so that pytest can clean up


def table_run(tmp_path):
    data = write_table(tmp_path / "t.csv", rows=30)
    return data, ["train", "--data", "table", "--data-path", str(data), "--target", "label"]


def image_run(tmp_path, part):
    pytest.importorskip("PIL")
    root = write_image_folder(tmp_path / "images", per_class=2)
    target = {"folder": root, "class folder": root / "dark",
              "image": root / "light" / "1.png"}[part]
    return target, ["train", "--data", "images", "--data-path", str(root)]


def text_run(tmp_path):
    data = tmp_path / "play.txt"
    data.write_text("to be or not to be " * 20)
    return data, ["train", "--data", "file", "--model", "lstm", "--data-path", str(data)]


def config_run(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("epochs = 1\n")
    return config, ["train", "--config", str(config)]


def mnist_run(tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    return folder, ["train", "--data", "mnist", "--data-path", str(folder)]


def runs_listing(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder, ["runs", str(folder)]


CASES = {
    "a table": table_run,
    "an image folder": lambda tmp: image_run(tmp, "folder"),
    "a class folder": lambda tmp: image_run(tmp, "class folder"),
    "an image": lambda tmp: image_run(tmp, "image"),
    "a text file": text_run,
    "an MNIST folder": mnist_run,
    "a config file": config_run,
    "a folder of runs": runs_listing,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unreadable_input_exits_2_naming_it_and_the_fix(tmp_path, monkeypatch, capsys,
                                                          restore_modes, case):
    target, argv = CASES[case](tmp_path)
    make_unreadable(monkeypatch, target)
    if argv[0] == "train":
        argv += ["--out", str(tmp_path / "out"), "--quiet", "--no-diagnose"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"cannot read {target}: Permission denied; give your user read access" in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_only_a_failed_write_is_status_4():
    assert exit_status(CannotReadError("x.csv", PermissionError(errno.EACCES, "denied"))) == 2
    assert exit_status(OSError(errno.ENOSPC, "could not write x: No space left")) == 4
