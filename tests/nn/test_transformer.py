import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from tests.nn.test_attention import mha_reference


def layer_norm(x, weight, bias, eps=1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def gelu(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def encoder_layer_reference(layer, x, activation, mask=None):
    """PyTorch's documented encoder layer (dropout off), from the layer's parameters; (L, N, E)."""
    p = {n: t.detach().numpy().astype(np.float64) for n, t in layer.named_parameters()}

    def attention(y):
        return mha_reference(layer.self_attn, y, y, y, mask)[0]

    def feed_forward(y):
        hidden = activation(y @ p["linear1.weight"].T + p["linear1.bias"])
        return hidden @ p["linear2.weight"].T + p["linear2.bias"]

    norm1 = lambda y: layer_norm(y, p["norm1.weight"], p["norm1.bias"])  # noqa: E731
    norm2 = lambda y: layer_norm(y, p["norm2.weight"], p["norm2.bias"])  # noqa: E731
    if layer.norm_first:
        x = x + attention(norm1(x))
        return x + feed_forward(norm2(x))
    x = norm1(x + attention(x))
    return norm2(x + feed_forward(x))


def _randomise(module):
    with cr.no_grad():
        for p in module.parameters():
            p.copy_(cr.randn(*p.shape) * 0.5)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_the_reference(norm_first, activation):
    cr.manual_seed(0)
    layer = cr.nn.TransformerEncoderLayer(6, 2, dim_feedforward=10, activation=activation,
                                          norm_first=norm_first).eval()
    _randomise(layer)
    x = np.random.default_rng(0).standard_normal((4, 3, 6)).astype(np.float32)
    act = gelu if activation == "gelu" else (lambda y: np.maximum(y, 0))
    np.testing.assert_allclose(layer(cr.from_numpy(x)).detach().numpy(),
                               encoder_layer_reference(layer, x, act), rtol=1e-4, atol=1e-4)


def test_encoder_layer_defaults_and_callable_activation():
    layer = cr.nn.TransformerEncoderLayer(8, 2)
    assert tuple(layer.linear1.weight.shape) == (2048, 8)
    assert layer.dropout.p == 0.1 and layer.norm1.eps == 1e-5 and not layer.norm_first
    custom = cr.nn.TransformerEncoderLayer(8, 2, 16, activation=cr.tanh, batch_first=True)
    assert tuple(custom(cr.randn(3, 5, 8)).shape) == (3, 5, 8)
    with pytest.raises(RuntimeError, match="relu/gelu"):
        cr.nn.TransformerEncoderLayer(8, 2, activation="swish")


def test_encoder_deep_copies_the_layer():
    layer = cr.nn.TransformerEncoderLayer(8, 2, 16)
    encoder = cr.nn.TransformerEncoder(layer, num_layers=3, norm=cr.nn.LayerNorm(8))
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.detach().numpy(),
                                  second.linear1.weight.detach().numpy())
    assert len(list(encoder.parameters())) == 3 * 12 + 2
    names = [n for n, _ in encoder.named_parameters()]
    assert names[0] == "layers.0.self_attn.in_proj_weight" and names[-1] == "norm.bias"


def test_encoder_matches_stacked_layers_then_norm():
    cr.manual_seed(1)
    layer = cr.nn.TransformerEncoderLayer(6, 3, 12, dropout=0.0)
    encoder = cr.nn.TransformerEncoder(layer, 2, norm=cr.nn.LayerNorm(6)).eval()
    _randomise(encoder)
    x = cr.randn(4, 2, 6)
    want = encoder.norm(encoder.layers[1](encoder.layers[0](x)))
    np.testing.assert_allclose(encoder(x).detach().numpy(), want.detach().numpy(), rtol=1e-6)


def test_key_padding_mask_hides_padded_positions():
    layer = cr.nn.TransformerEncoderLayer(6, 2, 12, dropout=0.0, batch_first=True)
    encoder = cr.nn.TransformerEncoder(layer, 2)
    x = cr.randn(1, 5, 6)
    padding = cr.tensor([[False, False, False, True, True]])
    changed = x.clone()
    changed[0, 3:] = cr.randn(2, 6)
    a = encoder(x, src_key_padding_mask=padding).detach().numpy()[0, :3]
    b = encoder(changed, src_key_padding_mask=padding).detach().numpy()[0, :3]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_causal_encoder_output_does_not_depend_on_the_future():
    layer = cr.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0)
    encoder = cr.nn.TransformerEncoder(layer, 2)
    causal = cr.from_numpy(np.triu(np.full((5, 5), -np.inf, dtype=np.float32), k=1))
    x = cr.randn(5, 1, 4, requires_grad=True)
    out = encoder(x, mask=causal, is_causal=True)
    probe = cr.randn(1, 4)  # a layer-normed row sums to a constant, so weight its entries
    for t in range(4):
        (grad,) = cr.autograd.grad((out[t] * probe).sum(), [x], retain_graph=True)
        assert np.all(grad.numpy()[t + 1:] == 0) and np.any(grad.numpy()[t] != 0)


def test_encoder_layer_gradients_match_finite_differences():
    cr.manual_seed(2)
    layer = cr.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True).double()
    x = cr.randn(3, 1, 4, dtype=cr.float64, requires_grad=True)
    assert gradcheck(layer, (x,))


def test_dropout_active_only_in_training():
    layer = cr.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = cr.randn(4, 2, 8)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())
