"""What a hostile-user sweep of own data found, held by kind: CSV files without a header line,
run directories used from another working directory, an output whose reader leaves
(`| head`), missing categories in new rows, and paths that do not exist."""

import csv
import io
import os
import subprocess
import sys

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.data.preprocessing.table import infer_task
from chainrule.data.readers.table import read_table
from chainrule.train.console import Console

from .owndata_files import write_image_folder, write_table

QUICK = ["--epochs", "1", "--quiet", "--no-diagnose", "--hidden-size", "8"]


def train(runs, *flags, name="run"):
    return main(["train", "--out", str(runs), "--name", name, *QUICK, *flags])


def headerless(path, rows=90):
    """Numbers, a category and a label, without a header line (as the UCI digits ship)."""
    rng = np.random.default_rng(0)
    lines = [f"{rng.normal():.3f},{rng.integers(0, 17)},{rng.choice(['red', 'blue'])},"
             f"{'yes' if i % 2 else 'no'}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("text, looks_like_data", [
    ("0.5,3,red,yes\n1.5,4,blue,no\n2.5,5,red,no\n3.5,6,blue,yes\n", True),  # values
    ("2021-01-01,3.5\n2021-01-02,4.5\n2021-01-03,5\n", True),  # a date above dates
    ("x,n,colour,label\n0.5,3,red,yes\n1.5,4,blue,no\n", False),
    ("2019,2020,region\n1.5,2,north\n2.5,3,north\n", False),  # years as names, then a name
    ("id,2020\nID1,5\nID2,6\n", False),  # distinct text says nothing; a year can be a name
    ("0,0,5,13\n0,1,6,16\n0,0,4,12\n", True),  # a repeated cell is no name
])
def test_a_header_line_that_looks_like_data_is_noted(tmp_path, text, looks_like_data):
    path = tmp_path / "t.csv"
    path.write_text(text)
    table = read_table(path)
    assert (table.header_hint is not None) == looks_like_data
    assert any("looks like data" in note for note in table.notes) == looks_like_data


def test_a_headerless_table_is_named_and_trains_with_no_header(tmp_path, capsys):
    data = headerless(tmp_path / "plain.csv")
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "label") == 2
    error = capsys.readouterr().err
    assert "has no column 'label'; the header line ('0.126', " in error
    assert "--no-header" in error and "column_4" in error and "its columns are" not in error

    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--no-header", "--target", "column_4") == 0
    capsys.readouterr()
    new = headerless(tmp_path / "new.csv", rows=3)  # read as the run's data was: no header
    assert main(["predict", str(tmp_path / "runs" / "run"), str(new)]) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["row"] for r in rows] == ["line 1", "line 2", "line 3"]
    assert "3 rows have 'column_4'" in captured.err


def test_a_target_named_from_a_headerless_first_line_is_warned_about(tmp_path, capsys):
    data = headerless(tmp_path / "plain.csv")
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "no") == 0
    assert "warning: the header line ('0.126', '8', 'red', 'no') looks like data" in \
        capsys.readouterr().out


def test_a_run_trained_on_a_relative_path_evaluates_from_anywhere(tmp_path, monkeypatch,
                                                                   capsys):
    (tmp_path / "project").mkdir()
    write_table(tmp_path / "project" / "fraud.csv", rows=90)
    monkeypatch.chdir(tmp_path / "project")
    assert train("runs", "--data", "table", "--data-path", "fraud.csv", "--target",
                 "label") == 0
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["eval", "project/runs/run"]) == 0
    assert "test loss" in capsys.readouterr().out
    assert f"data_path = \"{tmp_path / 'project' / 'fraud.csv'}\"" in \
        (tmp_path / "project" / "runs" / "run" / "config.toml").read_text()


