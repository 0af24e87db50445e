"""Hostile and damaged files around a run: data that is no regular file or unpacks to more
than memory, a damaged run.json or metrics.jsonl, an --out that cannot be a file, and a fuzz of
mutated tables and series through the whole reading and preprocessing path. Each ends in exit 2
with a message naming the file and the fix, or in a documented handling with a warning: never
a traceback, a hang, a huge allocation or a half-written output."""

import gzip
import json
import os
import re
import shutil
import warnings

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data.readers import _files
from chainrule.data.readers._files import read_bytes

from .nasty_inputs import (
    check_mutated_image,
    check_mutated_own_data,
    mutated_images,
    mutated_own_data,
)
from .runs import without_plots

QUICK = ["--epochs", "1", "--quiet", "--no-diagnose", "--hidden-size", "8", "--num-layers", "1",
         "--batch-size", "64"]


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "t.csv"
    data.write_text("a,b,y\n" + "".join(f"{i / 2},{i % 3},{'xy'[i % 2]}\n" for i in range(40)))
    with without_plots():
        assert main(["train", "--data", "table", "--data-path", str(data), "--target", "y",
                     "--out", str(folder / "runs"), "--name", "run", *QUICK]) == 0
    return folder / "runs" / "run", data


@pytest.fixture
def run_copy(table_run, tmp_path):
    """A private copy of the trained run, free to damage."""
    run, data = table_run
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run", data


# -- data files that are no regular file, or too big --------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_or_a_device_is_refused_before_a_byte_is_read(tmp_path):
    os.mkfifo(tmp_path / "pipe.csv")  # no writer: a plain open() would wait for ever
    with pytest.raises(ValueError, match=r"pipe\.csv is a named pipe, not a file"):
        read_bytes(tmp_path / "pipe.csv")
    if os.path.exists("/dev/zero"):
        os.symlink("/dev/zero", tmp_path / "zero.csv")  # endless: read() would eat the memory
        with pytest.raises(ValueError, match=r"zero\.csv is a character device, not a file"):
            read_bytes(tmp_path / "zero.csv")


def test_a_file_or_a_gzip_that_unpacks_to_more_than_memory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_files, "memory_limit", lambda: 100_000)
    bomb = tmp_path / "bomb.csv.gz"
    bomb.write_bytes(gzip.compress(b"a,y\n" + b"1,2\n" * 1_000_000))  # 4 MB from ~10 KB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ValueError, match=r"bomb\.csv\.gz unpacks \(gzip\) to 100,001 bytes "
                                         r"or more; .* use a sample of its rows"):
        read_bytes(bomb)
    big = tmp_path / "big.csv"
    big.write_bytes(b"a,y\n" + b"1,2\n" * 30_000)
    with pytest.raises(ValueError, match=r"big\.csv holds .* bytes or more"):
        read_bytes(big)
    two = tmp_path / "two.gz"  # gzip members one after another, as `cat a.gz b.gz` makes
    two.write_bytes(gzip.compress(b"a,y\n1,2\n") + gzip.compress(b"3,4\n"))
    assert read_bytes(two) == b"a,y\n1,2\n3,4\n"
    with pytest.raises(ValueError, match=r"two\.gz: corrupt or truncated gzip file"):
        two.write_bytes(two.read_bytes()[:-6])
        read_bytes(two)


# -- a damaged run directory ----------------------------------------------------------------------
@pytest.mark.parametrize("content", ["[1, 2]", '{"status": 5, "best": "x", "test": [1], '
                                               '"fingerprint": 3, "epochs": "many"}',
                                     "{not json", "\x00\xff binary"])
def test_a_damaged_run_json_is_read_for_what_it_still_says(run_copy, capsys, content):
    run, _ = run_copy
    (run / "run.json").write_text(content, encoding="latin-1")
    assert main(["runs", str(run.parent)]) == 0
    assert "run" in capsys.readouterr().out
    assert main(["eval", str(run)]) == 0
    with without_plots():
        assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert json.loads((run / "run.json").read_text())["status"] == "finished"  # rewritten whole


