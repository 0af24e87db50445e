"""Record PyTorch's type promotion over the table in ``tests/compat/promotion_cases.py``.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_promotion.py

For each op and pair of operands (Python numbers, 0-d and 1-d tensors of every dtype) it writes
the result's dtype and values, or "error" where PyTorch refuses, to
``tests/compat/torch_promotion.json``; ``tests/compat/test_promotion.py`` compares chainrule
against it without torch."""

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat.promotion_cases import OPS, operand, pairs  # noqa: E402


def main():
    table = {}
    for op, a, b in pairs():
        try:
            result = OPS[op](torch, operand(torch, a), operand(torch, b))
        except (RuntimeError, TypeError):
            table[f"{op}|{a}|{b}"] = "error"
            continue
        values = result.double().tolist() if result.dtype != torch.bool else result.tolist()
        table[f"{op}|{a}|{b}"] = [str(result.dtype).removeprefix("torch."), values]
    path = ROOT / "tests" / "compat" / "torch_promotion.json"
    path.write_text(json.dumps(table, sort_keys=True, separators=(",", ":")) + "\n")
    print(f"wrote {path.relative_to(ROOT)}: {len(table)} cases with torch {torch.__version__}")


if __name__ == "__main__":
    main()
