"""PyTorch's type promotion for Python numbers, 0-d and dimensioned tensors, in every binary op:
the whole table recorded from PyTorch 2.13 by bench/record_promotion.py, plus the documented
examples of https://pytorch.org/docs/stable/tensor_attributes.html#type-promotion-doc."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as torch

from .promotion_cases import OPS, operand

TABLE = json.loads((Path(__file__).parent / "torch_promotion.json").read_text())


def _run(key):
    op, a, b = key.split("|")
    return OPS[op](torch, operand(torch, a), operand(torch, b))


@pytest.mark.parametrize("op", sorted(OPS))
def test_result_dtypes_and_values_match_pytorch(op):
    mismatches = []
    for key, expected in TABLE.items():
        if not key.startswith(op + "|") or expected == "error":
            continue
        dtype, values = expected
        try:
            result = _run(key)
        except Exception as error:  # noqa: BLE001 - collected for one readable report
            mismatches.append(f"{key}: raised {type(error).__name__}: {error}")
            continue
        if result.dtype.name != dtype:
            mismatches.append(f"{key}: {result.dtype.name}, PyTorch gives {dtype}")
        elif not np.allclose(np.asarray(result.tolist(), dtype=np.float64),
                             np.asarray(values, dtype=np.float64), rtol=1e-3, equal_nan=True):
            mismatches.append(f"{key}: values {result.tolist()}, PyTorch gives {values}")
    assert not mismatches, "\n".join(mismatches[:40])


# The documentation's own examples (torch.result_type and the type-promotion notes).
int_tensor = torch.ones(1, dtype=torch.int)
float_tensor = torch.ones(1, dtype=torch.float)
double_tensor = torch.ones(1, dtype=torch.double)
long_zerodim = torch.tensor(1, dtype=torch.long)
int_zerodim = torch.tensor(1, dtype=torch.int)
DOCUMENTED = [
    (lambda: int_tensor + 5, torch.int32),
    (lambda: int_tensor + long_zerodim, torch.int32),
    (lambda: long_zerodim + int_zerodim, torch.int64),
    (lambda: int_tensor + 5.5, torch.float32),
    (lambda: float_tensor + double_tensor, torch.float64),
    (lambda: float_tensor + torch.tensor(5.5, dtype=torch.double), torch.float32),
    (lambda: torch.tensor([1], dtype=torch.uint8) + torch.tensor([1], dtype=torch.int8),
     torch.int16),
    (lambda: torch.where(torch.tensor([True, False]), 1, 0), torch.int64),
    (lambda: torch.where(torch.tensor([True, False]), 1.0, 0), torch.float32),
    (lambda: torch.tensor([1, 2]) / 2, torch.float32),
    (lambda: torch.tensor([1, 2]) // 2, torch.int64),
    (lambda: torch.tensor([1, 2]).clamp(min=0.5), torch.float32),
]


@pytest.mark.parametrize("index", range(len(DOCUMENTED)))
def test_documented_examples(index):
    make, dtype = DOCUMENTED[index]
    assert make().dtype == dtype


def test_result_type_and_promote_types_functions():
    assert torch.result_type(torch.tensor([1, 2], dtype=torch.uint8), 1.0) == torch.float32
    assert torch.result_type(torch.tensor([1, 2]), torch.tensor(1.0)) == torch.float32
    assert torch.result_type(2, 3.0) == torch.float32
    assert torch.promote_types(torch.uint8, torch.int8) == torch.int16
    assert torch.promote_types(torch.int64, torch.float16) == torch.float16
    assert torch.can_cast(torch.double, torch.float) and not torch.can_cast(torch.float,
                                                                              torch.int)


def test_integer_numbers_wrap_around_in_small_integer_tensors():
    assert torch.tensor([1], dtype=torch.uint8).add(300).tolist() == [45]
    assert (torch.tensor([1], dtype=torch.uint8) - 2).tolist() == [255]


def test_in_place_ops_refuse_a_result_they_cannot_hold():
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t += 0.5
    f = torch.ones(2)
    f += torch.ones(2, dtype=torch.float64)  # same category: allowed, stays float32
    assert f.dtype == torch.float32 and f.tolist() == [2.0, 2.0]


def test_gradients_keep_each_input_dtype():
    x = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    y = torch.ones(3, requires_grad=True)
    z = x * y
    assert z.dtype == torch.float32
    z.sum().backward()
    assert x.grad.dtype == torch.float64 and x.grad.item() == 3.0
    assert y.grad.dtype == torch.float32
