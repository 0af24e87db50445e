"""A run records its data's fingerprint; when the data changes afterwards, `eval` warns that its
metrics are of other data, and `--resume` refuses to go on training on it unless told to with
--allow-changed-data (then it warns and records the earlier fingerprint)."""

import json

import pytest

from chainrule.cli import main

from .owndata_files import write_table
from .runs import without_plots


@pytest.fixture(autouse=True)
def _no_plots():
    with without_plots():
        yield


@pytest.fixture
def run_and_data(tmp_path):
    data = write_table(tmp_path / "t.csv", rows=60)
    assert main(["train", "--out", str(tmp_path), "--name", "run", "--data", "table",
                 "--data-path", str(data), "--target", "label", "--epochs", "1",
                 "--hidden-size", "8", "--quiet", "--no-diagnose"]) == 0
    return tmp_path / "run", data


def fingerprint(run):
    return json.loads((run / "run.json").read_text())["fingerprint"]


def test_unchanged_data_is_used_without_a_word(run_and_data, capsys):
    run, _ = run_and_data
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert "data has changed" not in str(capsys.readouterr())


def test_changed_data_warns_eval_and_stops_resume_unless_allowed(run_and_data, capsys):
    run, data = run_and_data
    before = fingerprint(run)
    write_table(data, rows=60, seed=1)  # same columns, other rows
    capsys.readouterr()

    assert main(["eval", str(run)]) == 0
    err = capsys.readouterr().err
    assert f"warning: the data has changed since the run trained on it: {data}" in err
    assert before.removeprefix("sha256:")[:12] in err and "test split may hold rows" in err

    assert main(["train", "--resume", str(run), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "the data has changed since the run trained on it" in err
    assert "--allow-changed-data" in err and fingerprint(run) == before

    assert main(["train", "--resume", str(run), "--quiet", "--allow-changed-data"]) == 0
    assert "resuming on it (--allow-changed-data)" in capsys.readouterr().out
    record = json.loads((run / "run.json").read_text())
    assert record["earlier_fingerprints"] == [before] and record["fingerprint"] != before


def test_the_flag_belongs_to_resume(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path), "--allow-changed-data"]) == 2
    assert "--allow-changed-data applies to --resume only" in capsys.readouterr().err
