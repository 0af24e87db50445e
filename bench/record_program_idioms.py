"""Record PyTorch's answers for idioms that stopped public programs under chainrule, for
tests/compat/test_public_program_idioms.py.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_program_idioms.py

Writes tests/compat/torch_program_idioms.json (float64 values):
- ``zero_dim_parameter``: a 0-d parameter (SAC's learnable temperature ``log_alpha``) after
  three steps of each optimizer on (p - 2)^2 from 0.5, lr 0.1."""

import json
from pathlib import Path

import torch

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "compat" / "torch_program_idioms.json"
OPTIMIZERS = ["Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "ASGD", "NAdam", "RAdam",
              "RMSprop", "Rprop", "SGD"]


def zero_dim_parameter():
    result = {}
    for name in OPTIMIZERS:
        p = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
        optimizer = getattr(torch.optim, name)([p], lr=0.1)
        for _ in range(3):
            optimizer.zero_grad()
            ((p - 2) ** 2).backward()
            optimizer.step()
        result[name] = p.item()
    return result


def main():
    recorded = {"torch": torch.__version__, "zero_dim_parameter": zero_dim_parameter()}
    FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
