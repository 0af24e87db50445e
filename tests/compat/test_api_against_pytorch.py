"""torch-namespace functions (scatter reductions, linear algebra, special functions ...)
against PyTorch's own float64 results, recorded by ``bench/record_api_fixtures.py`` from the
case table in ``bench/api_cases.py``: outputs, and gradients of sum(output * pattern)."""

import json
from pathlib import Path

import pytest

from tests.nn.test_against_pytorch import check_recorded

FIXTURE = json.loads((Path(__file__).parent / "torch_api.json").read_text())["cases"]


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_matches_pytorch(name):
    check_recorded(name, FIXTURE[name])
