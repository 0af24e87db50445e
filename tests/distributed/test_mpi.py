"""The MPI tests: scripts in mpi/ launched with `mpiexec -n 2`, checked by their exit status."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule as torch

SCRIPTS = Path(__file__).parent / "mpi"
MPIEXEC = shutil.which("mpiexec", path=os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
    reason="needs mpi4py and an mpiexec: pip install 'chainrule[mpi]'",
)


def launch(ranks, script, *args, limit=60):
    """Run ``script`` on ``ranks`` processes; a hang fails the test at ``limit`` seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    command = [MPIEXEC, "-n", str(ranks), sys.executable, str(SCRIPTS / script), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=limit, env=env)


def test_two_ranks_match_one_process_with_the_double_batch():
    # SGD with momentum and Adam, 20 steps each, float64; ranks start from different weights,
    # so this also shows the wrap-time broadcast; plus no_sync accumulation
    result = launch(2, "equivalence.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("no_sync: ok") == 2


def test_unused_parameters_do_not_hang():
    result = launch(2, "unused.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("strict: ok") == 2


@pytest.mark.parametrize("how", ["raise", "exit", "quit"])
def test_a_failing_rank_ends_the_whole_run(how):
    # raise: the excepthook aborts every rank; exit: mpiexec sees a rank die and ends the
    # launch; quit: rank 1 leaves cleanly at step 5 after a barrier with rank 0, which then
    # shortens its wait limit (event-driven: no step before the failure can trip the limit)
    result = launch(2, "failure.py", how)
    assert result.returncode != 0
    assert "finished all steps" not in result.stdout
    if how == "raise":
        assert "rank 1 fails on purpose" in result.stderr
        assert "aborting all ranks" in result.stderr
    if how == "quit":
        assert "never joined" in result.stderr


def test_resume_with_another_number_of_ranks_matches_an_uninterrupted_run(tmp_path):
    for ranks, args in [(2, ["full", tmp_path / "full"]), (2, ["first", tmp_path / "ckpt"]),
                        (2, ["rest", tmp_path / "ckpt", tmp_path / "rest2"]),
                        (1, ["rest", tmp_path / "ckpt", tmp_path / "rest1"])]:
        result = launch(ranks, "resume.py", *args)
        assert result.returncode == 0, result.stdout + result.stderr
    full = torch.load(tmp_path / "full")
    for name in ["rest2", "rest1"]:
        resumed = torch.load(tmp_path / name)
        assert set(resumed) == set(full)
        for key in full:
            assert float((resumed[key] - full[key]).abs().max()) < 1e-10, (name, key)
