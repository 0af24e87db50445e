"""What a GradientMonitor's sample costs, per phase of the three steps it touches.

A sample's work falls on the step before it (the weight copies and the activation probe's hooks
are taken at that step's end), on the sampled step, and on the step after it (the stale-gradient
check). Each phase (zero_grad, forward, loss, backward, optimizer, ``monitor.step``) of each kind
of step is timed, and its median is printed with its difference from the unsampled steps'
median; ``--detail`` also times the monitor's sampled-step entry points (their own medians).

    PYTHONPATH=src OMP_NUM_THREADS=1 python bench/sample_cost.py [--every 5] [--steps 1500]
"""

import argparse
import collections
import functools
import gc
import importlib.util
import statistics
import time
from pathlib import Path

PHASES = ("zero", "fwd", "loss", "bwd", "opt", "mstep")
ENTRY_POINTS = ("probe.arm", "probe.collect", "probe.disarm", "updates.take", "updates.norms",
                "_on_sample", "_sample", "_layer_stats", "rules.on_sample", "stale.arm",
                "stale.verdict")


def load_workloads():
    path = Path(__file__).with_name("workloads.py")
    spec = importlib.util.spec_from_file_location("workloads", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(owner, name, totals):
    """Replace ``owner.name`` by a wrapper adding its time to ``totals[label]``."""
    target, attribute = owner, name
    if "." in name:
        first, attribute = name.split(".")
        target = getattr(owner, first)
    function = getattr(target, attribute)

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            totals[name] += time.perf_counter() - start

    setattr(target, attribute, wrapper)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="mlp")
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--detail", action="store_true")
    args = parser.parse_args()

    import chainrule
    from chainrule.diagnostics import GradientMonitor

    chainrule.manual_seed(0)
    step = load_workloads().WORKLOADS[args.workload](chainrule)
    cells = dict(zip(step.__code__.co_freevars, (c.cell_contents for c in step.__closure__)))
    model, optimizer = cells["model"], cells["optimizer"]
    loss_fn, inputs, targets = cells["loss_fn"], cells["inputs"], cells["targets"]
    monitor = GradientMonitor(model, every=args.every)
    totals = collections.defaultdict(float)
    if args.detail:
        for name in ENTRY_POINTS:
            timed(monitor, name, totals)
    clock = time.perf_counter

    def phased(watching):
        t0 = clock()
        optimizer.zero_grad()
        t1 = clock()
        output = model(inputs)
        t2 = clock()
        loss = loss_fn(output, targets)
        t3 = clock()
        loss.backward()
        t4 = clock()
        optimizer.step()
        t5 = clock()
        if watching:
            monitor.step(loss)
        t6 = clock()
        return dict(zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)))

    for _ in range(40):
        phased(True)
    times = collections.defaultdict(list)
    gc.disable()
    for _ in range(args.steps):
        n = monitor.step_count + 1
        totals.clear()
        measured = phased(True)
        measured.update(totals)
        kind = ("sampled" if monitor.is_sampled(n) else "after" if monitor.is_sampled(n - 1)
                else "before" if monitor.is_sampled(n + 1) else "plain")
        times[kind].append(measured)
    monitor.close()
    gc.enable()
    plain = {p: statistics.median(m[p] for m in times["plain"]) for p in PHASES}
    for kind in ("before", "sampled", "after", "plain"):
        rows = times[kind]
        medians = {key: statistics.median(m.get(key, 0.0) for m in rows)
                   for key in dict.fromkeys(k for m in rows for k in m)}
        extra = sum(medians[p] - plain[p] for p in PHASES)
        shown = [f"{p}={medians[p] * 1e6:.0f}({(medians[p] - plain[p]) * 1e6:+.0f})"
                 for p in PHASES]
        shown += [f"{k}={v * 1e6:.0f}" for k, v in medians.items() if k not in PHASES and v]
        print(f"{kind:8s} n={len(rows):4d} extra={extra * 1e6:+.0f} us  " + " ".join(shown))


if __name__ == "__main__":
    main()
