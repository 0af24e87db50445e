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


PRINTS = '''import torch
x = torch.tensor([[1.0, 3.0], [2.0, 0.0]], dtype=torch.float16)
print(x.shape)
print(x.dtype, torch.float64, torch.int64)
print(x)
print(torch.max(x, 1))
p = torch.nn.Parameter
print(torch.nn.ParameterList([p(torch.ones(2)), p(torch.ones(2, 3, dtype=torch.float64))]))
print(torch.nn.ParameterDict({"a": p(torch.ones(2))}))
'''

# what PyTorch 2.13 prints for PRINTS
PYTORCH_PRINTS = '''torch.Size([2, 2])
torch.float16 torch.float64 torch.int64
tensor([[1., 3.],
        [2., 0.]], dtype=torch.float16)
torch.return_types.max(
values=tensor([3., 2.], dtype=torch.float16),
indices=tensor([1, 0]))
ParameterList(
    (0): Parameter containing: [torch.float32 of size 2]
    (1): Parameter containing: [torch.float64 of size 2x3]
)
ParameterDict(  (a): Parameter containing: [torch.FloatTensor of size 2])
'''


def test_a_program_prints_shapes_dtypes_and_containers_as_under_pytorch(tmp_path):
    (tmp_path / "show.py").write_text(PRINTS)
    result = _run(["show.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == PYTORCH_PRINTS


def test_outside_the_alias_reprs_name_chainrule():
    code = ("import chainrule as c; x = c.ones(2, dtype=c.float64); "
            "print(repr(x.shape), repr(x.dtype), repr(c.max(c.ones(2, 2), 1)).split('(')[0])")
    result = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": SRC},
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["chainrule.Size([2])", "chainrule.float64",
                                     "chainrule.return_types.max"], result.stderr


SPAWNING = '''import torch
import torch.multiprocessing as mp


def work(rank, queue):
    queue.put((rank, torch.__name__, float(torch.arange(4.0).sum()) + rank))


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    mp.spawn(work, args=(queue,), nprocs=2)
    print(sorted(queue.get(timeout=60) for _ in range(2)))
'''


def test_spawned_children_import_torch_as_chainrule_too(tmp_path):
    # a spawned child runs the main module afresh: its `import torch` must give chainrule
    # (chainrule's __name__), as the parent's does, whether or not a PyTorch is installed
    (tmp_path / "spawning.py").write_text(SPAWNING)
    result = _run(["spawning.py"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[(0, 'chainrule', 6.0), (1, 'chainrule', 7.0)]"