def test_a_reader_that_leaves_stops_the_command_quietly(tmp_path):
    data = write_table(tmp_path / "fraud.csv", rows=90)
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "label") == 0
    big = tmp_path / "big.csv"  # more predictions than a pipe buffers
    big.write_text("amount,age,colour,city\n" + "1.5,30,red,city1\n" * 3000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = subprocess.Popen([sys.executable, "-m", "chainrule", "predict",
                                str(tmp_path / "runs" / "run"), str(big)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert command.stdout.readline().startswith(b"row,prediction")
    command.stdout.close()  # as `| head -1` does
    assert command.wait(timeout=120) == 141
    assert b"Broken pipe" not in command.stderr.read()


class _ClosedPipe(io.StringIO):
    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def isatty(self):
        return False


def test_training_output_whose_reader_left_goes_on_without_printing():
    console = Console(stream=_ClosedPipe())
    console.print("epoch 1/2")  # neither raises nor stops what prints after it
    console.print("epoch 2/2")


def test_missing_categories_in_new_rows_are_noted(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv", rows=90)
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "label") == 0
    new = tmp_path / "new.csv"
    new.write_text("amount,age,colour,city\n1.5,30,,city1\n0.5,31,red,NA\n")
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "runs" / "run"), str(new)]) == 0
    err = capsys.readouterr().err
    assert "1 missing values of 'colour' imputed with the most frequent training category" in err
    assert "1 missing values of 'city' imputed" in err
    assert main(["predict", str(tmp_path / "runs" / "run"), str(tmp_path)]) == 2
    assert "is a directory; a table is read from a CSV or Parquet file" in \
        capsys.readouterr().err


