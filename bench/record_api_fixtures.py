"""Record PyTorch's results for the torch-namespace functions of ``api_cases.py``
(scatter reductions, linear algebra, special functions ...), in float64.

    PYTHONPATH=src /work/torchenv/bin/python bench/record_api_fixtures.py

writes ``tests/compat/torch_api.json``, read by ``tests/compat/test_api_against_pytorch.py``
without torch. The recording works as ``record_layer_fixtures.py``'s for functions."""

import warnings

import torch
from api_cases import API_CASES
from record_layer_fixtures import ROOT, _record_layer, _write


def record_api():
    warnings.filterwarnings("ignore", message=".*is in beta")
    cases = {name: dict(case, **_record_layer(name, case)) for name, case in API_CASES.items()}
    _write(ROOT / "tests/compat/torch_api.json", {"torch": torch.__version__, "cases": cases})


if __name__ == "__main__":
    record_api()
