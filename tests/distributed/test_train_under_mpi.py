"""`chainrule train` under `mpiexec -n 2`: one run directory written by rank 0, the same
training as one process, and resuming with a different number of ranks."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and an mpiexec: pip install 'chainrule[mpi]'",
)

# no dropout, so that splitting a batch over ranks changes only the rounding
FLAGS = ["--epochs", "2", "--hidden-size", "32", "--dropout", "0", "--checkpoint-every", "10",
         "--keep-last", "100", "--quiet", "--no-diagnose"]


def train(ranks, out, *extra):
    command = [sys.executable, "-m", "chainrule", "train", "--out", str(out), "--name", "run",
               *FLAGS, *extra]
    if ranks > 1:
        command = [MPIEXEC, "-n", str(ranks), *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


def final_weights(run):
    state = cr.load(sorted((run / "checkpoints").glob("step-*.safetensors"))[-1])
    return {k: v.numpy() for k, v in state["model"].items()}, state["position"]


def assert_close(a, b):
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_two_ranks_train_like_one_process_and_only_rank_0_writes(tmp_path):
    single = train(1, tmp_path / "single")
    double = train(2, tmp_path / "double")
    assert single.returncode == 0, single.stderr
    assert double.returncode == 0, double.stderr
    assert double.stdout.count("test loss") == 1  # only rank 0 prints
    assert [p.name for p in (tmp_path / "double").iterdir()] == ["run"]
    (a, position_a), (b, position_b) = (final_weights(tmp_path / "single" / "run"),
                                        final_weights(tmp_path / "double" / "run"))
    assert position_a == position_b
    assert_close(a, b)


def test_a_two_rank_run_resumes_on_one_rank_and_vice_versa(tmp_path):
    reference = train(1, tmp_path / "reference")
    assert reference.returncode == 0, reference.stderr
    expected, _ = final_weights(tmp_path / "reference" / "run")
    for first, then in ((2, 1), (1, 2)):
        out = tmp_path / f"{first}-then-{then}"
        assert train(first, out).returncode == 0
        run = out / "run"
        # pretend the run died after step 30: drop every later checkpoint
        for path in (run / "checkpoints").glob("*.safetensors"):
            if path.name == "best.safetensors" or int(path.stem.split("-")[1]) > 30:
                path.unlink()
        command = [sys.executable, "-m", "chainrule", "train", "--resume", str(run), "--quiet"]
        if then > 1:
            command = [MPIEXEC, "-n", str(then), *command]
        resumed = subprocess.run(command, capture_output=True, text=True, timeout=240)
        assert resumed.returncode == 0, resumed.stderr
        assert "resuming" in resumed.stdout and "step 30" in resumed.stdout
        got, _ = final_weights(run)
        assert_close(got, expected)
