"""Layers, functions and losses against PyTorch's own float64 results.

``torch_layers.json`` is written by ``bench/record_layer_fixtures.py`` from the case table in
``bench/layer_cases.py``: for each case, an expression in PyTorch's vocabulary, its inputs, the
module's state, the outputs and the gradients of sum(output * weights). chainrule evaluates the
same expression with its own ``nn``/``F`` and must agree to rounding error, without torch."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

FIXTURE = json.loads((Path(__file__).parent / "torch_layers.json").read_text())["cases"]


def _tensor(values, dtype):
    return cr.tensor(np.array(values, dtype=np.dtype(dtype)))


def evaluate(case):
    """(outputs, the tensors the gradients are taken for, the module or None)."""
    made = eval(case["expr"], {"nn": nn, "F": F, "torch": cr, "math": math})
    inputs = [_tensor(v, d) for v, d in zip(case["inputs"], case["input_dtypes"])]
    for x, flag in zip(inputs, case["input_grad"]):
        x.requires_grad_(flag)
    module = made if isinstance(made, nn.Module) else None
    if module is not None:
        module.double()
        module.train(case.get("train", False))
        module.load_state_dict({k: cr.tensor(np.array(v)).to(module.state_dict()[k].dtype)
                                for k, v in case["state"].items()})
    outputs = made(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    wrt = [x for x in inputs if x.requires_grad]
    if module is not None:
        wrt += [p for _, p in module.named_parameters()]
    return outputs, wrt, module


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_matches_pytorch(name):
    case = FIXTURE[name]
    rtol, atol = case.get("rtol", 1e-10), case.get("atol", 1e-12)
    outputs, wrt, module = evaluate(case)
    if module is not None:
        assert repr(module) == case["repr"], name
    assert len(outputs) == len(case["outputs"]), name
    for got, want, dtype in zip(outputs, case["outputs"], case["output_dtypes"]):
        want = np.array(want, dtype=np.dtype(dtype))
        got = got.detach().numpy()
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol,
                                   err_msg=f"{name}: forward")
    if "grads" not in case:
        return
    weights = cr.tensor(np.array(case["weights"]))
    grads = cr.autograd.grad((outputs[0] * weights).sum(), wrt, allow_unused=True)
    for grad_name, got, want in zip(case["grad_names"], grads, case["grads"]):
        if want is None:
            assert got is None or not got.numpy().any(), f"{name}: {grad_name}"
            continue
        np.testing.assert_allclose(got.numpy(), np.array(want), rtol=rtol, atol=atol,
                                   err_msg=f"{name}: gradient of {grad_name}")