def test_a_damaged_metrics_log_is_left_out_with_a_warning_naming_its_lines(run_copy, capsys):
    run, _ = run_copy
    lines = (run / "metrics.jsonl").read_bytes().splitlines(keepends=True)
    lines[0], lines[1] = b"{torn\n", b"\xff\xfe[1, 2]\n"  # not JSON; not UTF-8 nor a record
    (run / "metrics.jsonl").write_bytes(b"".join(lines))
    with without_plots():
        assert main(["train", "--resume", str(run), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {run / 'metrics.jsonl'}: " in err and "Traceback" not in err
    assert re.search(r"[12] line\(s\) are not metric records \(first: line 1\); they are left "
                     r"out of the report", err) and err.count("are not metric records") == 1
    assert main(["runs", str(run.parent)]) == 0


# -- outputs the user names -----------------------------------------------------------------------
@pytest.mark.parametrize("command", ["predict", "export"])
def test_an_out_that_cannot_be_a_file_exits_2_before_any_work(table_run, tmp_path, capsys,
                                                              command):
    run, data = table_run
    name = {"predict": "predictions.csv", "export": "model.onnx"}[command]
    args = [command, str(run)] + ([str(data)] if command == "predict" else [])
    assert main([*args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"--out {tmp_path} is a folder; name a file in it, such as {tmp_path / name}" in err
    assert main([*args, "--out", str(tmp_path / "nowhere" / name)]) == 2
    err = capsys.readouterr().err
    assert f"the folder {tmp_path / 'nowhere'} does not exist; create it first" in err
    assert not (tmp_path / "nowhere").exists()


def test_predictions_replace_the_earlier_file_whole_or_not_at_all(table_run, tmp_path, capsys,
                                                                  monkeypatch):
    run, data = table_run
    out = tmp_path / "p.csv"
    out.write_text("earlier predictions\n")
    import chainrule.io.files as files

    def failing_replace(source, target):  # a full disk or a kill just before the rename
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "replace", failing_replace)
    assert main(["predict", str(run), str(data), "--out", str(out)]) == 4
    assert "could not write" in capsys.readouterr().err
    assert out.read_text() == "earlier predictions\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]  # no temporary file left
    monkeypatch.undo()
    assert main(["predict", str(run), str(data), "--out", str(out)]) == 0
    assert out.read_text().splitlines()[0].startswith("row,")


# -- fuzz: damaged tables, series and images ----------------------------------------------------
@pytest.mark.parametrize("kind", ["table", "series"])
def test_mutated_own_data_is_read_or_refused_by_name_never_crashes(tmp_path, kind):
    """Bit flips, cuts, inserted quotes, delimiters, NULs, byte-order marks, huge numbers,
    re-encodings, shuffled and repeated lines: each file either makes a task with finite inputs
    or is refused with a message naming the file, a column or a flag (bench/fuzz_own_data.py
    runs longer)."""
    outcomes = []
    for number, data in enumerate(mutated_own_data(kind, seed=11, count=60)):
        path = tmp_path / f"case{number}.csv"
        path.write_bytes(data)
        outcomes.append(check_mutated_own_data(kind, path))
    assert {"read", "refused"} <= set(outcomes), outcomes  # the fuzz reaches both ends


def test_damaged_images_of_every_format_are_read_or_refused_by_name(tmp_path):
    pytest.importorskip("PIL")
    outcomes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about damaged metadata it skips
        for name, data in mutated_images(seed=5, count=90):
            (tmp_path / name).write_bytes(data)
            outcomes.append(check_mutated_image(tmp_path / name))
    assert {"read", "refused"} <= set(outcomes), outcomes


def test_images_that_would_not_fit_in_memory_are_refused_before_any_is_read(tmp_path, capsys,
                                                                            monkeypatch):
    from chainrule.data.readers import image_folder

    from .nasty_inputs import nasty_folder

    pytest.importorskip("PIL")
    root = nasty_folder(per_class=3)(tmp_path)
    monkeypatch.setattr(image_folder, "physical_memory", lambda: 2**30)
    read = []
    monkeypatch.setattr(image_folder, "read_image", lambda *args: read.append(args))
    assert main(["train", "--data", "images", "--data-path", str(root), "--image-size", "4096",
                 "--out", str(tmp_path / "runs"), *QUICK]) == 2
    err = capsys.readouterr().err
    assert f"{root}: 6 images at 4096x4096 would take 1.4 GiB in memory" in err
    assert "more than this machine's 1.0 GiB; use a smaller --image-size" in err
    assert not read and not (tmp_path / "runs").exists()


def test_a_confusion_matrix_of_many_classes_is_summed_up_not_drawn_cell_by_cell(tmp_path):
    """900 classes once made a 400-inch figure with 810,000 labels (minutes, gigabytes) and
    a markdown table of 810,000 cells; now a heat map and the most frequent confusions."""
    from chainrule.train.metrics import LARGEST_SHOWN_MATRIX, classification_table

    count = LARGEST_SHOWN_MATRIX + 10
    matrix = np.eye(count, dtype=np.int64) * 5
    matrix[3, 7], matrix[1, 2] = 4, 9
    lines = classification_table(matrix, [f"c{k}" for k in range(count)])
    assert f"The confusion matrix of {count} classes is too large to show" in "\n".join(lines)
    assert lines[-2:] == ["| c1 | c2 | 9 |", "| c3 | c7 | 4 |"]
    assert len(lines) < count + 10


def test_two_runs_started_at_once_with_one_name_get_a_directory_each(tmp_path, monkeypatch):
    """The name is claimed by mkdir itself: a run that finds it taken between its look and its
    mkdir (another process got there first) moves on to the next suffix."""
    from chainrule.train.rundir import RunDirectory

    real_mkdir = type(tmp_path).mkdir

    def raced_mkdir(path, *args, **kwargs):
        if path.name == "run" and not path.exists():  # the other process wins the race
            real_mkdir(path)
        return real_mkdir(path, *args, **kwargs)
    monkeypatch.setattr(type(tmp_path), "mkdir", raced_mkdir)
    assert RunDirectory.create(tmp_path, "run").path == tmp_path / "run-2"


def test_an_out_that_is_a_file_or_lies_under_one_exits_2_naming_it(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    for out in (tmp_path / "file", tmp_path / "file" / "runs"):
        assert main(["train", "--out", str(out), *QUICK]) == 2
        assert f"--out {out}: {tmp_path / 'file'} is a file, not a folder" in \
            capsys.readouterr().err


def test_a_table_whose_cells_would_not_fit_in_memory_is_refused_before_parsing(tmp_path,
                                                                               monkeypatch):
    from chainrule.data.readers import table

    path = tmp_path / "long.csv"
    path.write_text("a,b,y\n" + "1,2,x\n" * 20_000)
    monkeypatch.setattr(table, "physical_memory", lambda: 8 * 2**20)  # 8 MiB
    with pytest.raises(ValueError, match=r"long\.csv holds about 20,002 lines of cells that would "
                                         r"take about 0\.\d GiB once read, more than half this "
                                         r"machine's memory \(0\.0 GiB\): use a sample"):
        table.read_table(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("name, make", [("metrics.jsonl", "pipe"), ("run.json", "pipe"),
                                        ("lock", "pipe"), ("report.md", "folder"),
                                        ("checkpoints", "file"), ("config.toml", "pipe")])
def test_resume_refuses_a_run_file_that_is_no_file_naming_it(run_copy, capsys, name, make):
    """A named pipe where a run file should be blocked the resume for ever (reading or
    appending to it waits for a writer or reader); a folder failed it half-way with exit 4."""
    run, _ = run_copy
    path = run / name
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    {"pipe": os.mkfifo, "folder": os.mkdir, "file": lambda p: p.write_text("x")}[make](path)
    status = main(["train", "--resume", str(run), "--quiet"])
    err = capsys.readouterr().err
    kind = {"pipe": "a named pipe", "folder": "a directory", "file": "a file"}[make]
    assert status == 2 and f"error: {path} is {kind}, where the run keeps its " in err, err
    if name != "config.toml":
        assert f"move it out of {run}" in err
    if name == "run.json":  # the listing reads run.json too: it must not wait on the pipe
        assert main(["runs", str(run.parent)]) == 0


def test_a_decoder_error_with_an_errno_is_the_images_fault_not_the_disks(tmp_path):
    """libtiff raises OSError(EINVAL) for some damaged TIFF files (bench/fuzz_own_data.py
    found two): the file is named as not a readable image, not as a disk that cannot read."""
    pytest.importorskip("PIL")
    from chainrule.data.readers.image_folder import UnreadableImage, read_image

    from .nasty_inputs import mutated_images

    name, data = mutated_images(214, 35)[34]
    (tmp_path / name).write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(UnreadableImage, match=f"{name} is not a readable image"):
            read_image(tmp_path / name, (8, 8), 3)
