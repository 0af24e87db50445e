"""Layers, functions and losses against PyTorch's own float64 results.

``torch_layers.json`` is written by ``bench/record_layer_fixtures.py`` from the case table in
``bench/layer_cases.py``: for each case, an expression in PyTorch's vocabulary, its inputs, the
module's buffers, repr and outputs, and the gradients of sum(output * pattern) (for the inputs
in full; for each parameter, its dot product with a second pattern). Parameters are set to a
fixed pattern on both sides. chainrule evaluates the same expression with its own ``nn``/``F``
and must agree to rounding error, without torch."""

import json
import math
import zlib
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import grad_mode

FIXTURE = json.loads((Path(__file__).parent / "torch_layers.json").read_text())["cases"]
NAMES = {"nn": nn, "F": F, "torch": cr, "math": math}


def pattern(shape, phase):
    """The recorder's deterministic values: cos(0.53 k + phase) in the given shape."""
    count = int(np.prod(shape)) if len(shape) else 1
    return np.cos(0.53 * np.arange(count) + phase).reshape(shape)


def _tensor(values, dtype):
    return cr.tensor(np.array(values, dtype=np.dtype(dtype)))


def _prepare(module, case):
    module.double()
    module.train(case.get("train", False))
    with grad_mode.no_grad():
        for name, param in module.named_parameters():
            phase = zlib.crc32(name.encode()) % 1000 / 100
            param.copy_(cr.tensor(0.5 * pattern(tuple(param.shape), phase)))
    buffers = dict(module.named_buffers())
    assert sorted(buffers) == sorted(case["buffers"]), "the buffers differ from PyTorch's"
    for name, values in case["buffers"].items():
        with grad_mode.no_grad():
            buffers[name].copy_(cr.tensor(np.array(values)).to(buffers[name].dtype))


def evaluate(case):
    """(outputs, inputs that take gradients, the module or None)."""
    made = eval(case["expr"], NAMES)
    inputs = [_tensor(v, d) for v, d in zip(case["inputs"], case["input_dtypes"])]
    for x, flag in zip(inputs, case["input_grad"]):
        x.requires_grad_(flag)
    module = made if isinstance(made, nn.Module) else None
    if module is not None:
        _prepare(module, case)
        call = eval(case.get("call", "lambda m, *xs: m(*xs)"), NAMES)
        outputs = call(module, *inputs)
    else:
        outputs = made(*inputs)
    outputs = outputs if isinstance(outputs, tuple) else (outputs,)
    return outputs, [x for x in inputs if x.requires_grad], module


@pytest.mark.parametrize("name", sorted(FIXTURE))
def test_matches_pytorch(name):
    check_recorded(name, FIXTURE[name])


def check_recorded(name, case):
    """chainrule's outputs and gradients for a recorded case agree with PyTorch's."""
    rtol, atol = case.get("rtol", 1e-10), case.get("atol", 1e-12)
    outputs, inputs, module = evaluate(case)
    if module is not None:
        assert repr(module) == case["repr"], name
        for key, values in case["buffers_after"].items():
            np.testing.assert_allclose(dict(module.named_buffers())[key].numpy(),
                                       np.array(values), rtol=rtol, atol=atol,
                                       err_msg=f"{name}: buffer {key}")
    assert len(outputs) == len(case["outputs"]), name
    for got, want, dtype in zip(outputs, case["outputs"], case["output_dtypes"]):
        want = np.array(want, dtype=np.dtype(dtype))
        got = got.detach().numpy()
        assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
        assert got.dtype == want.dtype, f"{name}: dtype {got.dtype} != {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=f"{name}: forward")
    if "input_grads" not in case:
        return
    first = outputs[0]
    params = list(module.named_parameters()) if module is not None else []
    loss = (first * cr.tensor(pattern(tuple(first.shape), 0.1))).sum()
    grads = cr.autograd.grad(loss, inputs + [p for _, p in params], allow_unused=True)
    for position, (got, want) in enumerate(zip(grads, case["input_grads"])):
        if want is None:  # the output does not depend on this input in PyTorch
            assert got is None or not got.numpy().any(), f"{name}: gradient of input {position}"
            continue
        # no gradient (None) is PyTorch's gradient of zeros
        got = np.zeros(np.shape(want)) if got is None else got.numpy()
        np.testing.assert_allclose(got, np.array(want), rtol=rtol, atol=atol,
                                   err_msg=f"{name}: gradient of input {position}")
    assert sorted(name for name, _ in params) == sorted(case["param_grads"]), name
    for (pname, _), got in zip(params, grads[len(inputs):]):
        want = case["param_grads"][pname]
        projected = None if got is None else float((got.numpy() * pattern(
            tuple(got.shape), 0.7)).sum())
        if want is None or projected is None:
            assert want is None and (projected is None or projected == 0), f"{name}: {pname}"
            continue
        np.testing.assert_allclose(projected, want, rtol=rtol, atol=atol,
                                   err_msg=f"{name}: gradient of parameter {pname}")
