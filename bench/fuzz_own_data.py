"""Fuzz own-data reading for longer than the test suite does (tests/train/nasty_inputs.py):
damaged tables and series through reading, preprocessing and splitting (``load_task``), and
damaged images of every format through ``read_image``.

    python bench/fuzz_own_data.py --seconds 300 --seed 1 --failures fuzz-failures/

A case passes when it is read (finite inputs) or refused with a ValueError/CannotReadError
whose message names the file, a column or a flag; anything else (a crash, an unnamed refusal)
is a failure, printed and written to --failures. Exit status 1 when anything failed.
"""

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tests/

from tests.train.nasty_inputs import (  # noqa: E402
    check_mutated_image,
    check_mutated_own_data,
    mutated_images,
    mutated_own_data,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--failures", type=Path, help="directory for failing inputs")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow warns about damaged metadata; refusals are counted
    counts, failures, seed = {}, [], args.seed
    end = time.monotonic() + args.seconds
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        while time.monotonic() < end:
            batches = [(kind, mutated_own_data(kind, seed, 20), check_mutated_own_data)
                       for kind in ("table", "series")]
            batches.append(("image", mutated_images(seed, 40), check_mutated_image))
            for kind, cases, check in batches:
                for number, (name, data) in enumerate(cases) if kind == "image" else \
                        enumerate(("c.csv", d) for d in cases):
                    path = folder / f"{seed}-{number}-{name}"
                    path.write_bytes(data)
                    try:
                        outcome = check(kind, path) if kind != "image" else check(path)
                    except Exception as error:  # a failure: kept to reproduce
                        outcome = "failed"
                        failures.append((kind, path.name, f"{type(error).__name__}: {error}",
                                         data))
                    counts[kind, outcome] = counts.get((kind, outcome), 0) + 1
                    path.unlink()
            seed += 1
    print(f"{sum(counts.values()):,} cases in {args.seconds:g} s (seeds {args.seed}-{seed - 1}):")
    for (kind, outcome), count in sorted(counts.items()):
        print(f"  {kind:6} {outcome:8} {count:,}")
    for number, (kind, name, error, data) in enumerate(failures):
        print(f"FAILURE {number} ({kind} {name}): {error[:300]}")
        if args.failures:
            args.failures.mkdir(parents=True, exist_ok=True)
            (args.failures / f"failure-{number}-{name}").write_bytes(data)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
