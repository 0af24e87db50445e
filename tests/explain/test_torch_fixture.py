"""Attributions match PyTorch's, computed by hand with autograd on the same weights in float64
(recorded by bench/record_explain_fixtures.py into torch_explain.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain, nn

FIXTURE = json.loads((Path(__file__).parent / "torch_explain.json").read_text())
STEPS = FIXTURE["steps"]


class SeriesLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, windows):
        output, _ = self.lstm(windows.unsqueeze(-1))
        return self.head(output[:, -1])


class CharModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(10, 5)
        self.lstm = nn.LSTM(5, 8, batch_first=True)
        self.head = nn.Linear(8, 10)

    def forward(self, tokens):
        output, _ = self.lstm(self.embedding(tokens))
        return self.head(output[:, -1])


BUILD = {
    "mlp": lambda: nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                                 nn.Linear(16, 3)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(6 * 4 * 4, 3)),
    "lstm": SeriesLSTM,
    "embedding": CharModel,
    "attention": lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                                    batch_first=True),
}


def loaded(name):
    case = FIXTURE[name]
    model = BUILD[name]().double()
    model.load_state_dict({key: torch.tensor(np.array(value))
                           for key, value in case["weights"].items()})
    return model, case


def tensor(values, dtype=np.float64):
    return torch.from_numpy(np.array(values, dtype=dtype))


def close(actual, expected):
    assert actual.dtype == torch.float64
    np.testing.assert_allclose(actual.numpy(), np.array(expected), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["mlp", "cnn", "lstm"])
def test_gradient_methods_match_pytorch(name):
    model, case = loaded(name)
    x, target = tensor(case["x"]), case["target"]
    close(explain.saliency(model, x, target, abs=False), case["saliency"])
    close(explain.saliency(model, x, target), np.abs(case["saliency"]))
    close(explain.gradient_x_input(model, x, target), case["gradient_x_input"])
    close(explain.integrated_gradients(model, x, target, steps=STEPS), case["ig_zeros"])
    close(explain.integrated_gradients(model, x, target, baseline=tensor(case["baseline"]),
                                       steps=STEPS), case["ig_baseline"])


def test_integrated_gradients_in_stacked_chunks_match_pytorch():
    """The path points go through the model in several stacked forwards; the sums do not
    depend on how they are cut."""
    model, case = loaded("mlp")
    for rows in (1, 5, 64):
        close(explain.integrated_gradients(model, tensor(case["x"]), case["target"],
                                           steps=STEPS, internal_batch_size=rows),
              case["ig_zeros"])


def test_grad_cam_matches_pytorch_with_bilinear_upsampling():
    model, case = loaded("cnn")
    maps = explain.grad_cam(model, tensor(case["x"]), case["target"], layer="3")
    close(maps, case["grad_cam"])


def test_embedding_attributions_match_pytorch_at_the_embedding_output():
    model, case = loaded("embedding")
    tokens = tensor(case["tokens"], np.int64)
    target = case["target"]
    ig = explain.integrated_gradients(model, tokens, target, steps=STEPS)
    assert ig.shape == tokens.shape
    close(ig, case["ig_zeros"])
    close(explain.saliency(model, tokens, target), case["saliency"])
    close(explain.gradient_x_input(model, tokens, target), case["gradient_x_input"])


def test_attention_weights_match_pytorch_per_head():
    layer, case = loaded("attention")
    x = tensor(case["x"])
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    weights = explain.attention_weights(layer, x, src_mask=mask)
    close(weights["self_attn"], case["weights_per_head"])
