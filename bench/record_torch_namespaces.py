"""Record where PyTorch offers each op that chainrule registers, for the reachability test.

Run with a Python that has torch (PyTorch 2.13 CPU was used), after registering a new op:

    PYTHONPATH=src /work/torchenv/bin/python bench/record_torch_namespaces.py

For every registered name (aliases included) it writes, per namespace (``chainrule`` for
``torch.X``, ``Tensor``, ``nn.functional``, ``special``), one of:

- ``documented``: PyTorch has it, with a docstring: chainrule must offer it there too;
- ``present``: PyTorch has it without documentation (an internal binding such as
  ``torch.batch_norm``): chainrule may offer it there or not;
- ``absent``: PyTorch has no such name there: neither may chainrule.

``tests/ops/test_op_coverage.py`` reads ``tests/ops/torch_namespaces.json``.
"""

import json
from pathlib import Path

import torch
import torch.nn.functional
import torch.special

from chainrule.ops import registry

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "ops" / "torch_namespaces.json"
PLACES = {
    registry.TOP: torch,
    registry.METHOD: torch.Tensor,
    registry.FUNCTIONAL: torch.nn.functional,
    registry.SPECIAL: torch.special,
}


def status(owner, name):
    value = getattr(owner, name, None)
    if value is None or type(value).__name__ == "module":
        return "absent"
    documented = bool(getattr(value, "__doc__", None)) or owner is torch.Tensor
    return "documented" if documented else "present"


def main():
    names = sorted({name for op in registry.OPS.values() for place in op.places.values()
                    for name in place})
    table = {name: {place: status(owner, name) for place, owner in PLACES.items()}
             for name in names}
    OUT.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(table)} names")


if __name__ == "__main__":
    main()