def test_new_images_that_do_not_exist_or_cannot_be_read(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "photos", per_class=8)
    run = str(tmp_path / "runs" / "run")
    assert train(tmp_path / "runs", "--data", "images", "--data-path", str(folder),
                 "--model", "mlp") == 0
    capsys.readouterr()
    assert main(["predict", run, str(folder / "dark" / "x.png")]) == 2
    assert "x.png does not exist; name an image file or a folder of images" in \
        capsys.readouterr().err
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    assert main(["predict", run, str(tmp_path / "t.csv")]) == 2  # another kind of data
    assert "t.csv is not an image file (.png, .jpg," in capsys.readouterr().err
    (folder / "dark" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n cut short")
    out = str(tmp_path / "explained")
    assert main(["explain", run, str(folder), "--out", out]) == 2  # the flag it names exists:
    assert "pass --skip-bad-files to leave them out" in capsys.readouterr().err
    assert main(["explain", run, str(folder), "--out", out, "--skip-bad-files",
                 "--method", "saliency"]) == 0
    assert "warning: skipped" in capsys.readouterr().err and "broken.png" not in \
        (tmp_path / "explained" / "heatmaps.csv").read_text()


def test_explain_leaves_out_bad_rows_as_predict_does(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv", rows=90)
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "label") == 0
    new = tmp_path / "new.csv"
    new.write_text("amount,age,colour,city\n1.5,30,red,city1\n0.5,31,red,city2,surplus\n")
    run, out = str(tmp_path / "runs" / "run"), str(tmp_path / "explained")
    capsys.readouterr()
    assert main(["explain", run, str(new), "--out", out]) == 2
    assert "or pass --skip-bad-rows" in capsys.readouterr().err
    assert main(["explain", run, str(new), "--out", out, "--skip-bad-rows"]) == 0
    assert "warning: left out 1 line(s) with more fields than the header's 4" in \
        capsys.readouterr().err


def test_many_distinct_integers_say_how_to_classify_them(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("x,grade\n" + "".join(f"{i},{i % 50}\n" for i in range(200)))
    task, reason = infer_task(read_table(path), "grade")
    assert task == "regression"
    assert reason == ("target 'grade' has 50 distinct integers, more than 20 classes; if they "
                      "are classes, say --task classification")


def test_an_image_folder_that_comes_split_is_refused_naming_the_split(tmp_path, capsys):
    write_image_folder(tmp_path / "download" / "train", per_class=2)
    write_image_folder(tmp_path / "download" / "test", per_class=2)
    assert train(tmp_path / "runs", "--data", "images", "--data-path",
                 str(tmp_path / "download")) == 2
    error = capsys.readouterr().err
    assert "folders test, train look like splits of one data set, not classes" in error
    assert f"--data-path {tmp_path / 'download' / 'train'} " in error
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def text_task(path):
    from chainrule.train.config import Config
    from chainrule.train.data import load_task

    config = Config(model="lstm", data="file", data_path=str(path), block_size=8).validate()
    return load_task(config)


def test_a_text_file_is_read_as_tables_are(tmp_path):
    windows = tmp_path / "old.txt"  # a Windows editor's file: CRLF, Windows-1252
    windows.write_bytes("caf\xe9 au lait\r\n".encode("cp1252") * 20)
    task = text_task(windows)
    assert "\r" not in task.vocab and "é" in task.vocab
    assert task.notes == ["not UTF-8 (line 1 has byte 0xe9): read as Windows-1252; if "
                          "accented letters look wrong, save the file as UTF-8 (CSV UTF-8)"]
    marked = tmp_path / "bom.txt"
    marked.write_bytes(b"\xef\xbb\xbf" + b"to be or not to be\n" * 20)
    assert "\ufeff" not in text_task(marked).vocab
    (tmp_path / "plays").mkdir()
    with pytest.raises(ValueError, match="is a folder; --data file reads one text file: join"):
        text_task(tmp_path / "plays")
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ValueError, match="is not a text file: it holds binary data"):
        text_task(binary)


def test_a_class_folder_of_other_files_says_what_it_holds(tmp_path, capsys):
    folder = write_image_folder(tmp_path / "phone", per_class=2)
    (folder / "iphone").mkdir()
    for index in range(3):
        (folder / "iphone" / f"IMG_{index}.HEIC").write_bytes(b"ftypheic")
    assert train(tmp_path / "runs", "--data", "images", "--data-path", str(folder)) == 2
    assert "has no images (.png, .jpg, .jpeg, .bmp, .gif, .webp, .tif, .tiff) (it holds 3 " \
        ".heic files: convert images to one of these formats)" in capsys.readouterr().err


def test_a_write_that_fails_in_training_says_how_to_continue(tmp_path, capsys, monkeypatch):
    from chainrule.train.loop import Trainer

    def full_disk(self):
        raise OSError(28, "No space left on device")

    data = write_table(tmp_path / "fraud.csv", rows=90)
    monkeypatch.setattr(Trainer, "fit", full_disk)
    assert train(tmp_path / "runs", "--data", "table", "--data-path", str(data),
                 "--target", "label") == 4
    assert "once it can be (free some space, or allow the write), continue with: chainrule " \
        f"train --resume {tmp_path / 'runs' / 'run'}" in capsys.readouterr().out
    assert main(["runs", str(tmp_path / "runs")]) == 0  # and the list of runs says it too
    assert "run failed writing a file (its error is in run.json); once it can write, continue " \
        f"it with: chainrule train --resume {tmp_path / 'runs' / 'run'}" in \
        capsys.readouterr().out


def test_a_large_confusion_matrix_names_classes_not_positions(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from chainrule.train import plots

    ticks = {}

    def keep_ticks(plt, figure, run_path, name):
        ticks["x"] = [label.get_text() for label in figure.axes[0].get_xticklabels()]
        plt.close(figure)

    monkeypatch.setattr(plots, "_save", keep_ticks)
    classes = [str(5 * k) for k in range(41)]  # class names that are numbers, not positions
    plots.confusion_plot(tmp_path, np.eye(41, dtype=int), classes)
    assert ticks["x"][:3] == ["0", "10", "20"] and set(ticks["x"]) <= set(classes)


def test_image_folders_linked_in_are_followed_once(tmp_path):
    from chainrule.data.readers.image_folder import image_files
    from chainrule.train.config import Config
    from chainrule.train.run_record import data_fingerprint

    kept = write_image_folder(tmp_path / "elsewhere", per_class=3)
    (tmp_path / "photos" / "dark").mkdir(parents=True)
    (tmp_path / "photos" / "dark" / "batch1").symlink_to(kept / "dark")
    (tmp_path / "photos" / "dark" / "loop").symlink_to(tmp_path / "photos" / "dark")
    assert len(image_files(tmp_path / "photos" / "dark")) == 3
    config = Config(data="images", data_path=str(tmp_path / "photos"))
    before = data_fingerprint(config)
    (kept / "dark" / "0.png").write_bytes((kept / "light" / "0.png").read_bytes())
    assert data_fingerprint(config) != before  # a linked image changed: the data changed


def test_several_series_in_one_file_are_warned_about(tmp_path):
    from chainrule.data.readers.series import read_series

    path = tmp_path / "sales.csv"
    path.write_text("date,store,sales\n" + "".join(
        f"2021-01-{day:02d},{store},{day + 10 * k}\n"
        for day in range(1, 29) for k, store in enumerate("AB")))
    notes = read_series(path, "sales", "date").notes
    assert any(note.startswith("warning: rows at one time differ in 'store' ('A', 'B'): the "
                               "file looks like several series") for note in notes)
    path.write_text("date,sales\n" + "".join(f"2021-01-{day // 2 + 1:02d},{day}\n"
                                             for day in range(56)))  # re-measurements
    assert not any("several series" in note for note in read_series(path, "sales", "date").notes)


def test_a_run_moved_together_with_its_data_still_finds_it(tmp_path, monkeypatch, capsys):
    (tmp_path / "project").mkdir()
    write_table(tmp_path / "project" / "fraud.csv", rows=90)
    monkeypatch.chdir(tmp_path / "project")
    assert train("runs", "--data", "table", "--data-path", "fraud.csv", "--target",
                 "label") == 0
    monkeypatch.chdir(tmp_path)
    (tmp_path / "project").rename(tmp_path / "copied")  # to another disk, machine, folder
    capsys.readouterr()
    assert main(["eval", "copied/runs/run"]) == 0
    captured = capsys.readouterr()
    assert "test loss" in captured.out
    assert f"the data is no longer at {tmp_path / 'project' / 'fraud.csv'}; using " \
        f"{tmp_path / 'copied' / 'fraud.csv'}" in captured.err
    assert main(["explain", "copied/runs/run", "copied/fraud.csv", "--baseline", "mean",
                 "--out", "explained"]) == 0  # the mean of the training rows, found
    assert "no longer at" not in capsys.readouterr().err


def test_a_prompt_file_is_read_as_training_text_is(tmp_path):
    from chainrule.train.predict import prompt_tokens

    metadata = {"vocab": "\nab", "block_size": 8}
    prompt = tmp_path / "prompt.txt"
    prompt.write_bytes(b"ab\r\nba")  # written on Windows: its '\r' is no character of the text
    assert prompt_tokens(metadata, str(prompt)).tolist() == [[1, 2, 0, 2, 1]]
    with pytest.raises(ValueError, match=r"does not know: \['c'\]; it knows those of its "):
        prompt_tokens(metadata, "abc")


def test_camel_case_names_read_as_snake_case_ones(tmp_path):
    from chainrule.data.preprocessing.table import TablePreprocessor

    rng = np.random.default_rng(0)
    path = tmp_path / "churn.csv"
    path.write_text("CustomerId,StoreType,Balance,Exited\n" + "".join(
        f"{rng.integers(15_000_000, 16_000_000)},{i % 25},{rng.random():.3f},{i % 2}\n"
        for i in range(300)))
    table = read_table(path)
    described = "\n".join(TablePreprocessor.fit(table, "Exited", np.arange(300),
                                                "classification", None, (), None,
                                                None).describe())
    assert "`CustomerId` looks like an identifier" in described  # as customer_id would
    assert "`StoreType` holds whole numbers that look like codes" in described  # store_type
