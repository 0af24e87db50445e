"""Fuzz ``chainrule.load`` for longer than the test suite does (tests/io/fuzz_load.py).

    python bench/fuzz_load.py --seconds 600 --seed 1 --failures fuzz-failures/

Prints the cases run, how many loaded and were refused, the kinds of refusal, and every failure
(an exception other than CheckpointError); failing inputs are written to --failures to
reproduce with ``chainrule.load``. Exit status 1 when anything failed.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/

from tests.io.fuzz_load import run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--failures", type=Path, help="directory for failing inputs")
    args = parser.parse_args()
    report = run(seconds=args.seconds, seed=args.seed)
    print(f"{report['cases']:,} cases in {args.seconds:g} s (seed {args.seed}): "
          f"{report['loaded']:,} loaded, {report['refused']:,} refused with CheckpointError, "
          f"{len(report['failures'])} failures")
    print(f"{len(report['reasons'])} kinds of refusal:")
    for reason in sorted(report["reasons"]):
        print(f"  {reason}")
    for number, (mutation, error, payload) in enumerate(report["failures"]):
        print(f"FAILURE {number} after {mutation}: {error}")
        if args.failures:
            args.failures.mkdir(parents=True, exist_ok=True)
            (args.failures / f"failure-{number}.safetensors").write_bytes(payload)
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
