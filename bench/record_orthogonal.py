"""Record PyTorch's ``nn.utils.parametrizations.orthogonal`` over ``tests/nn/orthogonal_cases.py``.

    /work/main/.venv-bench/bin/python bench/record_orthogonal.py   (any env with torch)

Writes ``tests/nn/torch_orthogonal.json``; ``tests/nn/test_orthogonal.py`` compares chainrule
against it without torch."""

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.nn.orthogonal_cases import CASES, run  # noqa: E402


def main():
    recorded = []
    for index in range(len(CASES)):
        result = run(torch, index)
        recorded.append({k: v if isinstance(v, list) else v.tolist() for k, v in result.items()})
    path = ROOT / "tests" / "nn" / "torch_orthogonal.json"
    path.write_text(json.dumps({"torch": torch.__version__, "cases": recorded}) + "\n")
    print(f"{len(recorded)} cases -> {path}")


if __name__ == "__main__":
    main()
