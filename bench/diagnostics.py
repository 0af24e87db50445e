"""The cost of the gradient diagnostics: a training step with a ``GradientMonitor`` at its default
settings against the same step without, on the bench models (``mlp`` and ``gpt`` of
bench/workloads.py), with one and with two BLAS threads.

    python bench/diagnostics.py                         # mlp and gpt, 1 and 2 threads
    python bench/diagnostics.py --workloads mlp --threads 1 --steps 400

Each measurement runs in a fresh process with OMP/OPENBLAS/MKL_NUM_THREADS set. It builds the
workload once (two copies would differ in where their arrays lie in memory, which alone moves a
step's time by several percent), warms it up, then times blocks of ``--block`` steps without and
with a monitor attached, alternating, so that a busy machine slows both alike. One monitor
serves the whole measurement: it is closed (its hooks removed) for the plain blocks and attached
again for the monitored ones, so that its step count goes on and what it keeps between samples
(its weight buffers) is made once, as in a real run. It is attached from the first step, as a
run attaches it, and watches the ``--warmup`` steps untimed: the early samples (steps 1, 2, 4,
..., 32) and its one-time costs fall there, so that over ``--steps`` monitored steps (a whole
number of sampling periods) sampled steps count as often as in a long run, and what it learnt in
the first steps (each layer's largest gradient) is what a run's monitor knows. (Before
2026-12-03 19:50 UTC it was attached at step ``--warmup`` to a model already trained that far:
on the bench MLP, which memorises its batch within 40 steps, its layers then never settled, and
every other sample copied their weights whole.) Before each block the garbage collector runs
(untimed), while whatever the steps themselves leave is still collected inside the timed blocks.
The overhead is the monitored blocks' total time over the plain blocks', minus one; a block's
total moves with a burst of load in it, so the last column pairs each monitored block with the
plain block beside it, sums the CPU-time differences over the pairs of one sampling period (50
steps: one sampled step each, as in a run) and gives the median of those sums, per step (in
microseconds: the monitor's own cost, which a percentage hides behind the step's). The median
over ``--repeats`` processes is reported, for wall time and for the process's CPU time (on a
machine shared with other work, wall time also counts the time the cores spent on others; CPU
time counts only this process's work).
"""

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Python put this folder first on sys.path; its scripts would shadow packages of the same
# name that the libraries import (numba probes `coverage`: with this folder and its
# coverage.py, since renamed, on the path numba failed to import, and every kernel, the
# monitor's compiled reads included, fell back to NumPy), so it leaves the path, and
# workloads.py is loaded from its file.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def load_workloads():
    import importlib.util

    spec = importlib.util.spec_from_file_location("workloads", HERE / "workloads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(workload, steps, block, warmup):
    """One measurement in this process: plain and monitored ms per step, wall and CPU."""
    workloads = load_workloads()

    import chainrule
    from chainrule.diagnostics import GradientMonitor

    chainrule.manual_seed(0)
    step = workloads.WORKLOADS[workload](chainrule)
    # one monitor for the whole run, attached from the first step as a run attaches it: the
    # warm-up steps are monitored, untimed, so that its one-time costs (the compiled norms load
    # on their first call: 0.4 s of CPU) and the early samples fall before the timing, and what
    # it learns in them stays, as in a run (each layer's largest gradient, which decides when
    # the layer has settled: docs/diagnostics.md, stalled). It is closed for the plain blocks
    # and attached again for the monitored ones, its step count and kept buffers going on.
    monitor = GradientMonitor(step.model)
    for _ in range(warmup):
        monitor.step(step())
    monitor.close()
    wall = {False: 0.0, True: 0.0}
    cpu = {False: 0.0, True: 0.0}
    blocks = {False: [], True: []}  # CPU seconds of each block
    for round_ in range(2 * (steps // block)):
        monitored = (round_ % 4) in (1, 2)  # plain, monitored, monitored, plain, ...
        if monitored:
            monitor.attach()
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(block):
            loss = step()
            if monitored:
                monitor.step(loss)
        wall[monitored] += time.perf_counter() - start
        cpu[monitored] += time.process_time() - start_cpu
        blocks[monitored].append(time.process_time() - start_cpu)
        if monitored:
            monitor.close()
    monitor.close()
    if "numba" not in sys.modules:  # the kernels would be off: a figure for another library
        print("bench/diagnostics.py: numba is not loaded; measuring the NumPy path",
              file=sys.stderr)
    return {"plain_ms": wall[False] / steps * 1e3, "monitored_ms": wall[True] / steps * 1e3,
            "plain_cpu_ms": cpu[False] / steps * 1e3,
            "monitored_cpu_ms": cpu[True] / steps * 1e3,
            "paired_us": _paired(blocks, max(monitor.every // block, 1)) / block * 1e6}


def _paired(blocks, period):
    """The median over sampling periods (``period`` pairs of blocks) of the monitored blocks'
    CPU time minus the plain ones', per block."""
    differences = [m - p for p, m in zip(blocks[False], blocks[True])]
    sums = [sum(differences[i:i + period]) / period
            for i in range(0, len(differences) - period + 1, period)]
    return statistics.median(sums)


def run(workload, threads, args):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    command = [sys.executable, __file__, "--child", workload, "--steps", str(args.steps),
               "--block", str(args.block), "--warmup", str(args.warmup)]
    results = []
    for _ in range(args.repeats):
        out = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
        if out.stderr:
            print(out.stderr, end="", file=sys.stderr)  # a kernel that could not load, ...
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    overheads = [r["monitored_ms"] / r["plain_ms"] - 1 for r in results]
    cpu = [r["monitored_cpu_ms"] / r["plain_cpu_ms"] - 1 for r in results]
    middle = sorted(results, key=lambda r: r["monitored_ms"] / r["plain_ms"])[len(results) // 2]
    return {**middle, "overhead": statistics.median(overheads), "all": overheads,
            "cpu_overhead": statistics.median(cpu), "all_cpu": cpu,
            "paired_us": statistics.median(r["paired_us"] for r in results),
            "all_paired": [r["paired_us"] for r in results]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", nargs="*", default=["mlp", "gpt"])
    parser.add_argument("--threads", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=300, help="timed steps per copy")
    parser.add_argument("--block", type=int, default=10, help="steps per timed block")
    parser.add_argument("--warmup", type=int, default=40, help="also the first monitored step")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", metavar="WORKLOAD", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.steps, args.block, args.warmup)))
        return
    print("| workload | threads | step ms (CPU ms) | monitored ms (CPU ms) | overhead, wall "
          "(runs) | overhead, CPU time (runs) | monitor, CPU us per step, paired (runs) |")
    print("| --- | ---: | ---: | ---: | --- | --- | --- |")
    for workload in args.workloads:
        for threads in args.threads:
            r = run(workload, threads, args)
            wall = ", ".join(f"{o:+.1%}" for o in r["all"])
            cpu = ", ".join(f"{o:+.1%}" for o in r["all_cpu"])
            paired = ", ".join(f"{o:.0f}" for o in r["all_paired"])
            print(f"| {workload} | {threads} | {r['plain_ms']:.2f} ({r['plain_cpu_ms']:.2f}) | "
                  f"{r['monitored_ms']:.2f} ({r['monitored_cpu_ms']:.2f}) | "
                  f"{r['overhead']:+.1%} ({wall}) | {r['cpu_overhead']:+.1%} ({cpu}) | "
                  f"{r['paired_us']:.0f} ({paired}) |",
                  flush=True)


if __name__ == "__main__":
    main()
