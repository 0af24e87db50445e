"""Record PyTorch's distributions over the table in ``tests/distributions/cases.py``.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_distributions.py

For each case (float64) it writes the statistics, log_prob/cdf/icdf/entropy values and the
gradients of their sums with respect to the parameters, the batch and event shapes, and the
KL divergences (with gradients) to ``tests/distributions/torch_distributions.json``;
``tests/distributions/test_against_pytorch.py`` compares chainrule against it without torch."""

import json
import math
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.distributions.cases import CASES, KL_PAIRS, METHODS, STATISTICS, build, kl, run  # noqa

torch.distributions.Distribution.set_default_validate_args(True)


def plain(x):
    """JSON numbers: NaN and infinities as strings."""
    if isinstance(x, list):
        return [plain(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def record(result, params):
    entry = {"value": plain(result.detach().double().tolist()), "dtype": str(result.dtype)}
    if result.requires_grad and params:
        grads = torch.autograd.grad(result.sum(), params, allow_unused=True)
        entry["grads"] = [None if g is None else plain(g.tolist()) for g in grads]
    return entry


def main():
    table = {}
    for name in CASES:
        dist, _ = build(torch, name)
        table[f"{name}|shape"] = [list(dist.batch_shape), list(dist.event_shape)]
        for what in STATISTICS + METHODS:
            result, params = run(torch, name, what)
            table[f"{name}|{what}"] = None if result is None else record(result, params)
    for p_name, q_name in KL_PAIRS:
        result, params = kl(torch, p_name, q_name)
        table[f"kl|{p_name}|{q_name}"] = record(result, params)
    path = ROOT / "tests" / "distributions" / "torch_distributions.json"
    compact = (",", ":")
    lines = [f"{json.dumps(k)}: {json.dumps(table[k], separators=compact)}" for k in sorted(table)]
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print(f"wrote {path.relative_to(ROOT)}: {len(table)} entries with torch {torch.__version__}")


if __name__ == "__main__":
    main()
