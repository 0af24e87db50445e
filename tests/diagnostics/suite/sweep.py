"""The suite under other draws than the tests': each case run after ``torch.manual_seed(seed)``
for other seeds (the model's initial weights and dropout change), optionally with the data drawn
anew (``--data-shift k``: ``np.random.default_rng(s)`` called with an int ``s`` draws from
``default_rng(s + k)``); prints the cases that fail. The tests use seed 0 and the data as
written; a rule that passes there and fails here was fitted to one run's numbers.

    python -m tests.diagnostics.suite.sweep --seeds 1 2            # the whole suite, twice
    python -m tests.diagnostics.suite.sweep --seeds 3 --data-shift 101 --names CASE ...

Cases run in ``--processes`` worker processes (each with one BLAS thread), so a sweep of the
946 cases takes about 1.5 minutes a seed on 2 cores.
"""

import argparse
import multiprocessing
import os
import warnings


def _shift_data_draws(shift):
    """Make ``np.random.default_rng(s)`` for an int ``s`` draw from ``default_rng(s + shift)``
    in this process."""
    import numpy as np

    plain = np.random.default_rng

    def shifted(seed=None, *rest):
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seed = int(seed) + shift
        return plain(seed, *rest)

    np.random.default_rng = shifted


def _start_worker(shift):
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    warnings.simplefilter("ignore")
    if shift:
        _shift_data_draws(shift)


def run_case(job):
    """(half, name, seed, None) if the case passes as the tests judge it, else the reason."""
    half, name, seed = job
    from .broken import BROKEN
    from .harness import diagnosed, quiet
    from .healthy import HEALTHY

    try:
        if half == "broken":
            diagnosed(BROKEN[name], seed)
        else:
            quiet(HEALTHY[name], seed)
    except Exception as error:  # (a case that raises fails, as it does in the tests)
        return half, name, seed, f"{type(error).__name__}: {error}"
    return half, name, seed, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--data-shift", type=int, default=0)
    parser.add_argument("--half", choices=["broken", "healthy", "both"], default="both")
    parser.add_argument("--names", nargs="*", default=[], help="only these cases")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from .broken import BROKEN
    from .healthy import HEALTHY

    unknown = set(args.names) - set(BROKEN) - set(HEALTHY)
    if unknown:
        parser.error(f"no such case: {', '.join(sorted(unknown))}")
    halves = {"broken": BROKEN, "healthy": HEALTHY}
    jobs = [(half, name, seed) for seed in args.seeds for half, cases in halves.items()
            if args.half in (half, "both")
            for name in sorted(cases) if not args.names or name in args.names]
    failed = 0
    context = multiprocessing.get_context("spawn")
    with context.Pool(args.processes, _start_worker, (args.data_shift,),
                      maxtasksperchild=50) as pool:
        for half, name, seed, error in pool.imap_unordered(run_case, jobs, chunksize=4):
            if error is not None:
                failed += 1
                print(f"FAIL {half} {name} seed={seed}: {error}", flush=True)
    print(f"{failed} of {len(jobs)} runs failed (seeds {args.seeds}, data shift "
          f"{args.data_shift})")


if __name__ == "__main__":
    main()
