"""Record attributions computed by hand with PyTorch's autograd, for chainrule.explain's tests.

Run with a Python that has torch (PyTorch 2.13 CPU was used):

    PYTHONPATH=src /work/torchenv/bin/python bench/record_explain_fixtures.py

Small models (an MLP, a CNN, an LSTM forecaster, a character model with an embedding, a
transformer layer) are initialised by PyTorch, and their weights, inputs and float64 results
are written to ``tests/explain/torch_explain.json``: saliency (the signed gradient), gradient
x input, integrated gradients (midpoint rule, from zeros and from a given baseline; for the
character model at the embedding's output), Grad-CAM (upsampled by F.interpolate) and the
attention weights per head. The tests build the same models in chainrule from these weights
and compare, without torch."""

import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "explain" / "torch_explain.json"
STEPS = 16
torch.manual_seed(0)
torch.set_default_dtype(torch.float64)


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

    def forward(self, tokens, embedded=None):
        vectors = self.embedding(tokens) if embedded is None else embedded
        output, _ = self.lstm(vectors)
        return self.head(output[:, -1])


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(),
                         nn.Linear(16, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(6 * 4 * 4, 3))


def selected(output, target):
    return output[torch.arange(len(output)), target] if target is not None else output[:, 0]


def gradient(model, x, target):
    x = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(selected(model(x), target).sum(), x)
    return grad


def integrated(model, x, target, baseline):
    """Midpoint rule over STEPS points of the straight path, as chainrule.explain does."""
    total = torch.zeros_like(x)
    for k in range(STEPS):
        total += gradient(model, baseline + (k + 0.5) / STEPS * (x - baseline), target)
    return (x - baseline) * total / STEPS


def listed(tensor):
    return tensor.detach().tolist()


def weights(model):
    return {name: listed(value) for name, value in model.state_dict().items()}


def gradient_cases():
    cases = {}
    for name, model, x in (("mlp", mlp(), torch.randn(4, 6)),
                           ("cnn", cnn(), torch.randn(3, 1, 8, 8)),
                           ("lstm", SeriesLSTM(), torch.randn(3, 7))):
        model.eval()
        target = torch.tensor([0, 2, 1, 2][:len(x)]) if name != "lstm" else torch.tensor(
            [1, 0, 1])
        baseline = torch.randn_like(x) * 0.5
        cases[name] = {
            "weights": weights(model), "x": listed(x), "target": target.tolist(),
            "baseline": listed(baseline), "saliency": listed(gradient(model, x, target)),
            "gradient_x_input": listed(gradient(model, x, target) * x),
            "ig_zeros": listed(integrated(model, x, target, torch.zeros_like(x))),
            "ig_baseline": listed(integrated(model, x, target, baseline)),
        }
        if name == "cnn":
            cases[name]["grad_cam"] = listed(grad_cam(model, x, target))
    return cases


def grad_cam(model, x, target):
    """Grad-CAM of the second convolution, by hand: its output A, dY/dA, channel weights, ReLU
    of the weighted sum, bilinear upsampling to the input's size."""
    found = {}
    model[3].register_forward_hook(lambda m, i, o: found.setdefault("a", o))
    output = model(x)
    (grad,) = torch.autograd.grad(selected(output, target).sum(), found["a"])
    weights_ = grad.mean(dim=(2, 3), keepdim=True)
    maps = F.relu((weights_ * found["a"]).sum(dim=1, keepdim=True))
    return F.interpolate(maps, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]


def embedding_case():
    model = CharModel().eval()
    tokens = torch.randint(0, 10, (3, 6))
    target = torch.tensor([4, 0, 9])
    vectors = model.embedding(tokens).detach()
    total = torch.zeros_like(vectors)
    for k in range(STEPS):  # zeros baseline at the embedding's output
        point = ((k + 0.5) / STEPS * vectors).requires_grad_(True)
        (grad,) = torch.autograd.grad(selected(model(tokens, point), target).sum(), point)
        total += grad
    point = vectors.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(selected(model(tokens, point), target).sum(), point)
    return {"weights": weights(model), "tokens": tokens.tolist(), "target": target.tolist(),
            "ig_zeros": listed((vectors * total / STEPS).sum(-1)),
            "saliency": listed(grad.abs().sum(-1)),
            "gradient_x_input": listed((grad * vectors).sum(-1))}


def attention_case():
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, batch_first=True)
    layer.eval()
    x = torch.randn(2, 5, 8)
    mask = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    with torch.no_grad():
        _, per_head = layer.self_attn(x, x, x, attn_mask=mask, need_weights=True,
                                      average_attn_weights=False)
    return {"weights": weights(layer), "x": listed(x), "weights_per_head": listed(per_head)}


def main():
    payload = {"steps": STEPS, "torch": torch.__version__, **gradient_cases(),
               "embedding": embedding_case(), "attention": attention_case()}
    OUT.write_text(json.dumps(payload) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
