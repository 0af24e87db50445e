"""`chainrule train` on own data (tables, image folders, series), `predict` and `runs`, end to
end in-process on small generated files."""

import csv
import io
import json

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.train.splits import split_rows

from .owndata_files import write_image_folder, write_series, write_table

QUICK = ["--epochs", "2", "--quiet", "--no-diagnose", "--hidden-size", "16"]


def train(tmp_path, *flags, name="run"):
    status = main(["train", "--out", str(tmp_path / "runs"), "--name", name, *QUICK, *flags])
    return status, tmp_path / "runs" / name


def predictions(capsys, *args):
    status = main(["predict", *map(str, args)])
    captured = capsys.readouterr()
    return status, list(csv.DictReader(io.StringIO(captured.out))), captured.err


def test_table_classification_report_prediction_and_record(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv")
    status, run = train(tmp_path, "--data", "table", "--data-path", str(data), "--target",
                        "label", "--class-weight", "balanced", "--epochs", "15",
                        "--lr", "0.01")
    out = capsys.readouterr().out
    assert status == 0
    assert "task: classification (target 'label' holds text" in out
    assert "`customer_id` looks like an identifier" in out
    assert "`age`: 15 of 167 training values missing, imputed with the median" in out
    assert "1 categorical one-hot, 1 categorical embedded" in out
    assert "class weights (balanced)" in out
    test = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert test["test_accuracy"] > 0.8 and 0 <= test["test_roc_auc"] <= 1
    report = (run / "report.md").read_text()
    assert "| class | precision | recall | F1 | support |" in report
    assert "| rare |" in report and (run / "confusion_matrix.png").exists()
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "finished" and record["fingerprint"].startswith("sha256:")
    assert record["test"]["test_accuracy"] == test["test_accuracy"]

    new = tmp_path / "new.csv"
    new.write_text("amount,colour,city,age\n2.5,red,city3,\n-2,blue,atlantis,30\n")
    status, rows, err = predictions(capsys, run, new)
    assert status == 0 and [r["row"] for r in rows] == ["line 2", "line 3"]
    probabilities = [[float(r[f"probability_{c}"]) for c in ("fraud", "ok", "rare")]
                     for r in rows]
    np.testing.assert_allclose(np.sum(probabilities, axis=1), 1, atol=1e-5)
    assert "'city' are categories not seen in training" in err and "imputed" in err


def test_stratified_split_keeps_a_rare_class_in_every_split():
    labels = np.array([0] * 500 + [1] * 5)
    rows = split_rows(len(labels), labels)
    for name in ("train", "val", "test"):
        assert (labels[rows[name]] == 1).sum() >= 1
    assert sorted(np.concatenate(list(rows.values())).tolist()) == list(range(505))


def test_table_regression_parquet_and_prediction(tmp_path, capsys):
    pyarrow = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    rng = np.random.default_rng(0)
    x = rng.normal(size=200)
    parquet.write_table(pyarrow.table({"x": x, "y": 3 * x + 1 + rng.normal(0, 0.1, 200)}),
                        tmp_path / "t.parquet")
    status, run = train(tmp_path, "--data", "table", "--data-path", str(tmp_path / "t.parquet"),
                        "--target", "y", "--epochs", "8", "--hidden-size", "32")
    out = capsys.readouterr().out
    assert status == 0 and "task: regression" in out
    assert "test loss" in out and " mae " in out and " r2 " in out
    test = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert test["test_r2"] > 0.5
    (tmp_path / "new.csv").write_text("x,y\n0,1\n1,4\n")
    status, rows, err = predictions(capsys, run, tmp_path / "new.csv")
    assert status == 0 and len(rows) == 2 and "2 rows have 'y': mae" in err


def test_image_folder_with_augmentation_report_and_prediction(tmp_path, capsys):
    pytest.importorskip("PIL")
    root = write_image_folder(tmp_path / "images")
    status, run = train(tmp_path, "--data", "images", "--data-path", str(root), "--model", "mlp",
                        "--flip", "--random-crop", "--epochs", "4", "--batch-size", "8")
    out = capsys.readouterr().out
    assert status == 0 and "32 images in 2 classes (dark 16, light 16), resized to 6x6" in out
    assert "random left-right flips, random crops after padding by 1 pixels" in out
    assert "test images misclassified" in (run / "report.md").read_text()
    status, rows, err = predictions(capsys, run, root)
    assert status == 0 and len(rows) == 32 and "the folders name the classes: accuracy" in err
    assert {"file", "prediction", "probability_dark", "probability_light"} <= set(rows[0])


def test_series_forecast_baselines_and_prediction(tmp_path, capsys):
    data = write_series(tmp_path / "weekly.csv")
    status, run = train(tmp_path, "--data", "series", "--data-path", str(data), "--target",
                        "value", "--time", "week", "--window", "12", "--horizon", "2")
    out = capsys.readouterr().out
    assert status == 0
    assert "4 missing values were filled" in out and "1 time steps absent" in out
    assert "last_value_mae" in out and "seasonal_naive_mae" in out
    report = (run / "report.md").read_text()
    assert "| last value |" in report and "| seasonal naive |" in report
    status, rows, _ = predictions(capsys, run, data)
    assert status == 0 and [r["steps_ahead"] for r in rows] == ["1", "2"]
    assert rows[0]["time"] == "2005-10-03"  # the week after the last of 300 weeks from 2000-01-03


def test_series_lstm_preset(tmp_path, capsys):
    data = write_series(tmp_path / "weekly.csv")
    status, _ = train(tmp_path, "--data", "series", "--data-path", str(data), "--target",
                      "value", "--model", "lstm", "--window", "8", "--epochs", "1")
    assert status == 0 and "model lstm" in capsys.readouterr().out


def _bad_table(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return ["--data", "table", "--data-path", str(path), "--target", "y"]


@pytest.mark.parametrize("make, message", [
    (lambda p: _bad_table(p, "x,z\n1,2\n"), "has no column 'y'; its columns are: 'x', 'z'"),
    (lambda p: _bad_table(p, "x,y\n1,a\n2,a\n3,a\n"), r"the target 'y' has one class \('a'\)"),
    (lambda p: _bad_table(p, "x,y\n" + "1,a\n2,b\n" * 5 + "three,a\n4,b\n"),
     "column 'x' mixes numbers and text: .* line 12 has 'three', no number .* --numeric x"),
    (lambda p: _bad_table(p, ""), "bad.csv is empty"),
    (lambda p: ["--data", "series", "--data-path", str(write_series(p / "s.csv")), "--target",
                "value", "--window", "400"], "--window 400 with --horizon 1 is longer than"),
    (lambda p: ["--data", "table", "--data-path", str(p / "nope.csv"), "--target", "y"],
     "nope.csv does not exist"),
    (lambda p: ["--data", "table", "--target", "y"], "--data table needs --data-path"),
    (lambda p: ["--data", "series", "--data-path", "x.csv"], "needs --target"),
    (lambda p: ["--window", "3"], "--window applies to --data series"),
    (lambda p: ["--data", "images", "--data-path", str(p), "--model", "lstm"],
     "--data images trains the cnn or mlp preset"),
])
def test_bad_input_exits_2_naming_the_problem(tmp_path, capsys, make, message):
    status, run = train(tmp_path, *make(tmp_path))
    assert status == 2
    import re

    assert re.search(message, capsys.readouterr().err)
    assert not run.exists()


def test_unreadable_image_exits_2_naming_the_file(tmp_path, capsys):
    pytest.importorskip("PIL")
    root = write_image_folder(tmp_path / "images", per_class=3)
    (root / "dark" / "torn.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    status, _ = train(tmp_path, "--data", "images", "--data-path", str(root))
    err = capsys.readouterr().err
    assert status == 2 and "1 of 7 files are not readable images: " in err
    assert "torn.png (" in err and "pass --skip-bad-files to leave them out" in err


def test_predict_input_with_other_columns_exits_2(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv", rows=60)
    status, run = train(tmp_path, "--data", "table", "--data-path", str(data), "--target",
                        "label", "--epochs", "1")
    assert status == 0
    (tmp_path / "new.csv").write_text("amount,colour\n1,red\n")
    capsys.readouterr()
    assert main(["predict", str(run), str(tmp_path / "new.csv")]) == 2
    assert "lacks 2 of the 4 columns the model was trained on: 'age', 'city'" in \
        capsys.readouterr().err


def test_runs_list_compare_and_status(tmp_path, capsys, monkeypatch):
    data = write_table(tmp_path / "fraud.csv", rows=60)
    flags = ["--data", "table", "--data-path", str(data), "--target", "label", "--epochs", "1"]
    assert train(tmp_path, *flags, name="a")[0] == 0
    assert train(tmp_path, *flags, "--lr", "0.01", name="b")[0] == 0
    from chainrule.train.loop import Trainer

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "fit", interrupted)
    assert train(tmp_path, *flags, name="c")[0] == 130
    capsys.readouterr()
    assert main(["runs", str(tmp_path / "runs")]) == 0
    table, hints = capsys.readouterr().out.split("\n\n")
    lines = table.splitlines()
    assert lines[0].split() == ["run", "model", "data", "fingerprint", "best", "test", "status",
                                "date"]
    status = {line.split()[0]: line for line in lines[1:]}
    assert "finished" in status["a"] and "finished" in status["b"]
    assert "interrupted" in status["c"]
    assert hints.strip() == (f"c stopped before its end (interrupted); continue it with: "
                             f"chainrule train --resume {tmp_path / 'runs' / 'c'}")
    assert main(["runs", "compare", str(tmp_path / "runs" / "a"),
                 str(tmp_path / "runs" / "b")]) == 0
    out = capsys.readouterr().out
    assert "lr" in out.split("settings that differ:")[1].split("\n\n")[0]
    assert "test_accuracy" in out and "note: the runs trained on different data" not in out


def test_a_failed_run_is_recorded(tmp_path, monkeypatch):
    from chainrule.train.loop import Trainer

    def broken(self):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Trainer, "fit", broken)
    assert train(tmp_path)[0] == 70  # a bug: an internal error
    record = json.loads((tmp_path / "runs" / "run" / "run.json").read_text())
    assert record["status"] == "failed" and "disk on fire" in record["error"]


def test_predict_on_png_files_matches_the_model_on_the_builtin_digits(tmp_path, capsys):
    """A run on the built-in digits predicts PNG files through its saved pixel statistics: the
    same probabilities as the model on the standardised arrays (up to the PNG's 8-bit
    rounding of 0..16 pixel values)."""
    Image = pytest.importorskip("PIL.Image")
    from chainrule import no_grad
    from chainrule.data import load_digits
    from chainrule.train.metrics import softmax
    from chainrule.train.predict import load_model
    from chainrule.train.tasks import model_outputs

    status, run = train(tmp_path, "--epochs", "1")
    assert status == 0
    images, labels = load_digits("test")
    for index in range(12):
        folder = tmp_path / "png" / str(labels[index])
        folder.mkdir(parents=True, exist_ok=True)
        pixels = np.round(images[index, 0] * 255).astype(np.uint8)
        Image.fromarray(pixels).save(folder / f"{index:02d}.png")
    capsys.readouterr()
    status, rows, _ = predictions(capsys, run, tmp_path / "png")
    assert status == 0 and len(rows) == 12
    _, _, pre, model = load_model(run)
    with no_grad():
        expected = softmax(model_outputs(model, (images[:12] - pre.mean) / pre.scale))
    order = [int(r["file"].split("/")[-1][:2]) for r in rows]
    got = np.array([[float(r[f"probability_{k}"]) for k in range(10)] for r in rows])
    np.testing.assert_allclose(got, expected[order], atol=2e-2)


def test_predict_with_a_text_model_gives_next_character_probabilities(tmp_path, capsys):
    status, run = train(tmp_path, "--model", "lstm", "--data", "text", "--steps-per-epoch", "3",
                        "--block-size", "8", "--epochs", "1")
    assert status == 0
    capsys.readouterr()
    status, rows, _ = predictions(capsys, run, "KING")
    assert status == 0 and len(rows) == 10
    assert sum(float(r["probability"]) for r in rows) <= 1.0 + 1e-6
