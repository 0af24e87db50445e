"""bfloat16: real 2-byte storage (through ml_dtypes), PyTorch's rounding and promotion, modules,
gradients and safetensors BF16 files; float16 alongside."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

FIXTURE = json.loads((Path(__file__).parent / "torch_bfloat16.json").read_text())


def _bits(tensor):
    return tensor.numpy().view(np.uint16).tolist()


def test_rounding_matches_pytorch_bit_for_bit():
    x = cr.tensor(np.array(FIXTURE["float32"], dtype=np.float32)).bfloat16()
    assert x.dtype == cr.bfloat16 and x.element_size() == 2 and x.is_floating_point()
    assert _bits(x) == FIXTURE["bits"]  # round to nearest even, overflow to inf, subnormals
    back = x.float()
    assert back.dtype == cr.float32
    np.testing.assert_array_equal(back.numpy(), np.array(FIXTURE["back_to_float32"],
                                                         dtype=np.float32))


def test_the_dtype_object():
    assert repr(cr.bfloat16) == "chainrule.bfloat16"
    assert cr.bfloat16 != cr.float16 and cr.bfloat16 != cr.float32
    assert cr.bfloat16.is_floating_point and cr.bfloat16.itemsize == 2
    assert {cr.bfloat16: 1}[cr.bfloat16] == 1
    assert cr.zeros(3, dtype=cr.bfloat16).dtype == cr.bfloat16
    assert cr.tensor([1.5], dtype=cr.bfloat16).to(cr.float64).item() == 1.5


def test_importing_chainrule_does_not_import_ml_dtypes():
    code = "import sys, chainrule; print('ml_dtypes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("make, expected", [
    (lambda x: x + x, "bfloat16"),
    (lambda x: x * 2.5, "bfloat16"),  # a Python float does not promote (weak scalar)
    (lambda x: x + cr.ones(3), "float32"),  # bfloat16 with float32 gives float32
    (lambda x: x + cr.ones(3, dtype=cr.float16), "float32"),
    (lambda x: x + cr.arange(3), "bfloat16"),  # with an integer tensor it stays bfloat16
    (lambda x: x.exp(), "bfloat16"),
    (lambda x: x.softmax(0), "bfloat16"),
    (lambda x: x.sum(), "bfloat16"),
    (lambda x: x @ x, "bfloat16"),
])
def test_results_keep_pytorchs_dtype(make, expected):
    x = cr.tensor([0.5, -1.25, 2.0]).bfloat16()
    assert make(x).dtype.name == expected


@pytest.mark.parametrize("layer, shape", [
    (lambda: nn.Conv2d(2, 3, 3), (1, 2, 5, 5)),
    (lambda: nn.TransformerEncoderLayer(8, 2, 16), (3, 2, 8)),
    (lambda: nn.LSTM(4, 3), (5, 2, 4)),
    (lambda: nn.LayerNorm(6), (2, 6)),
], ids=["conv", "transformer", "lstm", "layer_norm"])
def test_layers_compute_in_bfloat16(layer, shape):
    module = layer().bfloat16()
    x = cr.randn(*shape).bfloat16().requires_grad_()
    out = module(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.dtype == cr.bfloat16
    out.float().sum().backward()
    assert x.grad.dtype == cr.bfloat16
    assert all(p.grad is None or p.grad.dtype == cr.bfloat16 for p in module.parameters())


def test_matmul_accumulates_in_float32_and_rounds_once():
    a = cr.tensor(np.full((1, 300), 1.0, dtype=np.float32) / 3).bfloat16()
    b = cr.ones(300, 1).bfloat16()
    exact = 300 * a.float().numpy()[0, 0]  # a bfloat16 running sum would stall near 256
    assert (a @ b).float().item() == pytest.approx(exact, rel=2**-8)


def test_modules_convert_and_train_in_bfloat16():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1)).bfloat16()
    assert all(p.dtype == cr.bfloat16 for p in model.parameters())
    x, y = cr.randn(16, 4).bfloat16(), cr.randn(16, 1).bfloat16()
    opt = cr.optim.SGD(model.parameters(), lr=0.2)
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.float().item())
    assert loss.dtype == cr.bfloat16
    assert all(p.grad.dtype == cr.bfloat16 for p in model.parameters())
    assert losses[-1] < 0.8 * losses[0]
    assert model.float()[0].weight.dtype == cr.float32


def test_safetensors_bf16_round_trip(tmp_path):
    x = cr.tensor(np.array(FIXTURE["float32"], dtype=np.float32)).bfloat16()
    path = tmp_path / "bf16.safetensors"
    cr.save({"x": x, "w": nn.Linear(2, 3).bfloat16().weight.detach()}, path)
    raw = path.read_bytes()
    header = json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])
    assert {entry["dtype"] for key, entry in header.items() if key != "__metadata__"} == {"BF16"}
    loaded = cr.load(path)
    assert loaded["x"].dtype == cr.bfloat16 and _bits(loaded["x"]) == FIXTURE["bits"]


def test_float16_is_there_too():
    x = cr.tensor([1.0, 65504.0, 1e-8]).half()
    assert x.dtype == cr.float16 == cr.half and x.element_size() == 2
    with np.errstate(over="ignore"):
        assert np.isinf((x * 2).numpy()[1])
    assert nn.Linear(2, 2).half().weight.dtype == cr.float16


@pytest.mark.parametrize("dtype", [cr.bfloat16, cr.float16], ids=["bfloat16", "float16"])
def test_sums_accumulate_in_float32_as_pytorch(dtype):
    ones = cr.ones(3000, dtype=dtype)
    assert ones.sum().dtype == dtype
    expected = 3008.0 if dtype == cr.bfloat16 else 3000.0  # 3000 rounded to the dtype once
    assert ones.sum().float().item() == expected
    np.testing.assert_allclose(ones.reshape(30, 100).sum(1).float().numpy(), 100.0)
    assert ones.mean().float().item() == 1.0


def test_clamps_and_masked_gradients_in_bfloat16():
    x = cr.tensor([-1.0, 0.5, 2.0]).bfloat16().requires_grad_()
    for op, values, grads in [
        (lambda t: t.clamp(0, 1), [0.0, 0.5, 1.0], [0.0, 1.0, 0.0]),
        (nn.functional.relu6, [0.0, 0.5, 2.0], [0.0, 1.0, 1.0]),
        (nn.functional.relu, [0.0, 0.5, 2.0], [0.0, 1.0, 1.0]),
    ]:
        x.grad = None
        out = op(x)
        out.sum().backward()
        assert out.dtype.name == "bfloat16" and out.float().tolist() == values
        assert x.grad.dtype.name == "bfloat16" and x.grad.float().tolist() == grads


def test_a_bfloat16_classifier_trains_through_cross_entropy():
    # the mean's divisor is a bfloat16 NumPy scalar, which is no numbers.Real: it used to be
    # refused as an operand in the backward pass
    model = nn.Linear(4, 3).to(cr.bfloat16)
    x = cr.tensor(np.linspace(-1, 1, 20).reshape(5, 4), dtype=cr.bfloat16)
    target = cr.tensor([0, 2, 1, 1, 0])
    loss = cr.nn.functional.cross_entropy(model(x), target)
    loss.backward()
    assert loss.dtype == cr.bfloat16 and model.weight.grad.dtype == cr.bfloat16
    reference = nn.Linear(4, 3)
    reference.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    cr.nn.functional.cross_entropy(reference(x.float()), target).backward()
    np.testing.assert_allclose(model.weight.grad.float().numpy(), reference.weight.grad.numpy(),
                               atol=0.02)
    scalar = cr.tensor([4.0], dtype=cr.bfloat16).numpy()[0]  # an ml_dtypes scalar
    half = cr.tensor([2.0], dtype=cr.bfloat16) / scalar
    assert half.dtype == cr.bfloat16 and half.tolist() == [0.5]


@pytest.mark.parametrize("make", [
    lambda x: x / 2.0, lambda x: x / x, lambda x: 2 / x, lambda x: x / 3,
    lambda x: cr.fmod(x, 1.5), lambda x: cr.remainder(x, 1.5), lambda x: cr.xlogy(x, x.abs()),
    lambda x: cr.copysign(x, -1.0), lambda x: cr.nan_to_num(x),
])
def test_float_only_rules_count_bfloat16_as_a_float(make):
    # bfloat16's NumPy kind is 'V': asking `kind == "f"` sent it down the integer paths
    # (x / x came out float32; nan_to_num left NaN in place)
    x = cr.tensor([1.5, -2.0, float("nan")], dtype=cr.bfloat16)
    out = make(x)
    assert out.dtype == cr.bfloat16
    expected = make(x.float())
    np.testing.assert_allclose(out.float().numpy(), expected.bfloat16().float().numpy(),
                               rtol=0.01)
