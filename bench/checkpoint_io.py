"""Checkpoint write and read speed: ``chainrule.save``/``load`` (our safetensors container, a
CRC-32 of the whole file, every read bounded and checked) beside the safetensors library's own
``save_file``/``load_file`` (no checksum), on the same arrays.

    python bench/checkpoint_io.py --sizes 4 64 256 --repeat 5

Prints the median MB/s of each over ``--repeat`` runs, files in a temporary directory (writes
include the fsync of the file and of its directory for chainrule; safetensors does not fsync).
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import chainrule as cr


def state_of(megabytes):
    """A model-like state: float32 matrices of 1 MB each, plus an optimizer-like copy."""
    rng = np.random.default_rng(0)
    count = max(megabytes // 2, 1)
    weights = {f"layer{i}.weight": cr.from_numpy(rng.standard_normal((512, 512), np.float32))
               for i in range(count)}
    moments = {i: {"exp_avg": cr.zeros(512, 512)} for i in range(count)}
    return {"model": weights, "optimizer": {"state": moments}, "step": 7, "lr": 1e-3}


def timed(action, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 64, 256], help="MB")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    try:
        from safetensors.numpy import load_file, save_file
    except ImportError:
        save_file = load_file = None
    print("| MB | chainrule save MB/s | chainrule load MB/s | safetensors save MB/s | "
          "safetensors load MB/s |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as directory:
        ours, theirs = Path(directory) / "ours.safetensors", Path(directory) / "theirs"
        for size in args.sizes:
            state = state_of(size)
            megabytes = sum(t.numel() * 4 for t in state["model"].values()) * 2 / 2**20
            row = [timed(lambda state=state: cr.save(state, ours), args.repeat),
                   timed(lambda: cr.load(ours), args.repeat)]
            if save_file is not None:
                arrays = {k: t.numpy() for k, t in state["model"].items()}
                arrays.update({f"m{k}": v["exp_avg"].numpy()
                               for k, v in state["optimizer"]["state"].items()})
                row += [timed(lambda arrays=arrays: save_file(arrays, str(theirs)), args.repeat),
                        timed(lambda: load_file(str(theirs)), args.repeat)]
            cells = [f"{megabytes / seconds:,.0f}" for seconds in row]
            cells += ["-"] * (4 - len(cells))
            print(f"| {megabytes:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
