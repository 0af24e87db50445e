"""Record PyTorch's answers for idioms that stopped public programs under chainrule, for
tests/compat/test_public_program_idioms.py.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_program_idioms.py

Writes tests/compat/torch_program_idioms.json (float64 values):
- ``zero_dim_parameter``: a 0-d parameter (SAC's learnable temperature ``log_alpha``) after
  three steps of each optimizer on (p - 2)^2 from 0.5, lr 0.1;
- ``tensor_from_sequences``: dtype, shape and values of ``torch.tensor(data)`` for the cases of
  tests/compat/program_idiom_cases.py, with the default dtype float32 and float64;
- ``weight_norm``: layers under ``nn.utils.weight_norm`` (names, outputs, gradients of g and
  v, the weight after ``remove_weight_norm``), and under ``parametrizations.weight_norm``;
- ``spectral_norm``: layers under ``nn.utils.spectral_norm`` and
  ``parametrizations.spectral_norm`` (keys, training and eval outputs, u and v, gradient of
  the stored weight, the weight once removed);
- ``dirac``: where ``nn.init.dirac_`` puts its ones."""

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.compat.program_idiom_cases import (  # noqa: E402
    DIRAC_CASES,
    SPECTRAL_NORM_CASES,
    TENSOR_FROM_SEQUENCES,
    WEIGHT_NORM_CASES,
    dirac_case,
    parametrized_weight_norm_case,
    spectral_norm_case,
    weight_norm_case,
)

FIXTURE = ROOT / "tests" / "compat" / "torch_program_idioms.json"
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


def tensor_from_sequences():
    result = {}
    for default in (torch.float32, torch.float64):
        torch.set_default_dtype(default)
        for name, make in TENSOR_FROM_SEQUENCES.items():
            t = torch.tensor(make(torch))
            result[f"{name}, default {str(default)[6:]}"] = {
                "dtype": str(t.dtype)[6:], "shape": list(t.shape),
                "values": t.double().flatten().tolist()}
    torch.set_default_dtype(torch.float32)
    return result


def main():
    recorded = {"torch": torch.__version__, "zero_dim_parameter": zero_dim_parameter(),
                "tensor_from_sequences": tensor_from_sequences(),
                "weight_norm": {name: weight_norm_case(torch, *args)
                                for name, args in WEIGHT_NORM_CASES.items()},
                "parametrized_weight_norm": {str(dim): parametrized_weight_norm_case(torch, dim)
                                             for dim in (0, 1, None)},
                "spectral_norm": {name: spectral_norm_case(torch, *args)
                                  for name, args in SPECTRAL_NORM_CASES.items()},
                "dirac": {name: dirac_case(torch, *args) for name, args in DIRAC_CASES.items()}}
    FIXTURE.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
