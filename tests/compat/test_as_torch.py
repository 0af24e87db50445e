"""``python -m chainrule.as_torch``: a program runs as ``python`` would run it, importing its
own modules beside it, with ``import torch`` giving chainrule."""

import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _run(args, cwd):
    env = {"PYTHONPATH": SRC, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "chainrule.as_torch", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _program(folder):
    (folder / "helper.py").write_text(
        "import torch\n\ndef total(n):\n    return float(torch.arange(n).sum())\n")
    (folder / "train.py").write_text(
        "import sys\nimport torch\nfrom helper import total\n"
        "print(torch.__name__, total(int(sys.argv[1])), sys.argv[0].endswith('train.py'))\n")


def test_a_script_imports_the_modules_beside_it_from_any_directory(tmp_path):
    program, elsewhere = tmp_path / "program", tmp_path / "elsewhere"
    program.mkdir()
    elsewhere.mkdir()
    _program(program)
    result = _run([str(program / "train.py"), "5"], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "10.0", "True"]


def test_a_module_runs_with_dash_m_as_python_runs_it(tmp_path):
    package = tmp_path / "mypackage"
    package.mkdir()
    (package / "__init__.py").write_text("")
    _program(package)
    (package / "train.py").write_text(
        "import sys\nimport torch\nfrom mypackage.helper import total\n"
        "print(torch.__name__, total(int(sys.argv[1])), sys.argv[0].endswith('train.py'))\n")
    result = _run(["-m", "mypackage.train", "4"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["chainrule", "6.0", "True"]


def test_a_missing_script_is_named_with_exit_status_2(tmp_path):
    result = _run(["no_such_script.py"], cwd=tmp_path)
    assert result.returncode == 2
    assert "no_such_script.py" in result.stderr and "Traceback" not in result.stderr
