"""Write the PyTorch fixture files of tests/io, and check that chainrule's state dicts load
into real PyTorch.

Run with PyTorch installed (never needed by the package or its tests):

    PYTHONPATH=src /work/torchenv/bin/python bench/torch_fixtures.py

1. Files written by torch.save (zip and legacy layouts) with the values they must load as,
   in tests/io/fixtures/ (a few KB in all): expected.safetensors holds every tensor as float64
   or its own integer/bool dtype, under "<file>/<path>" (bfloat16 values exactly, as float64).
2. For every layer family and the four presets of ``chainrule train``: chainrule saves the
   model's state dict with ``chainrule.save``; PyTorch reads it with
   ``safetensors.torch.load_file`` and ``load_state_dict(strict=True)``, and the two models'
   outputs on one input must agree. Prints one line per family; exits 1 on any failure.
"""

import sys
import tempfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

import chainrule as cr
from chainrule.train import presets

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "io" / "fixtures"


# -- 1. fixture files ------------------------------------------------------------------------
def mixed_object():
    torch.manual_seed(0)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    return {
        "base": base,
        "row": base[1],  # shares base's storage
        "column": base[:, 2],  # strided view
        "transposed": base.t(),
        "every_other": base.reshape(-1)[::2],
        "parameter": torch.nn.Parameter(torch.tensor([0.5, -1.5])),
        "frozen": torch.nn.Parameter(torch.tensor([2.0]), requires_grad=False),
        "dtypes": {
            "float16": torch.tensor([1.5, -2.25, 65504.0], dtype=torch.float16),
            "float64": torch.tensor([1e-300, 3.0], dtype=torch.float64),
            "int8": torch.tensor([-128, 127], dtype=torch.int8),
            "uint8": torch.tensor([0, 255], dtype=torch.uint8),
            "int16": torch.tensor([-32768, 7], dtype=torch.int16),
            "int32": torch.tensor([2**31 - 1, -5], dtype=torch.int32),
            "int64": torch.tensor([2**62, -1], dtype=torch.int64),
            "bool": torch.tensor([True, False, True]),
        },
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "numbers": [1, 2.5, -3, 10**20, float("inf")],
        "text": ("a", "ü", b"bytes"),
        "nothing": None,
        "flags": {True: "yes", 2: "two", (1, 2): "pair"},
        "size": torch.Size([2, 3]),
        "dtype": torch.float16,
        "device": torch.device("cpu"),
        "ordered": OrderedDict([("z", 1), ("a", 2)]),
        "set": {1, 2, 3},
        "complex": 1 + 2j,
    }


def optimizer_state():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 3}


def flat_tensors(obj, prefix, out):
    """Every tensor of ``obj`` under its path, as float64 (or its integer/bool dtype)."""
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach()
        out[prefix] = (tensor.double() if tensor.is_floating_point() else tensor).contiguous()
    elif isinstance(obj, dict):
        for key, value in obj.items():
            flat_tensors(value, f"{prefix}/{key}", out)
    elif isinstance(obj, (list, tuple)):
        for index, value in enumerate(obj):
            flat_tensors(value, f"{prefix}/{index}", out)


def write_fixtures():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    objects = {
        "mixed": mixed_object(),
        "optimizer": optimizer_state(),
        "linear": torch.nn.Linear(3, 2).state_dict(),
        "bfloat16": {"weights": torch.tensor([1.5, -2.25, 3e38, 1 / 3], dtype=torch.bfloat16),
                     "view": torch.arange(4, dtype=torch.bfloat16)[1:]},
    }
    expected = {}
    for name, obj in objects.items():
        torch.save(obj, FIXTURES / f"{name}.pt")
        flat_tensors(obj, name, expected)
    for name in ("mixed", "linear"):
        torch.save(objects[name], FIXTURES / f"{name}_legacy.pt",
                   _use_new_zipfile_serialization=False)
    torch.save(torch.nn.Linear(2, 2), FIXTURES / "whole_module.pt")  # refused by default
    write_whole_module_fixtures()
    write_plain_data_fixtures()
    save_file(expected, FIXTURES / "expected.safetensors")
    sizes = {p.name: p.stat().st_size for p in sorted(FIXTURES.iterdir())}
    print(f"fixtures in {FIXTURES}: {sizes}")


# -- whole pickled modules (torch.save(model)), loaded with weights_only=False ---------------
WHOLE_NET_HOME = "tests.io.test_torch_whole_modules"  # where the test defines its WholeNet


