"""`chainrule explain RUN_DIR INPUT` on every data kind, end to end in-process: what it writes,
that the attributions speak the data's terms and find the signal the data was built with, the
checks, the run report's section, and the errors."""

import csv

import numpy as np
import pytest

from chainrule.cli import main

from ..train.owndata_files import write_image_folder, write_series, write_table

QUICK = ["--quiet", "--no-diagnose", "--hidden-size", "16"]


def train(root, name, *flags):
    assert main(["train", "--out", str(root), "--name", name, *QUICK, *flags]) == 0
    return root / name


def explain(capsys, *args):
    status = main(["explain", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("table")
    data = write_table(root / "fraud.csv")  # label: fraud when amount + 1.5 * (colour red) > 1
    return train(root, "run", "--data", "table", "--data-path", str(data), "--target", "label",
                 "--epochs", "12", "--lr", "0.01"), data


def test_table_rows_are_explained_per_column_and_ranked(table_run, capsys, tmp_path):
    run, data = table_run
    status, out, _ = explain(capsys, run, data, "--out", tmp_path, "--limit", "120")
    assert status == 0 and "most important columns (integrated-gradients" in out
    rows = read_csv(tmp_path / "attributions.csv")
    assert len(rows) == 120
    # one column per table column used: the one-hot colour and the embedded city summed
    assert list(rows[0]) == ["row", "prediction", "explained", "output", "amount", "age",
                             "colour", "city"]
    ranking = [r["column"] for r in read_csv(tmp_path / "importance.csv")]
    # the signal the table was built with: amount first, colour above the noise column age
    # (the small model also leans on its 14-city embedding, which it can memorise)
    assert ranking[0] == "amount" and ranking.index("colour") < ranking.index("age")
    assert all(float(r["city"]) != 0 for r in rows[:10])  # explained at its embedding
    assert (tmp_path / "importance.png").exists()
    assert not (tmp_path / "importance_groups.csv").exists()  # no near-duplicate columns
    assert "within" in out and "of their total size" in out  # the convergence delta


def test_table_target_class_and_other_methods(table_run, capsys, tmp_path):
    run, data = table_run
    for method in ("saliency", "gradient-x-input", "smoothgrad"):
        status, out, _ = explain(capsys, run, data, "--out", tmp_path, "--method", method,
                                 "--target", "fraud", "--limit", "30")
        assert status == 0 and f"({method}, mean |attribution| over 30 rows)" in out
        rows = read_csv(tmp_path / "attributions.csv")
        assert {r["explained"] for r in rows} == {"fraud"}
        if method != "gradient-x-input":
            assert all(float(r["city"]) >= 0 for r in rows)  # magnitudes


def test_table_sanity_checks_pass(table_run, capsys):
    run, data = table_run
    status, out, _ = explain(capsys, run, data, "--check", "--limit", "40")
    assert status == 0, out
    assert "completeness: integrated gradients, 64 steps, float64" in out
    assert "model randomisation: integrated-gradients: rank correlation" in out
    assert out.count("-> passed") == 2


def test_table_report_says_what_the_model_looks_at(table_run):
    run, _ = table_run
    report = (run / "report.md").read_text()
    section = report[report.index("## What the model looks at"):]
    assert "| rank | column | mean abs attribution |" in section
    assert "![column importance](what_the_model_looks_at/importance.png)" in section
    assert (run / "what_the_model_looks_at" / "importance.png").exists()


def test_near_duplicate_columns_are_also_ranked_together(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv")
    lines = data.read_text().splitlines()  # a copy of amount in cents, as tables often hold
    lines = [lines[0] + ",cents"] + [f"{line},{round(float(line.split(',')[1]) * 100)}"
                                     for line in lines[1:]]
    data.write_text("\n".join(lines) + "\n")
    run = train(tmp_path, "run", "--data", "table", "--data-path", str(data), "--target",
                "label", "--epochs", "3")
    status, out, _ = explain(capsys, run, data, "--out", tmp_path / "out", "--limit", "60")
    assert status == 0 and "near-duplicate columns (|correlation| >= 0.9 over these rows)" in out
    grouped = {r["columns"]: float(r["mean_abs_attribution"])
               for r in read_csv(tmp_path / "out" / "importance_groups.csv")}
    assert set(grouped) == {"amount / cents", "age", "colour", "city"}
    rows = read_csv(tmp_path / "out" / "attributions.csv")
    summed = np.mean([abs(float(r["amount"]) + float(r["cents"])) for r in rows])
    assert grouped["amount / cents"] == pytest.approx(summed, rel=1e-4)
    section = (run / "report.md").read_text()
    assert "over the training rows) ranked together" in section
    assert "| rank | columns | mean abs attribution |" in section


@pytest.mark.parametrize("flags, message", [
    (["--method", "grad-cam"], "grad-cam needs an image model"),
    (["--method", "attention"], "attention needs a transformer"),
    (["--method", "lime"], "unknown --method 'lime'"),
    (["--baseline", "blur"], "a table has no neighbourhood to blur over"),
    (["--target", "nope"], "'nope' is not a class of this model; its classes are: 'fraud'"),
    (["--steps", "0"], "--steps and --limit must be at least 1"),
])
def test_table_errors_say_what_to_do(table_run, capsys, tmp_path, flags, message):
    run, data = table_run
    status, _, err = explain(capsys, run, data, "--out", tmp_path, *flags)
    assert status == 2 and message in err


@pytest.mark.parametrize("where, message", [
    ("file", "is a file, not a folder"),
    ("under_file", "which is a file, not a folder"),
])
def test_an_out_that_cannot_be_a_folder_is_refused_before_any_work(table_run, capsys, tmp_path,
                                                                    where, message):
    run, data = table_run
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    out = taken if where == "file" else taken / "explanations"
    status, stdout, err = explain(capsys, run, data, "--out", out)
    assert status == 2 and "--out" in err and message in err
    assert stdout == "" and taken.read_text() == "mine"


def test_mean_baseline_needs_the_training_data(table_run, capsys, tmp_path):
    run, data = table_run
    status, out, _ = explain(capsys, run, data, "--out", tmp_path, "--baseline", "mean",
                             "--limit", "20")
    assert status == 0 and "baseline mean" in out
    moved = tmp_path / "moved.csv"
    data.rename(moved)
    try:
        status, _, err = explain(capsys, run, moved, "--out", tmp_path, "--baseline", "mean")
    finally:
        moved.rename(data)
    assert status == 2 and "needs the run's training data" in err and "--baseline zeros" in err


def test_image_folder_heatmaps_and_grad_cam(tmp_path, capsys):
    pytest.importorskip("PIL")
    images = write_image_folder(tmp_path / "images", per_class=8)
    run = train(tmp_path / "runs", "cnn", "--data", "images", "--data-path", str(images),
                "--model", "cnn", "--epochs", "3", "--batch-size", "8")
    status, out, _ = explain(capsys, run, images / "light", "--limit", "3")
    assert status == 0 and "3 heatmaps (integrated-gradients)" in out
    listed = read_csv(run / "explanations" / "heatmaps.csv")
    assert len(listed) == 3 and all((run / "explanations" / r["heatmap"]).exists()
                                    for r in listed)
    status, out, _ = explain(capsys, run, images / "dark" / "0.png", "--method", "grad-cam",
                             "--out", tmp_path / "cam", "--target", "dark")
    assert status == 0 and (tmp_path / "cam" / "0000_0.png").exists()
    assert read_csv(tmp_path / "cam" / "heatmaps.csv")[0]["explained"] == "dark"
    status, _, err = explain(capsys, run, images, "--method", "grad-cam", "--layer", "conv9")
    assert status == 2 and "no layer 'conv9'; its convolutions are: 0, 2" in err
    assert "![heatmaps of test images](what_the_model_looks_at/heatmaps.png)" in (
        run / "report.md").read_text()


def test_series_windows_are_explained_per_time_step(tmp_path, capsys):
    data = write_series(tmp_path / "weekly.csv")
    run = train(tmp_path / "runs", "mlp", "--data", "series", "--data-path", str(data),
                "--target", "value", "--time", "week", "--window", "12", "--horizon", "2",
                "--epochs", "3")
    status, out, _ = explain(capsys, run, data, "--target", "2", "--limit", "50")
    assert status == 0 and "most important steps (integrated-gradients" in out
    rows = read_csv(run / "explanations" / "attributions.csv")
    assert len(rows) == 50 and {r["explained"] for r in rows} == {"t+2"}
    assert list(rows[0])[2:] == [f"t-{k}" for k in range(11, 0, -1)] + ["t"]
    assert float(rows[-1]["t"]) == 0.0  # the model sees each window relative to its last value
    assert (run / "explanations" / "windows.png").exists()
    status, _, err = explain(capsys, run, data, "--target", "3")
    assert status == 2 and "name the step 1..2" in err
    assert "Mean |attribution| per time step over" in (run / "report.md").read_text()


def test_text_prompt_characters_and_attention(tmp_path, capsys):
    run = train(tmp_path, "gpt", "--model", "gpt", "--data", "text", "--epochs", "1",
                "--steps-per-epoch", "3", "--block-size", "16", "--num-layers", "1")
    status, out, _ = explain(capsys, run, "To be, or not", "--target", "e")
    assert status == 0 and "next character 'e'" in out
    rows = read_csv(run / "explanations" / "attributions.csv")
    assert "".join(r["character"] for r in rows) == "To be, or not"
    page = (run / "explanations" / "tokens.html").read_text()
    assert page.count("<span") == len("To be, or not") and "title=" in page
    status, out, _ = explain(capsys, run, "To be, or not", "--method", "attention")
    assert status == 0 and "blocks.layers.0.self_attn" in out
    assert (run / "explanations" / "attention.html").exists()
    status, out, _ = explain(capsys, run, "To be", "--check")
    assert status in (0, 1) and "completeness" in out and "model randomisation" in out
    report = (run / "report.md").read_text()
    assert "[tokens.html](what_the_model_looks_at/tokens.html)" in report
    status, _, err = explain(capsys, run, "To be", "--target", "\u00e9")
    assert status == 2 and "is not a character the model knows" in err


def test_builtin_digits_run_explains_png_digits(tmp_path, capsys):
    Image = pytest.importorskip("PIL.Image")
    from chainrule.data import load_digits

    run = train(tmp_path, "digits", "--epochs", "1")
    images, labels = load_digits("test")
    for index in range(2):
        Image.fromarray((images[index, 0] * 255).astype(np.uint8)).save(
            tmp_path / f"digit{labels[index]}.png")
    status, out, _ = explain(capsys, run, tmp_path / f"digit{labels[0]}.png", "--out",
                             tmp_path / "out", "--method", "saliency")
    assert status == 0 and "1 heatmaps (saliency)" in out
    assert len(list((tmp_path / "out").glob("*.png"))) == 1
