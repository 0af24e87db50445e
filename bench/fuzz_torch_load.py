"""A longer fuzz run of loading PyTorch files than the test suite's (which does 400 cases).

    .venv/bin/python bench/fuzz_torch_load.py --cases 20000 --seed 1
    .venv/bin/python bench/fuzz_torch_load.py --cases 5000 --seed 1 --mmap

Mutates the fixture files of tests/io (whole files, and the pickle inside their archives)
with the test suite's own mutator, loads each (with --mmap: from a file, mapped), and reports
any exception that is not a chainrule CheckpointError, and the slowest case. Exits 1 when
something other than a library error came out.
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import chainrule as cr  # noqa: E402
from tests.io.test_torch_malicious import fuzz_inputs, fuzz_once  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mmap", action="store_true", help="load each case mapped from a file")
    args = parser.parse_args()
    sources, archives = fuzz_inputs()
    path = Path(tempfile.mkdtemp()) / "fuzzed.pt"

    def load_mapped(payload):
        path.write_bytes(payload)
        cr.load(path, mmap=True)

    options = {"load": load_mapped} if args.mmap else {}
    rng = random.Random(args.seed)
    failures, slowest = {}, 0.0
    start = time.perf_counter()
    for _ in range(args.cases):
        began = time.perf_counter()
        failure = fuzz_once(rng, sources, archives, **options)
        slowest = max(slowest, time.perf_counter() - began)
        if failure:
            failures[failure] = failures.get(failure, 0) + 1
    elapsed = time.perf_counter() - start
    mapped = " (mapped)" if args.mmap else ""
    print(f"{args.cases} cases{mapped} in {elapsed:.1f} s (seed {args.seed}); slowest case "
          f"{slowest * 1000:.1f} ms; {sum(failures.values())} non-library errors")
    for failure, count in sorted(failures.items(), key=lambda item: -item[1]):
        print(f"  {count:6d}  {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
