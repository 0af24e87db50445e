"""ONNX export: ONNX Runtime's outputs match chainrule's within 1e-5 for every layer family and
the four presets of ``chainrule train``, at the traced batch size and at others (dynamic batch);
what cannot be exported is refused naming the op and the layer."""

import io

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.train import presets

onnxruntime = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


def images(n, c=3, size=8):
    return RNG.standard_normal((n, c, size, size)).astype(np.float32)


def sequences(n, length=5, features=4):
    return RNG.standard_normal((n, length, features)).astype(np.float32)


def tokens(n, length=6, vocab=11):
    return RNG.integers(0, vocab, size=(n, length))


def calibrated_batch_norm():
    layer = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    layer.train()
    layer(cr.from_numpy(images(8)))  # running statistics away from their defaults
    return layer


FAMILIES = {
    "linear": (lambda: nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 3, bias=False)), sequences),
    "conv1d": (lambda: nn.Conv1d(5, 3, 3, stride=2, padding=1, dilation=1), lambda n: sequences(
        n, 9, 5).transpose(0, 2, 1).copy()),
    "conv2d": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, dilation=2, groups=1),
                                     nn.Conv2d(4, 4, 3, stride=2, groups=2)), images),
    "conv3d": (lambda: nn.Conv3d(2, 3, 2, padding=(1, 0, 1)),
               lambda n: RNG.standard_normal((n, 2, 4, 5, 4)).astype(np.float32)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(5, 2, 3, stride=2, padding=1,
                                                    output_padding=1),
                         lambda n: sequences(n, 7, 5).transpose(0, 2, 1).copy()),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), images),
    "max_pool": (lambda: nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
                                       nn.MaxPool2d(2)), images),
    "max_pool1d": (lambda: nn.MaxPool1d(2), lambda n: sequences(n, 6, 3)),
    "avg_pool": (lambda: nn.Sequential(nn.AvgPool2d(3, stride=2, padding=1,
                                                    count_include_pad=False),
                                       nn.AvgPool2d(2, ceil_mode=True)), images),
    "adaptive_avg_pool": (lambda: nn.Sequential(nn.AdaptiveAvgPool2d((3, 2)), nn.Flatten()),
                          images),
    "batch_norm": (calibrated_batch_norm, images),
    "layer_norm": (lambda: nn.Sequential(nn.LayerNorm(4), nn.LayerNorm((5, 4),
                                                                       bias=False)), sequences),
    "group_norm": (lambda: nn.GroupNorm(3, 6), lambda n: images(n, 6, 4)),
    "activations": (lambda: nn.Sequential(
        nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4), nn.LeakyReLU(0.1), nn.ELU(0.5),
        nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU(), nn.Softplus(beta=2.0, threshold=3.0),
        nn.Sigmoid(), nn.LogSigmoid(), nn.Tanh(), nn.Softmax(dim=-1), nn.LogSoftmax(dim=1)),
        sequences),
    "dropout": (lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)), sequences),
    "embedding": (lambda: nn.Embedding(11, 4, padding_idx=0), tokens),
    "lstm": (lambda: nn.LSTM(4, 6, num_layers=2, batch_first=True), sequences),
    "gru": (lambda: nn.GRU(4, 5, bidirectional=True), lambda n: sequences(n).transpose(
        1, 0, 2).copy()),
    "rnn": (lambda: nn.RNN(4, 5, nonlinearity="relu", batch_first=True), sequences),
    "multihead_attention": (lambda: nn.MultiheadAttention(4, 2, batch_first=True), sequences),
    "transformer_encoder": (lambda: nn.TransformerEncoder(nn.TransformerEncoderLayer(
        4, 2, 8, dropout=0.1, batch_first=True), 2, enable_nested_tensor=False), sequences),
    "preset_mlp": (lambda: presets.mlp((1, 8, 8), 10, 16, 2, 0.2), lambda n: images(n, 1)),
    "preset_cnn": (lambda: presets.cnn((1, 8, 8), 10, 16, 0.25), lambda n: images(n, 1)),
    "preset_lstm": (lambda: presets.CharLSTM(11, 8, 1, 0.0, 6), tokens),
    "preset_gpt": (lambda: presets.CharGPT(11, 8, 2, 2, 0.1, 6), tokens),
}


