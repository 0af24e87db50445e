"""Run the benchmark suite: each workload on chainrule and (when installed) PyTorch, interleaved,
each measurement in a fresh process; print and write a Markdown table.

    python bench/run.py                     # everything, both libraries when torch imports
    python bench/run.py --lib chainrule --workloads mlp tiny
    python bench/run.py --out bench/results.md
    python bench/run.py --busy                  # one core kept busy; chainrule at 1 thread too
    python bench/run.py --table kernels         # the kernel table: one hot op each

A measurement: build the workload, run ``--warmup`` steps, then time ``--steps`` steps one by one
and report the median ms/step. Peak memory is measured in a second fresh process: how far the
peak resident set rises above the resident set at rest between steps, i.e. the memory a step
needs for activations, saved tensors, gradients and temporaries (the model, data and library are
not counted). That process runs with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_), so
that freed arrays leave the resident set at once, for both libraries alike; its timings are not
used.
"""

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Python put this folder first on sys.path; its scripts would shadow packages of
# the same name that the libraries import (numba once failed on a
# script named coverage.py), so it leaves the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]


def cpu_model():
    """The processor's name and its widest vector instructions, from /proc/cpuinfo: the
    libraries' relative speed depends on both (PyTorch's kernels use AVX-512 where present)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines()
                 if line.startswith("model name")), platform.machine())
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines()
                  if line.startswith("flags")), [])
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name} ({vectors})"


def measure(lib_name, workload, warmup, steps, threads, clock="wall"):
    """One measurement, in this process; returns a dict (printed as JSON by the child).
    ``clock="cpu"`` times each step in CPU seconds of this process (``time.process_time``)
    rather than wall seconds: with one thread, a figure that other processes' load barely
    moves."""
    import resource

    kernel_cases, workloads = bench_module("kernel_cases"), bench_module("workloads")
    lib = __import__(lib_name)
    if lib_name == "torch" or threads == 1:
        lib.set_num_threads(threads)
    lib.manual_seed(0)
    timer = time.process_time if clock == "cpu" else time.perf_counter
    build = {**workloads.WORKLOADS, **workloads.MICRO, **kernel_cases.KERNELS}[workload]
    step = build(lib)
    for _ in range(warmup):
        step()
    baseline = resident_kb()
    fresh_peak = reset_peak_resident()
    times = []
    for _ in range(steps):
        start = timer()
        step()
        times.append(timer() - start)
    peak = (peak_resident_kb() if fresh_peak
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return {"ms": statistics.median(times) * 1e3, "peak_mb": max(peak - baseline, 0) / 1024}


def bench_module(name):
    """A module of this folder, loaded from its file: the folder is not put on sys.path, where
    its scripts would shadow packages of the same name that libraries import."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def resident_kb():
    """The process's resident set now, in KiB (ru_maxrss is only the peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_resident():
    """Start the process's peak resident set afresh (Linux: ``/proc/self/clear_refs``), so that
    the peak read after the timed steps is theirs. NOTE: ru_maxrss is the peak since the
    process began: a library that loads code during the warm-up steps (numba's kernels) had
    that load's transient memory counted as the step's (kernel table: 3.6 MB for a softmax step
    whose own peak is 1.9). Returns False where the peak cannot be reset."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_resident_kb():
    """The process's peak resident set since ``reset_peak_resident``, in KiB (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise OSError("no VmHWM in /proc/self/status")


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


def child(lib_name, workload, args, threads):
    """Run one measurement in a fresh interpreter, so memory and warm caches don't leak; then
    the memory measurement in another."""
    timed = _child(lib_name, workload, args.warmup, args.steps, threads, args.clock)
    if "error" in timed or not args.memory:
        return timed
    memory = _child(lib_name, workload, 2, 3, threads, MALLOC_MMAP_THRESHOLD_="65536")
    return {"ms": timed["ms"], "peak_mb": memory.get("peak_mb", float("nan"))}


def _child(lib_name, workload, warmup, steps, threads, clock="wall", **extra_env):
    command = [sys.executable, __file__, "--child", lib_name, workload, "--warmup",
               str(warmup), "--steps", str(steps), "--threads", str(threads), "--clock", clock]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads), **extra_env)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-1:] or ["(no message)"]
        return {"error": tail[0]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def torch_available():
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True)
    return probe.returncode == 0


def table(runs, columns, extras, memory=True):
    """Markdown: ms/step per column (median over repeats), and the speed ratios of one column
    against another (chainrule against PyTorch; with a 1-thread column, default threads against
    one) taken per repeat, from the pair measured side by side, as their median and range:
    the load moves both of a pair alike, where medians taken apart mix different moments.
    Peak MB per library (median over repeats)."""
    labels = [label for label, _, _ in columns]
    libs = list(dict.fromkeys(lib for _, lib, _ in columns))
    ratios = [(name, fast, slow) for name, fast, slow in (
        ("speed chainrule/torch", "chainrule", "torch"),
        ("chainrule default/1 thread", "chainrule", "chainrule 1 thread"))
        if fast in labels and slow in labels]
    head = (["workload"] + [f"{label} ms/step" for label in labels]
            + [name for name, _, _ in ratios] + ([f"{lib} peak MB" for lib in libs] if memory
                                                 else []))
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, by_label in runs.items():
        merged = {label: _median_result(results) for label, results in by_label.items()}
        cells = []
        for label in labels:
            r = merged.get(label, {})
            cells.append(f"{r['ms']:.3f}" if "ms" in r else r.get("error", "-")[:40])
        for _, fast, slow in ratios:
            cells.append(pair_ratios(by_label[fast], by_label[slow]))
        if memory:
            for lib in libs:
                r = merged.get(lib, {})
                cells.append(f"{r['peak_mb']:.1f}" if "peak_mb" in r else "-")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines + [""] + extras)


def pair_ratios(fast, slow):
    """``slow`` ms over ``fast`` ms, repeat by repeat: "median (lowest-highest)", or "-"."""
    ratios = sorted(s["ms"] / f["ms"] for f, s in zip(fast, slow) if "ms" in f and "ms" in s)
    if not ratios:
        return "-"
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x ({ratios[0]:.2f}-{ratios[-1]:.2f})"


def start_busy_process():
    """A background process that keeps one core busy (a Python spin loop) until stopped,
    pinned to the last usable core. NOTE: unpinned, which core it took was chance, and on a
    virtual machine the cores need not be equally fast: this 2-core VM ran the same tiny step
    0.35-0.46 ms pinned to CPU 0 and 0.25-0.39 ms on CPU 1, so a default-threads run and a
    1-thread run that landed on different cores differed by that much for no reason of their
    own."""
    pin = None
    if hasattr(os, "sched_getaffinity"):
        last = max(os.sched_getaffinity(0))
        pin = functools.partial(os.sched_setaffinity, 0, {last})
    return subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", choices=["chainrule", "torch", "both"], default="both")
    parser.add_argument("--table", choices=["suite", "kernels"], default="suite",
                        help="the training workloads (default) or the kernel table")
    parser.add_argument("--workloads", nargs="*", default=None,
                        help="subset of: mlp cnn gpt lstm tiny op_mul op_matmul64, or of the "
                             "kernel table's cases")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure everything this many times, interleaved; report the "
                             "median of the medians, and each ratio's median and range over "
                             "the repeats' pairs")
    parser.add_argument("--busy", action="store_true",
                        help="keep one core loaded by a background process, and also measure "
                             "chainrule with one thread")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="time steps in wall seconds (default) or in CPU seconds of the "
                             "process with every library on one thread: the figure that other "
                             "processes' load barely moves")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="skip the peak-memory measurement (half the processes)")
    parser.add_argument("--out", type=Path, default=None, help="write the Markdown table here")
    parser.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.warmup, args.steps, args.threads,
                                 args.clock)))
        return

    if args.clock == "cpu":
        args.threads = 1  # CPU time is comparable across loads only on one thread
    kernel_cases, workloads = bench_module("kernel_cases"), bench_module("workloads")
    libs = ["chainrule", "torch"] if args.lib == "both" else [args.lib]
    if "torch" in libs and not torch_available():
        print("PyTorch is not installed: measuring chainrule alone", file=sys.stderr)
        libs = ["chainrule"]
    columns = [(lib, lib, args.threads) for lib in libs]
    if args.busy and "chainrule" in libs:
        columns.insert(1, ("chainrule 1 thread", "chainrule", 1))
    everything = (list(kernel_cases.KERNELS) if args.table == "kernels"
                  else list(workloads.WORKLOADS) + list(workloads.MICRO))
    names = args.workloads or everything
    busy = start_busy_process() if args.busy else None
    loads = [os.getloadavg()[0]]
    runs = {name: {label: [] for label, _, _ in columns} for name in names}
    try:
        for repeat in range(args.repeat):
            # interleaved, every column in turn, in reverse order every other repeat (A B, B A):
            # the one measured second is not always the one a rising load reaches
            order = columns if repeat % 2 == 0 else columns[::-1]
            for name in names:
                for label, lib, threads in order:
                    result = child(lib, name, args, threads)
                    runs[name][label].append(result)
                    loads.append(os.getloadavg()[0])
                    print(f"{name:14s} {label:20s} {result}", file=sys.stderr)
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    extras = [f"Machine: {cpu_model()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, {args.threads} threads by default; "
              + ("CPU time of the process per step (time.process_time), " if args.clock == "cpu"
                 else "") + f"median of {args.steps} steps after {args.warmup} warm-up steps"
              + (f", median over {args.repeat} interleaved repeats (ratios: median of the "
                 "repeats' side-by-side pairs, and their range)" if args.repeat > 1 else "")
              + ".",
              f"Machine load (1-minute load average) during the run: {min(loads):.1f} to "
              f"{max(loads):.1f}" + (" including the background process that keeps one core "
                                     "busy (--busy)" if args.busy else "") + "."]
    extras.append(blas_kernel())
    extras.append(kernel_gemm())
    mlp = _median_result(runs["mlp"].get("chainrule", [])) if "mlp" in runs else {}
    if "ms" in mlp:
        achieved = workloads.mlp_flops() / (mlp["ms"] / 1e3) / 1e9
        gemm = numpy_gemm_gflops()
        extras.append(f"mlp step: {achieved:.1f} GFLOP/s achieved by chainrule; NumPy float32 GEMM "
                      f"at the same shapes: {gemm:.1f} GFLOP/s ({achieved / gemm:.0%}).")
    if args.table == "suite":
        for lib in libs:
            extras.append(f"`import {lib}`: {import_time(lib):.3f} s")
    text = table(runs, columns, extras, args.memory)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def kernel_gemm():
    """Which sgemm chainrule's compiled code calls for the recurrences and split products:
    MKL's where the mkl wheel is installed on an Intel CPU, else NumPy's BLAS."""
    try:
        from chainrule.kernels import _native

        name = _native.kernel_sgemm_name()
    except ImportError as error:  # (numba absent: the NumPy path runs every GEMM)
        name = f"none ({error})"
    return f"chainrule's kernels' sgemm (recurrences, split products): {name}."


def blas_kernel():
    """Which OpenBLAS kernel NumPy runs, and the environment that chose it: on some machines
    OPENBLAS_CORETYPE pins an older kernel (for old OpenBLAS builds' sake), which slows
    NumPy's GEMMs and not PyTorch's."""
    import numpy  # noqa: F401  (threadpoolctl lists the BLAS of loaded libraries only)
    from threadpoolctl import threadpool_info

    kernels = sorted({f"{info.get('internal_api')} {info.get('version')} "
                      f"({info.get('architecture')})"
                      for info in threadpool_info() if info.get("user_api") == "blas"})
    pinned = [f"{name}={os.environ[name]}" for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
              if name in os.environ]
    return (f"NumPy's BLAS here: {', '.join(kernels) or 'unknown'}; "
            + (f"set in the environment: {', '.join(pinned)}." if pinned
               else "OPENBLAS_CORETYPE not set (the library picks its kernel)."))


def _median_result(results):
    """The median ms and peak MB over repeats (an error if every repeat failed)."""
    good = [r for r in results if "ms" in r]
    if not good:
        return results[0] if results else {"error": "not run"}
    merged = {"ms": statistics.median(r["ms"] for r in good)}
    if all("peak_mb" in r for r in good):
        merged["peak_mb"] = statistics.median(r["peak_mb"] for r in good)
    return merged


if __name__ == "__main__":
    main()
