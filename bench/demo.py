"""Where `make demo` (`chainrule train` with its defaults) spends its time: wall and CPU time of
the whole command, CPU time per phase (training steps, checkpoints, evaluation, the hooks after
each step, and each part of the report), the checkpoint writer's fsyncs, and the samples/s the
demo prints. CPU time is what to compare on a shared machine; wall time only on a quiet one.

    .venv/bin/python bench/demo.py                     # threads as chainrule decides
    OMP_NUM_THREADS=1 .venv/bin/python bench/demo.py   # one thread: the CPU-time reference

Runs in a temporary directory; extra arguments go to `chainrule train` (e.g. --no-diagnose)."""

import collections
import contextlib
import importlib.util
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CPU, WALL = time.process_time, time.perf_counter
cpu_started, wall_started = CPU(), WALL()
# as `make demo` does first: the package's bytecode compiled (0.1 s when it is current)
source = importlib.util.find_spec("chainrule").submodule_search_locations[0]
subprocess.run([sys.executable, "-m", "compileall", "-q", source], check=True)
compiled = WALL() - wall_started
before = resource.getrusage(resource.RUSAGE_CHILDREN)

import chainrule.diagnostics.training as diagnostics  # noqa: E402
import chainrule.train.commands as commands  # noqa: E402
import chainrule.train.explain_report as explain_report  # noqa: E402
import chainrule.train.loop as loop  # noqa: E402
from chainrule.cli import main  # noqa: E402

imports = CPU() - cpu_started
spent = collections.Counter()
fsyncs = {"count": 0, "wall": 0.0, "background": 0}


def timed(owner, name, label):
    """Count the CPU time of calls to ``owner.name`` under ``label``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        started = CPU()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] += CPU() - started

    setattr(owner, name, wrapper)


def counted_fsync(fd, original=os.fsync):
    if threading.current_thread() is not threading.main_thread():
        fsyncs["background"] += 1  # checkpoints' fsyncs (train/durable.py): not waited for
        return original(fd)
    started = WALL()
    original(fd)
    fsyncs["count"] += 1
    fsyncs["wall"] += WALL() - started


for owner, name, label in [
    (loop.Trainer, "train_step", "training steps (forward, loss, backward, optimizer)"),
    (loop.Trainer, "after_step", "hooks after each step (diagnostics, metrics log)"),
    (loop.Trainer, "evaluate", "validation and test evaluation"),
    (loop, "save_checkpoint", "checkpoints (state, serialise, write)"),
    (explain_report, "sections", "report: what the model looks at (explain)"),
    (diagnostics.TrainingDiagnostics, "report_sections", "report: gradient diagnostics"),
    (commands, "write_report", "report: curves and report.md"),
]:
    timed(owner, name, label)
os.fsync = counted_fsync
walls = {}


def wall_marked(owner, name, label):
    """Note the wall time at which calls to ``owner.name`` start and end."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        walls[f"{label} start"] = WALL()
        try:
            return original(*args, **kwargs)
        finally:
            walls[f"{label} end"] = WALL()

    setattr(owner, name, wrapper)


wall_marked(loop.Trainer, "fit", "fit")

printed = io.StringIO()
with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(printed):
    os.chdir(folder)
    status = main(["train", *sys.argv[1:]])
cpu, wall = CPU() - cpu_started, WALL() - wall_started
rates = [float(r.replace(",", "")) for r in re.findall(r"([\d,]+) samples/s", printed.getvalue())]
test = re.search(r"^test .*$", printed.getvalue(), re.MULTILINE)

print(f"chainrule train (exit {status}): wall {wall:.2f} s, CPU {cpu:.2f} s "
      f"(1-minute load average {os.getloadavg()[0]:.1f}, OMP_NUM_THREADS="
      f"{os.environ.get('OMP_NUM_THREADS', 'unset')})")
if "fit end" in walls:
    after = wall_started + wall - walls["fit end"]
    print(f"  wall: {walls['fit start'] - wall_started:.2f} s to the first step, training "
          f"{walls['fit end'] - walls['fit start']:.2f} s, then {after:.2f} s (test, report, "
          "waiting for the plot helpers)")
print(f"  {'bytecode compiled, as make demo does (wall)':52s} {compiled:6.2f} s")
print(f"  {'imports (chainrule, the command line)':52s} {imports:6.2f} s CPU")
for label, seconds in spent.items():
    print(f"  {label:52s} {seconds:6.2f} s CPU")
rest = cpu - imports - sum(spent.values())
print(f"  {'everything else (data, epochs, console, run files)':52s} {rest:6.2f} s CPU")
children = resource.getrusage(resource.RUSAGE_CHILDREN)
helpers_cpu = (children.ru_utime + children.ru_stime) - (before.ru_utime + before.ru_stime)
print(f"  {'plot helpers (child processes, in parallel)':52s} {helpers_cpu:6.2f} s CPU")
print(f"fsyncs on the main thread: {fsyncs['count']}, {fsyncs['wall']:.2f} s of wall time; "
      f"{fsyncs['background']} more on the checkpoints' background thread")
if rates:
    print(f"samples/s printed per epoch: median {statistics.median(rates):,.0f} "
          f"(from {min(rates):,.0f} to {max(rates):,.0f})")
print(test.group(0) if test else "no test line printed")
