"""The README's example training loop runs (one epoch instead of ten, to stay quick)."""

import re
from pathlib import Path

import chainrule as cr

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_training_loop_runs_and_learns():
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert "range(10)" in code
    namespace = {}
    cr.manual_seed(0)
    exec(compile(code.replace("range(10)", "range(3)"), "README.md", "exec"), namespace)
    assert namespace["loss"].item() < 1.5  # a last batch's loss; it starts near log(10) = 2.3


def test_readme_own_data_command_runs_on_the_shipped_table(tmp_path, capsys):
    """The README's table run (shortened to 3 epochs) works from a checkout as written."""
    import shlex

    from chainrule.cli import main

    text = README.read_text()
    command = re.search(r"```sh\n(chainrule train --data table --data-path src/\S+ .*)\n```",
                        text).group(1)
    args = shlex.split(command)[1:]
    args[args.index("--data-path") + 1] = str(README.parent / args[args.index("--data-path") + 1])
    status = main(args + ["--epochs", "3", "--out", str(tmp_path), "--quiet", "--no-diagnose"])
    out = capsys.readouterr().out
    assert status == 0 and "task: classification (target 'diagnosis' holds text" in out
    assert "test loss" in out and "roc_auc" in out

    # the README's explanation of that run, as written (the run directory is the test's)
    explain = re.search(r"```sh\n(?:.*\n)*?(chainrule explain runs/tabular-table-seed0 \S+)\n",
                        text).group(1)
    args = shlex.split(explain)[1:]
    args[1] = str(tmp_path / "tabular-table-seed0")
    args[2] = str(README.parent / args[2])
    status = main(args + ["--out", str(tmp_path / "explained")])
    out = capsys.readouterr().out
    assert status == 0
    assert "most important columns (integrated-gradients, mean |attribution| over 500 rows):" in out
    assert (tmp_path / "explained" / "importance.csv").exists()
