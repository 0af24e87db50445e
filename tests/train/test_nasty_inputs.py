"""Own data as people's files really are (tests/train/nasty_inputs.py): every valid input
trains a few steps and predicts, every invalid one exits 2 with a message naming the file,
line or column, with no traceback and no run directory left behind."""

import csv
import io
import sys

import pytest

from chainrule.cli import main

from .nasty_inputs import all_cases

pytest.importorskip("PIL")
VALID, INVALID = all_cases()
QUICK = ["--epochs", "1", "--quiet", "--no-diagnose", "--hidden-size", "8", "--num-layers", "1",
         "--batch-size", "64"]


@pytest.fixture(autouse=True)
def no_plots(monkeypatch):
    """The plots are tested elsewhere; here they would only cost time."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)


def _train(tmp_path, case):
    if case.name.startswith("Parquet"):
        pytest.importorskip("pyarrow")
    source = case.write(tmp_path)
    out = tmp_path / "runs"
    status = main(["train", "--data", case.kind, "--data-path", str(source), "--out", str(out),
                   "--name", "run", *QUICK, *case.flags])
    return status, source, out


@pytest.mark.parametrize("case", VALID, ids=str)
def test_a_valid_input_trains_and_predicts(tmp_path, capsys, case):
    status, source, out = _train(tmp_path, case)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "Traceback" not in captured.err
    skips = [flag for flag in case.flags if flag.startswith("--skip-bad")]
    status = main(["predict", str(out / "run"), str(source), *skips])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert rows and all(row["prediction"] if "prediction" in row else row for row in rows)


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_an_invalid_input_exits_2_naming_the_problem(tmp_path, capsys, case):
    status, _, out = _train(tmp_path, case)
    err = capsys.readouterr().err
    assert status == 2, err
    assert err.startswith("chainrule train: error: ") and "Traceback" not in err
    assert __import__("re").search(case.expect, err), err
    assert not out.exists() or not any(out.iterdir())  # no run directory left behind


def test_predict_reads_new_rows_as_training_read_them_and_notes_what_differs(tmp_path, capsys):
    """New rows in another file layout (delimiter, encoding, column order), with stray text
    in a numeric column, an unseen category and an unknown class in the truth column."""
    case = next(c for c in VALID if c.name == "nasty table 0")
    status, _, out = _train(tmp_path, case)
    assert status == 0
    new = tmp_path / "new.csv"
    new.write_bytes("outcome;colour;Amount (€);signed up;region;vip;active;note;colour\n"
                    "maybe;rouge;12,5;2021-02-03;2;yes;True;ok;rouge\n"
                    "oui;violet;oops;;9;no;False;;vert\n"
                    "non;vert;80;2021-05-06;1;;;ok;vert\n".encode("cp1252"))
    capsys.readouterr()
    status = main(["predict", str(out / "run"), str(new)])
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert status == 0, captured.err
    assert [r["row"] for r in rows] == ["line 2", "line 3", "line 4"]
    assert "1 values of 'Amount (€)' are not (finite) numbers: read as missing" in captured.err
    assert "values of 'colour' are categories not seen in training" in captured.err
    assert "note: no score: " in captured.err and "'maybe', a class the model" in captured.err


def test_predict_refuses_a_series_without_the_columns_the_model_reads(tmp_path, capsys):
    case = next(c for c in VALID if c.name == "several value columns, lstm")
    status, source, out = _train(tmp_path, case)
    assert status == 0
    lines = source.read_text().splitlines()
    (tmp_path / "new.csv").write_text("\n".join(line.rsplit(",", 1)[0] for line in lines))
    capsys.readouterr()
    status = main(["predict", str(out / "run"), str(tmp_path / "new.csv")])
    err = capsys.readouterr().err
    assert status == 2 and "has no column 'temp'" in err and "Traceback" not in err
