"""A run killed with SIGKILL at arbitrary moments and resumed ends bit-identical to a run that
was never interrupted."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np

import chainrule as cr

SETTINGS = ["--epochs", "3", "--batch-size", "64", "--checkpoint-every", "4", "--log-every",
            "1", "--quiet", "--hidden-size", "64", "--seed", "3"]


def command(out, *extra):
    return [sys.executable, "-m", "chainrule", "train", "--out", str(out), "--name", "run",
            *SETTINGS, *extra]


def final_state(run):
    return cr.load(sorted((run / "checkpoints").glob("step-*.safetensors"))[-1])


def records_without_timing(run):
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in ("time", "samples_per_s")} for r in records]


def kill_when(process, run, checkpoints_seen, extra_delay):
    """SIGKILL the training process once it has written ``checkpoints_seen`` step files."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        written = list((run / "checkpoints").glob("step-*.safetensors")) if run.exists() else []
        if len(written) >= checkpoints_seen:
            time.sleep(extra_delay)
            break
        time.sleep(0.01)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return True
    return False


def test_sigkill_at_several_points_then_resume_matches_uninterrupted_run(tmp_path):
    env = dict(os.environ, PYTHONHASHSEED="0")
    reference = tmp_path / "reference"
    subprocess.run(command(reference), check=True, env=env, capture_output=True)

    interrupted = tmp_path / "interrupted"
    run = interrupted / "run"
    process = subprocess.Popen(command(interrupted), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    kills = 0
    # kill points: mid-epoch after the first step checkpoint, then later ones with odd delays
    for seen, delay in ((1, 0.0), (2, 0.05), (2, 0.13)):
        if kill_when(process, run, seen, delay):
            kills += 1
        process = subprocess.Popen(
            [sys.executable, "-m", "chainrule", "train", "--resume", str(run), "--quiet"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    assert process.wait(timeout=180) == 0
    assert kills >= 2, "the run finished before it could be killed; make it longer"

    expected, got = final_state(reference / "run"), final_state(run)
    assert got["position"] == expected["position"]
    for key, value in expected["model"].items():
        np.testing.assert_array_equal(got["model"][key].numpy(), value.numpy(), err_msg=key)
    assert records_without_timing(run) == records_without_timing(reference / "run")
