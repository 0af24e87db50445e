"""Record PyTorch's losses for the corpus programs in tests/compat/corpus/programs/.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_corpus.py [NAME ...]

Each program runs unchanged under real PyTorch through the same harness as the test
(tests/compat/corpus/harness.py: the same deterministic initial weights, the loss of every
backward recorded, float64 where the case says so), with its case's arguments from
tests/compat/corpus/cases.py. The losses go to tests/compat/corpus/torch_losses.json, which
tests/compat/corpus/test_corpus.py compares chainrule's losses against."""

import json
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat.corpus.cases import CASES  # noqa: E402
from tests.compat.corpus.harness import run_program  # noqa: E402

FIXTURE = ROOT / "tests" / "compat" / "corpus" / "torch_losses.json"


def main(names):
    recorded = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
    for name in names or sorted(CASES):
        case = CASES[name]
        with tempfile.TemporaryDirectory() as workdir:
            losses, _ = run_program(torch, name, case["args"], float64=case["float64"],
                                    workdir=workdir)
        recorded[name] = {"args": case["args"], "float64": case["float64"], "losses": losses,
                          "torch": torch.__version__}
        print(f"{name}: {len(losses)} losses, first {losses[:3]}")
    recorded = {k: v for k, v in recorded.items() if k in CASES}
    FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