class WholeNet(torch.nn.Module):
    """A model class of the user's own (the test module defines the same one)."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(7, 4, padding_idx=0)
        self.rnn = torch.nn.LSTM(4, 3, num_layers=2, batch_first=True, bidirectional=True)
        self.gru = torch.nn.GRU(6, 4, batch_first=True)
        self.encoder = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True,
                                                        activation="gelu")
        self.heads = torch.nn.ModuleDict({"a": torch.nn.Linear(4, 2),
                                          "b": torch.nn.Sequential(torch.nn.Linear(4, 3),
                                                                   torch.nn.Tanh())})
        self.tied = torch.nn.Linear(4, 7, bias=False)
        self.tied.weight = self.embed.weight
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, tokens):
        h, _ = self.gru(self.rnn(self.embed(tokens))[0])
        h = self.encoder(h)
        return torch.cat([self.heads["a"](h) * self.scale, self.heads["b"](h),
                          self.tied(self.embed(tokens))], -1)


def whole_modules():
    """The models of whole_modules.pt and the inputs their outputs are recorded on."""
    torch.manual_seed(0)
    vision = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), torch.nn.BatchNorm2d(3),
        torch.nn.LeakyReLU(0.2), torch.nn.MaxPool2d(2), torch.nn.ConvTranspose2d(3, 2, 2, 2),
        torch.nn.GroupNorm(1, 2), torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 3),
        torch.nn.ReLU(), torch.nn.Linear(3, 2))
    vision.train()
    vision(torch.randn(4, 2, 6, 6))  # running statistics that are not the initial ones
    vision.eval()
    models = {"vision": vision, "net": WholeNet().eval()}
    inputs = {"vision": torch.linspace(-2, 2, 2 * 2 * 6 * 6).reshape(2, 2, 6, 6),
              "net": torch.tensor([[1, 2, 3, 0], [4, 5, 6, 6]])}
    return models, inputs


def write_whole_module_fixtures():
    """whole_modules.pt (zip): {"vision", "net", "epoch"}; whole_modules_legacy.pt (the legacy
    layout): {"small", "epoch"}; the models' outputs in whole_modules_expected.safetensors;
    hooked_module.pt, a module with a hook."""
    home = type(sys)(WHOLE_NET_HOME)  # so that pickle finds WholeNet where the test has it
    home.WholeNet = WholeNet
    sys.modules[WHOLE_NET_HOME] = home
    WholeNet.__module__ = WHOLE_NET_HOME
    models, inputs = whole_modules()
    state = {**models, "epoch": 7}
    torch.save(state, FIXTURES / "whole_modules.pt")
    # (the legacy layout stores each module class's source: one small model keeps it small)
    legacy = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    torch.save({"small": legacy, "epoch": 7}, FIXTURES / "whole_modules_legacy.pt",
               _use_new_zipfile_serialization=False)
    models["small"], inputs["small"] = legacy, torch.linspace(-1, 1, 6).reshape(2, 3)
    with torch.no_grad():
        save_file({name: models[name](inputs[name]).contiguous() for name in models},
                  FIXTURES / "whole_modules_expected.safetensors")
    hooked = torch.nn.Linear(2, 2)
    hooked.register_forward_hook(torch.nn.functional.relu)  # any function: a hook is code
    torch.save(hooked, FIXTURES / "hooked_module.pt")


def plain_data_checkpoint():
    """What training scripts save beside the weights, loadable with weights_only=False; the
    test (tests/io/test_plain_data.py) builds the same values itself."""
    import argparse
    import collections
    import datetime
    import pathlib
    return {
        "weights": torch.arange(3, dtype=torch.float32),
        "data": np.sin(np.arange(12, dtype=np.float64) / 4).reshape(3, 4),
        "best_acc": np.float64(0.8125), "step": np.int64(42), "flag": np.bool_(True),
        "half": np.float16(1.5), "strings": np.array(["ab", "c"]),
        "objects": np.array([1, "two", None], dtype=object),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "records": np.array([(1, 2.5), (3, -1.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
        "np_rng": np.random.RandomState(3).get_state(),
        "dtype": np.dtype("float32"),
        "args": argparse.Namespace(lr=0.1, epochs=3, arch="resnet", milestones=[2, 4]),
        "counts": collections.defaultdict(int, {"a": 2}),
        "history": collections.deque([0.5, 0.25], maxlen=3),
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9),
        "took": datetime.timedelta(seconds=90),
        "out_dir": pathlib.PurePosixPath("/runs/exp1"),
        "window": range(2, 10, 3), "crop": slice(1, None, 2),
    }


def write_plain_data_fixtures():
    """plain_data.pt (zip) and plain_data_legacy.pt: a checkpoint holding NumPy values,
    argparse.Namespace, collections and datetime values beside a tensor."""
    torch.save(plain_data_checkpoint(), FIXTURES / "plain_data.pt")
    torch.save(plain_data_checkpoint(), FIXTURES / "plain_data_legacy.pt",
               _use_new_zipfile_serialization=False)


# -- 2. chainrule state dicts into PyTorch ---------------------------------------------------
class TorchCharLSTM(torch.nn.Module):
    def __init__(self, vocab, hidden, layers, block):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, 64)
        self.lstm = torch.nn.LSTM(64, hidden, num_layers=layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, tokens):
        return self.head(self.lstm(self.embedding(tokens))[0])


class TorchCharGPT(torch.nn.Module):
    def __init__(self, vocab, hidden, layers, heads, block):
        super().__init__()
        self.token_embedding = torch.nn.Embedding(vocab, hidden)
        self.position_embedding = torch.nn.Embedding(block, hidden)
        layer = torch.nn.TransformerEncoderLayer(hidden, heads, 4 * hidden, 0.0, "gelu",
                                                 batch_first=True, norm_first=True)
        self.blocks = torch.nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = torch.nn.LayerNorm(hidden)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.token_embedding(tokens) + self.position_embedding(torch.arange(length))
        mask = torch.triu(torch.ones(length, length, dtype=torch.bool), diagonal=1)
        return self.head(self.norm(self.blocks(x, mask=mask, is_causal=True)))


def _seq(lib, *layers):
    return lib.nn.Sequential(*layers)


def families():
    """(name, chainrule model, the same architecture in PyTorch, input array)."""
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    tokens = rng.integers(0, 11, size=(2, 6))
    sequence = rng.standard_normal((2, 5, 4)).astype(np.float32)
    out = []
    for lib_name, lib in (("chainrule", cr), ("torch", torch)):
        nn = lib.nn
        out.append([
            ("linear", nn.Linear(4, 3), sequence),
            ("conv1d", nn.Conv1d(4, 2, 3, padding=1), sequence.transpose(0, 2, 1).copy()),
            ("conv2d", nn.Conv2d(3, 4, 3, stride=2, groups=1), images),
            ("conv3d", nn.Conv3d(1, 2, 2), images[:, :1, None].repeat(2, axis=2)),
            ("conv_transpose1d", nn.ConvTranspose1d(4, 2, 3, stride=2),
             sequence.transpose(0, 2, 1).copy()),
            ("conv_transpose2d", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), images),
            ("batch_norm", _seq(lib, nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4)), images),
            ("layer_norm", nn.LayerNorm(4), sequence),
            ("group_norm", nn.GroupNorm(1, 3), images),
            ("embedding", nn.Embedding(11, 4), tokens),
            ("lstm", nn.LSTM(4, 6, num_layers=2, batch_first=True), sequence),
            ("gru", nn.GRU(4, 6, bidirectional=True, batch_first=True), sequence),
            ("rnn", nn.RNN(4, 6, batch_first=True), sequence),
            ("multihead_attention", nn.MultiheadAttention(4, 2, batch_first=True), sequence),
            ("transformer_encoder", nn.TransformerEncoder(
                nn.TransformerEncoderLayer(4, 2, 8, 0.0, batch_first=True), 2,
                enable_nested_tensor=False), sequence),
        ])
        torch_side = lib_name == "torch"
        out[-1] += [
            ("preset_mlp", presets.mlp((1, 8, 8), 10, 16, 2, 0.0) if not torch_side else
             _seq(torch, torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.ReLU(),
                  torch.nn.Dropout(0.0), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                  torch.nn.Dropout(0.0), torch.nn.Linear(16, 10)), images[:, :1]),
            ("preset_cnn", presets.cnn((1, 8, 8), 10, 16, 0.0) if not torch_side else
             _seq(torch, torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
                  torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(),
                  torch.nn.MaxPool2d(2), torch.nn.Dropout(0.0), torch.nn.Flatten(),
                  torch.nn.Linear(64 * 16, 16), torch.nn.ReLU(), torch.nn.Dropout(0.0),
                  torch.nn.Linear(16, 10)), images[:, :1]),
            ("preset_lstm", presets.CharLSTM(11, 8, 1, 0.0, 6) if not torch_side else
             TorchCharLSTM(11, 8, 1, 6), tokens),
            ("preset_gpt", presets.CharGPT(11, 8, 2, 2, 0.0, 6) if not torch_side else
             TorchCharGPT(11, 8, 2, 2, 6), tokens),
        ]
    return list(zip(out[0], out[1]))


def first_output(result):
    while isinstance(result, tuple):
        result = result[0]
    return result


def check_state_dicts():
    failures = 0
    with tempfile.TemporaryDirectory() as directory:
        for (name, ours, _), (_, theirs, array) in families():
            path = Path(directory) / f"{name}.safetensors"
            ours.eval()
            theirs.eval()
            cr.save(ours.state_dict(), path)
            state = load_file(path)
            try:
                theirs.load_state_dict(state, strict=True)
            except RuntimeError as error:
                print(f"{name:22s} FAILED: {error}")
                failures += 1
                continue
            args = (array,) * (3 if name == "multihead_attention" else 1)
            with cr.no_grad(), torch.no_grad():
                a = first_output(ours(*[cr.from_numpy(x) for x in args])).numpy()
                b = first_output(theirs(*[torch.from_numpy(x) for x in args])).numpy()
            gap = float(np.max(np.abs(a - b)))
            ok = gap < 1e-4
            failures += not ok
            print(f"{name:22s} {len(state):3d} tensors  keys/shapes match  max |out diff| "
                  f"{gap:.2e}  {'ok' if ok else 'FAILED'}")
    return failures


if __name__ == "__main__":
    write_fixtures()
    sys.exit(1 if check_state_dicts() else 0)
