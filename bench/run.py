"""Run the benchmark suite: each workload on chainrule and (when installed) PyTorch, interleaved,
each measurement in a fresh process; print and write a Markdown table.

    python bench/run.py                     # everything, both libraries when torch imports
    python bench/run.py --lib chainrule --workloads mlp tiny
    python bench/run.py --out bench/results.md

A measurement: build the workload, run ``--warmup`` steps, then time ``--steps`` steps one by one
and report the median ms/step. Peak memory is measured in a second fresh process: how far the
peak resident set rises above the resident set at rest between steps, i.e. the memory a step
needs for activations, saved tensors, gradients and temporaries (the model, data and library are
not counted). That process runs with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_), so
that freed arrays leave the resident set at once, for both libraries alike; its timings are not
used.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def measure(lib_name, workload, warmup, steps, threads):
    """One measurement, in this process; returns a dict (printed as JSON by the child)."""
    import resource

    sys.path.insert(0, str(HERE))
    import kernels
    import workloads

    lib = __import__(lib_name)
    if lib_name == "torch":
        lib.set_num_threads(threads)
        lib.manual_seed(0)
    else:
        lib.manual_seed(0)
    build = {**workloads.WORKLOADS, **workloads.MICRO, **kernels.KERNELS}[workload]
    step = build(lib)
    for _ in range(warmup):
        step()
    baseline = resident_kb()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"ms": statistics.median(times) * 1e3, "peak_mb": max(peak - baseline, 0) / 1024}


def resident_kb():
    """The process's resident set now, in KiB (ru_maxrss is only the peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def import_time(lib_name, repeats=5):
    """Median wall time of ``python -c 'import LIB'`` in a fresh interpreter, less that of
    ``python -c pass``. Bytecode is cached (in a private folder, warmed by a first import), as
    after ``pip install``: an environment with PYTHONDONTWRITEBYTECODE would otherwise time
    compiling every module on every import."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        subprocess.run([sys.executable, "-c", f"import {lib_name}"], check=True, env=env)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", f"import {lib_name}"], check=True, env=env)
            times.append(time.perf_counter() - start)
        baseline = []
        for _ in range(repeats):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], check=True, env=env)
            baseline.append(time.perf_counter() - start)
    return statistics.median(times) - statistics.median(baseline)


def numpy_gemm_gflops():
    """The float32 GEMM rate NumPy's BLAS reaches at the mlp step's matrix shapes."""
    import numpy as np

    rng = np.random.default_rng(0)
    shapes = [((128, 784), (784, 512)), ((128, 512), (512, 512)), ((128, 512), (512, 10)),
              ((128, 512), (512, 784)), ((784, 128), (128, 512)), ((512, 128), (128, 512))]
    pairs = [(rng.standard_normal(a, dtype=np.float32), rng.standard_normal(b, dtype=np.float32))
             for a, b in shapes]
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b in pairs)
    best = float("inf")
    for _ in range(30):
        start = time.perf_counter()
        for a, b in pairs:
            a @ b
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e9


def child(lib_name, workload, args):
    """Run one measurement in a fresh interpreter, so memory and warm caches don't leak; then
    the memory measurement in another."""
    timed = _child(lib_name, workload, args.warmup, args.steps, args.threads)
    if "error" in timed:
        return timed
    memory = _child(lib_name, workload, 2, 3, args.threads, MALLOC_MMAP_THRESHOLD_="65536")
    return {"ms": timed["ms"], "peak_mb": memory.get("peak_mb", float("nan"))}


def _child(lib_name, workload, warmup, steps, threads, **extra_env):
    command = [sys.executable, __file__, "--child", lib_name, workload, "--warmup",
               str(warmup), "--steps", str(steps), "--threads", str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), **extra_env)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["(no message)"]
        return {"error": tail[0]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def torch_available():
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    return probe.returncode == 0


def table(rows, libs, extras):
    head = "| workload | " + " | ".join(f"{lib} ms/step" for lib in libs)
    head += " | speed chainrule/torch |" if len(libs) == 2 else " |"
    head += " " + " | ".join(f"{lib} peak MB" for lib in libs) + " |"
    lines = [head, "|" + " --- |" * (head.count("|") - 1)]
    for name, results in rows.items():
        cells = []
        for lib in libs:
            r = results.get(lib, {})
            cells.append(f"{r['ms']:.3f}" if "ms" in r else r.get("error", "-")[:40])
        if len(libs) == 2:
            a, b = results.get(libs[0], {}), results.get(libs[1], {})
            cells.append(f"{b['ms'] / a['ms']:.2f}x" if "ms" in a and "ms" in b else "-")
        for lib in libs:
            r = results.get(lib, {})
            cells.append(f"{r['peak_mb']:.1f}" if "peak_mb" in r else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [""] + extras)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=["chainrule", "torch", "both"], default="both")
    parser.add_argument("--workloads", nargs="*", default=None,
                        help="subset of: mlp cnn gpt lstm tiny op_mul op_matmul64")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    parser.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.warmup, args.steps, args.threads)))
        return

    sys.path.insert(0, str(HERE))
    import workloads

    libs = ["chainrule", "torch"] if args.lib == "both" else [args.lib]
    if "torch" in libs and not torch_available():
        print("PyTorch is not installed: measuring chainrule alone", file=sys.stderr)
        libs = ["chainrule"]
    names = args.workloads or list(workloads.WORKLOADS) + list(workloads.MICRO)
    rows = {}
    for name in names:
        rows[name] = {}
        for lib in libs:  # interleaved: both libraries per workload, in turn
            rows[name][lib] = child(lib, name, args)
            print(f"{name:12s} {lib:10s} {rows[name][lib]}", file=sys.stderr)
    extras = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, {args.threads} threads; median of "
              f"{args.steps} steps after {args.warmup} warm-up steps."]
    if "mlp" in rows and "ms" in rows["mlp"].get("chainrule", {}):
        achieved = workloads.mlp_flops() / (rows["mlp"]["chainrule"]["ms"] / 1e3) / 1e9
        gemm = numpy_gemm_gflops()
        extras.append(f"mlp step: {achieved:.1f} GFLOP/s achieved by chainrule; NumPy float32 GEMM "
                      f"at the same shapes: {gemm:.1f} GFLOP/s ({achieved / gemm:.0%}).")
    for lib in libs:
        extras.append(f"`import {lib}`: {import_time(lib):.3f} s")
    text = table(rows, libs, extras)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
