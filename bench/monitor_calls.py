"""The Python and C calls a GradientMonitor adds to an unsampled training step: counted with
``sys.setprofile`` over ``--steps`` steps of a bench workload with and without a monitor
(``every`` above the run's length, so no step is sampled), per step, most frequent first.
Each call the monitor makes runs cold after the backward's and the optimizer's passes over the
model's memory (about 0.8 us on the bench mlp): fewer calls is what makes it cheaper.

    PYTHONPATH=src python bench/monitor_calls.py [--workload mlp] [--steps 20]
"""

import argparse
import collections
import sys
from pathlib import Path

from sample_cost import load_workloads  # (this folder is on the path when run as a script)


def count_calls(fn, steps):
    """{callable's name: calls} made by ``steps`` calls of ``fn``."""
    counts = collections.Counter()

    def profile(frame, event, arg):
        if event == "call":
            code = frame.f_code
            counts[f"{Path(code.co_filename).name}:{code.co_name}"] += 1
        elif event == "c_call":
            counts[f"C:{getattr(arg, '__qualname__', arg)}"] += 1

    sys.setprofile(profile)
    try:
        for _ in range(steps):
            fn()
    finally:
        sys.setprofile(None)
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mlp")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=40)
    args = parser.parse_args()

    import chainrule
    from chainrule.diagnostics import GradientMonitor

    chainrule.manual_seed(0)
    step = load_workloads().WORKLOADS[args.workload](chainrule)
    monitor = GradientMonitor(step.model, every=10**9)
    for _ in range(args.warmup):
        monitor.step(step())
    monitored = count_calls(lambda: monitor.step(step()), args.steps)
    monitor.close()
    plain = count_calls(step, args.steps)
    extra = {name: (monitored[name] - plain[name]) / args.steps
             for name in set(monitored) | set(plain) if monitored[name] != plain[name]}
    python = sum(v for name, v in extra.items() if not name.startswith("C:"))
    print(f"{args.workload}: {python:.1f} Python calls and "
          f"{sum(extra.values()) - python:.1f} C calls more per step with a monitor "
          "(the counting loop's own lambda included)")
    for name, calls in sorted(extra.items(), key=lambda item: -abs(item[1])):
        print(f"{calls:8.1f} {name}")


if __name__ == "__main__":
    main()
