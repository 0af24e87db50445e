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
