"""Attention weights of transformer layers: softmax(QK^T / sqrt(d)) per head (hand-computed),
causal masks respected, and the model's callers get exactly what they asked for."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain, nn
from chainrule.train.presets import CharGPT


def softmax(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def test_weights_are_the_softmax_of_scaled_query_key_products():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                       batch_first=True).double()
    x = torch.randn(3, 5, 8, dtype=torch.float64)
    weights = explain.attention_weights(layer, x)["self_attn"].numpy()
    w = layer.self_attn.in_proj_weight.detach().numpy()
    b = layer.self_attn.in_proj_bias.detach().numpy()
    q, k = (x.numpy() @ w[:8].T + b[:8]), (x.numpy() @ w[8:16].T + b[8:16])
    heads = lambda a: a.reshape(3, 5, 2, 4).transpose(0, 2, 1, 3)  # noqa: E731
    expected = softmax(heads(q) @ heads(k).transpose(0, 1, 3, 2) / 2.0)  # sqrt(4) = 2
    np.testing.assert_allclose(weights, expected, rtol=1e-10)


def test_causal_gpt_attends_only_to_the_past_and_its_output_is_unchanged():
    torch.manual_seed(0)
    model = CharGPT(vocab_size=11, hidden_size=16, num_layers=2, num_heads=4, dropout=0.1,
                    block_size=8)
    tokens = torch.randint(0, 11, (2, 6))
    model.eval()
    with torch.no_grad():
        before = model(tokens).numpy()
    model.train()
    weights = explain.attention_weights(model, tokens)
    assert list(weights) == ["blocks.layers.0.self_attn", "blocks.layers.1.self_attn"]
    assert model.training  # its mode is given back
    for found in weights.values():
        found = found.numpy()
        assert found.shape == (2, 4, 6, 6)
        np.testing.assert_allclose(found.sum(axis=-1), 1.0, rtol=1e-5)
        assert np.all(np.triu(np.ones((6, 6)), k=1)[None, None] * found == 0)
    model.eval()
    with torch.no_grad():
        np.testing.assert_array_equal(model(tokens).numpy(), before)


class Caller(nn.Module):
    """Calls its attention positionally, asking for head-averaged weights."""

    def __init__(self):
        super().__init__()
        self.attention = nn.MultiheadAttention(8, 2, batch_first=True)
        self.seen = None

    def forward(self, x):
        output, self.seen = self.attention(x, x, x, None, True)
        return output


def test_a_caller_asking_for_averaged_weights_still_gets_them():
    torch.manual_seed(0)
    model = Caller()
    x = torch.randn(2, 3, 8)
    per_head = explain.attention_weights(model, x)["attention"]
    assert per_head.shape == (2, 2, 3, 3) and model.seen.shape == (2, 3, 3)
    np.testing.assert_allclose(model.seen.numpy(), per_head.numpy().mean(axis=1), rtol=1e-6)


def test_a_model_without_attention_is_an_error():
    with pytest.raises(ValueError, match="no nn.MultiheadAttention"):
        explain.attention_weights(nn.Linear(3, 2), torch.randn(1, 3))