class SelfAttention(nn.Module):
    """MultiheadAttention takes query, key and value; the test feeds one input to all three."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x, x, x)


def exported(model, example, **options):
    buffer = io.BytesIO()
    cr.onnx.export(model, (cr.from_numpy(example),), buffer, input_names=["x"],
                   dynamic_axes={"x": {0: "batch"}}, **options)
    return onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])


def chainrule_outputs(model, array):
    with cr.no_grad():
        result = model(cr.from_numpy(array))
    flat = []
    stack = [result]
    while stack:
        item = stack.pop(0)
        if isinstance(item, (tuple, list)):
            stack[:0] = list(item)
        elif item is not None:
            flat.append(item.numpy())
    return flat


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_onnx_runtime_matches_chainrule_at_every_batch_size(name):
    build, make_input = FAMILIES[name]
    model = build()
    if name == "multihead_attention":
        model = SelfAttention(model)
    model.eval()
    batch_axis = 1 if name == "gru" else 0
    example = make_input(2)
    session = exported(model, example) if batch_axis == 0 else None
    if session is None:
        buffer = io.BytesIO()
        cr.onnx.export(model, (cr.from_numpy(example),), buffer, input_names=["x"],
                       dynamic_axes={"x": {1: "batch"}})
        session = onnxruntime.InferenceSession(buffer.getvalue(),
                                               providers=["CPUExecutionProvider"])
    for batch in (2, 3, 1):
        array = make_input(batch) if batch_axis == 0 else np.ascontiguousarray(
            make_input(batch))
        ours = chainrule_outputs(model, array)
        theirs = session.run(None, {"x": array})
        assert len(theirs) == len(ours)
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


def test_export_writes_a_file_and_names_inputs_and_outputs(tmp_path):
    import onnx

    model = nn.Linear(3, 2)
    proto = cr.onnx.export(model, cr.randn(4, 3), tmp_path / "model.onnx", input_names=["x"],
                           output_names=["y"], dynamic_axes={"x": [0], "y": {0: "n"}},
                           opset_version=18)
    loaded = onnx.load(tmp_path / "model.onnx")
    assert loaded == proto
    assert [i.name for i in loaded.graph.input] == ["x"]
    assert [o.name for o in loaded.graph.output] == ["y"]
    assert loaded.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "n"
    assert {i.name for i in loaded.graph.initializer} >= {"weight", "bias"}
    assert model.training  # the model's mode is restored


def test_import_torch_onnx_under_the_alias():
    import chainrule as torch

    assert torch.onnx.export is cr.onnx.export


class LossModel(nn.Module):
    def forward(self, x):
        return F.cross_entropy(x, cr.zeros(x.shape[0], dtype=cr.int64))


class RandomPool(nn.Module):
    def forward(self, x):
        return F.fractional_max_pool2d(x, 2, output_size=2)


class BatchSizedConstant(nn.Module):
    def forward(self, x):
        return x + cr.ones(int(x.shape[0]), 1)  # int(): the size is a plain number


class ItemConstant(nn.Module):
    def forward(self, x):
        return x + cr.tensor(x.sum().item())


class ValueDependentConstant(nn.Module):
    def forward(self, x):
        return x + cr.tensor(x.tolist())  # the values leave the traced ops


@pytest.mark.parametrize("model, example, match", [
    (LossModel(), cr.randn(2, 3), "op CrossEntropy in layer the model"),
    (nn.Sequential(RandomPool()), cr.randn(2, 1, 4, 4),
     r"fractional_max_pool2d in layer 0 \(RandomPool\).*random"),
    (BatchSizedConstant(), cr.randn(2, 3),
     r"input 1 of Add in layer the model.*shape \(2, 1\) changes \(to \(5, 1\)\)"),
    (ValueDependentConstant(), cr.randn(2, 3), "input 1 of Add.*from the input's values"),
    (ItemConstant(), cr.randn(2, 3), r"input 1 of Add.*values differ between two runs.*\.item"),
])
def test_what_cannot_be_exported_is_refused_naming_op_and_layer(model, example, match):
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match=match):
        cr.onnx.export(model, (example,), io.BytesIO(), input_names=["x"],
                       dynamic_axes={"x": {0: "batch"}})


# Ops with no ONNX conversion, each with its reason; a new op must join CONVERTERS or this list.
NOT_EXPORTED = {
    **dict.fromkeys(["BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "CrossEntropy",
                     "CtcLoss", "HuberLoss", "KlDiv", "L1Loss", "MseLoss", "NllLoss",
                     "SmoothL1Loss"],
                    "losses belong to training, not to a deployed model"),
    **dict.fromkeys(["Accumulate", "AvgPoolGrad", "ConvWeight", "MaxPoolGrad", "RecurrentGrad",
                     "_OnceDifferentiable", "DiagonalScatter"], "backward-only ops"),
    "CopySlices": "made by writes through a view while the graph is recorded; export traces "
                  "under no_grad, where x[key] writes are exported and other writes through "
                  "views are refused (tests/onnx/test_in_place.py)",
    "LinearChain": "nn.Sequential fuses its Linear layers only while no forward observer "
                   "watches the ops, and the exporter's trace is one: it sees the layers",
    "IndexPut": "writes at a key parsed into arrays; x[key] = v in forward is not exported "
                "(index_add is, as a call)",
    "MaxPool": "its options hold the argmax of one input; the calls of F.max_pool*d and "
               "F.adaptive_max_pool*d that apply it are exported",
    "_ExtremeAlongDim": "base class", "_ExtremeOverAxes": "base class",
    **dict.fromkeys(["Atan2", "Cholesky", "Cumprod", "Eigh", "Erfc", "Erfcx", "Erfinv", "I0",
                     "I0e", "I1", "I1e", "Igamma", "Inverse", "Lgamma", "LuFactor", "Polygamma",
                     "Qr", "Slogdet", "Svd"],
                    "no ONNX operator computes it"),
    "ScatterReduce": "ONNX's ScatterElements has no mean and no include_self=False",
    "SpreadOverTies": "a whole tensor's median, found by sorting the array outside the trace "
                      "(as the dim= median's index was: neither is exported)",
    "StandardGamma": "a random draw (Gamma, Beta and Dirichlet samples), which no graph repeats",
}


def test_every_op_is_exported_or_listed_with_its_reason():
    import importlib
    import pkgutil

    from chainrule.autograd.function import Function
    from chainrule.onnx.convert import FUNCTIONS

    for module in pkgutil.iter_modules(cr.ops.__path__):
        importlib.import_module(f"chainrule.ops.{module.name}")

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ops = {c.__name__ for c in subclasses(Function) if c.__module__.startswith("chainrule.")}
    missing = sorted(ops - set(FUNCTIONS) - set(NOT_EXPORTED))
    assert not missing, (f"ops without an ONNX conversion: {missing}; add a converter in "
                         "chainrule/onnx/convert/, or list the op in NOT_EXPORTED here with why")
    assert not set(FUNCTIONS) & set(NOT_EXPORTED)


def test_every_call_converter_names_a_public_function():
    from chainrule.onnx.convert import CALLS, REFUSED
    from chainrule.onnx.trace import WRITE_SITES, watched_calls

    watched = set(watched_calls().values()) | {"zeros_like", "ones_like", "empty_like"} | {
        kind for kind, _ in WRITE_SITES.values()}
    assert not sorted(set(CALLS) - watched), "converters for calls the trace never records"
    assert not sorted(set(REFUSED) - watched - {"rand_like", "randn_like", "randint_like"})


class Rolled(nn.Module):
    def forward(self, x):
        return x.roll((1, -2), (1, 2)) + x.flip(-1)


def test_roll_and_flip_export():
    model = Rolled()
    session = exported(model, sequences(2))
    x = sequences(3)
    np.testing.assert_allclose(session.run(None, {"x": x})[0],
                               chainrule_outputs(model, x)[0], atol=1e-6)


class Trigonometry(nn.Module):
    def forward(self, x):
        return (x * 0.5).asin() + x.atan() + x.sinh() + x.cosh() + (x * 0.5).tan() + x.asinh() \
            + (x.abs() + 1.5).acosh() + (x * 0.5).atanh() + x.erf() + x.acos().cos()


def test_trigonometry_and_det_export():
    x = np.random.default_rng(0).uniform(-0.9, 0.9, (2, 3)).astype(np.float32)
    session = exported(Trigonometry(), x)
    np.testing.assert_allclose(session.run(None, {"x": x})[0],
                               chainrule_outputs(Trigonometry(), x)[0], rtol=1e-5, atol=1e-5)


def test_a_bfloat16_model_exports_with_bfloat16_weights():
    """ONNX Runtime's CPU build has no bfloat16 kernels, so ONNX's reference evaluator runs it
    (in bfloat16: agreement within bfloat16's precision)."""
    import onnx
    from onnx.reference import ReferenceEvaluator

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).to(cr.bfloat16).eval()
    x = cr.randn(2, 4).to(cr.bfloat16)
    proto = cr.onnx.export(model, (x,), io.BytesIO(), input_names=["x"],
                           dynamic_axes={"x": {0: "batch"}})
    bfloat16 = onnx.TensorProto.BFLOAT16
    assert {i.data_type for i in proto.graph.initializer} == {bfloat16}
    assert proto.graph.input[0].type.tensor_type.elem_type == bfloat16
    for batch in (2, 3):
        x = cr.randn(batch, 4).to(cr.bfloat16)
        (theirs,) = ReferenceEvaluator(proto).run(None, {"x": x.numpy()})
        with cr.no_grad():
            ours = model(x).numpy()
        assert theirs.dtype == ours.dtype
        np.testing.assert_allclose(theirs.astype(np.float32), ours.astype(np.float32),
                                   rtol=2e-2, atol=2e-2)


class TrainingDropout(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)  # training=True by default in the functional form


class IntegerBits(nn.Module):
    def forward(self, x):
        return (x > 0).long() & 1


@pytest.mark.parametrize("model, match", [
    (TrainingDropout(), "op dropout in layer the model.*training=True draws random numbers"),
    (IntegerBits(), "op bitwise_and.*need ONNX opset 18: pass opset_version=18"),
])
def test_random_and_newer_opset_ops_are_refused_with_the_fix(model, match):
    with pytest.raises(cr.onnx.UnsupportedOperatorError, match=match):
        cr.onnx.export(model, (cr.randn(2, 3),), io.BytesIO())


def test_integer_bitwise_ops_export_at_opset_18():
    session = exported(IntegerBits(), sequences(2), opset_version=18)
    x = sequences(3)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0],
                                  chainrule_outputs(IntegerBits(), x)[0])
