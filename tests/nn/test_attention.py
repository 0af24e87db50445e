import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.ops import attention as A
from tests.opcheck import OpCase, check_case

SDPA = (A.ScaledDotProductAttention,)


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_reference(q, k, v, mask=None, scale=None):
    """softmax(q k^T / sqrt(d) + mask) v, written out; mask: bool (True = take part) or float."""
    scores = q @ np.swapaxes(k, -1, -2) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if mask is not None:
        scores = scores + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    return softmax(scores) @ v


BOOL_MASK = np.array([[True, False, True, True], [True, True, False, False],
                      [False, True, True, True]])
FLOAT_MASK = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
CAUSAL = np.tril(np.ones((3, 4), dtype=bool))

CASES = [
    OpCase("sdpa", F.scaled_dot_product_attention, attention_reference,
           [(2, 3, 5), (2, 4, 5), (2, 4, 2)], SDPA),
    OpCase("sdpa_heads_bool_mask",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.from_numpy(BOOL_MASK)),
           lambda q, k, v: attention_reference(q, k, v, BOOL_MASK),
           [(1, 2, 3, 4), (1, 2, 4, 4), (1, 2, 4, 3)], SDPA),
    OpCase("sdpa_float_mask_and_scale",
           lambda q, k, v: F.scaled_dot_product_attention(q, k, v, cr.from_numpy(FLOAT_MASK),
                                                          scale=0.7),
           lambda q, k, v: attention_reference(q, k, v, FLOAT_MASK, 0.7),
           [(2, 3, 2), (2, 4, 2), (2, 4, 3)], SDPA),
    OpCase("sdpa_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
           lambda q, k, v: attention_reference(q, k, v, CAUSAL),
           [(2, 3, 2), (2, 4, 2), (2, 4, 3)], SDPA),
    OpCase("sdpa_broadcast_batch", F.scaled_dot_product_attention, attention_reference,
           [(2, 3, 3, 2), (1, 3, 4, 2), (1, 3, 4, 2)], SDPA),
    OpCase("attend_with_weights", lambda q, k, v: A.attend(q, k, v, None, 0.0, 0.5, True),
           lambda q, k, v: (attention_reference(q, k, v, scale=0.5),
                            softmax(q @ np.swapaxes(k, -1, -2) * 0.5)),
           [(2, 3, 2), (2, 4, 2), (2, 4, 3)], SDPA),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_attention_op(case):
    check_case(case)


def _inputs(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(cr.from_numpy(rng.standard_normal(s)).requires_grad_() for s in shapes)


def test_sdpa_double_backward_is_exact():
    q, k, v = _inputs((2, 3, 2), (2, 4, 2), (2, 4, 3))
    mask = cr.from_numpy(BOOL_MASK)
    assert gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, mask), (q, k, v))


def test_sdpa_dropout_is_seeded_and_differentiable():
    q, k, v = _inputs((1, 3, 2), (1, 4, 2), (1, 4, 3))

    def dropped(q, k, v):
        cr.manual_seed(7)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert np.allclose(dropped(q, k, v).detach().numpy(), dropped(q, k, v).detach().numpy())
    assert not np.allclose(dropped(q, k, v).detach().numpy(),
                           F.scaled_dot_product_attention(q, k, v).detach().numpy())
    assert gradcheck(dropped, (q, k, v))



def test_dropout_of_one_drops_every_weight_to_zero():
    # as F.dropout(p=1): every attention weight dropped, the output zeros (1 / (1 - p) not taken)
    q, k, v = _inputs((2, 3, 4), (2, 3, 4), (2, 3, 4))
    with np.errstate(all="raise"):
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    np.testing.assert_array_equal(out.detach().numpy(), np.zeros((2, 3, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(q.grad.numpy(), np.zeros((2, 3, 4)))

def test_causal_mask_blocks_the_future():
    (x,) = _inputs((1, 5, 4))
    out = F.scaled_dot_product_attention(x, x, x, is_causal=True)
    for t in range(5):
        (grad,) = cr.autograd.grad(out[0, t].sum(), [x], retain_graph=True)
        assert np.all(grad.numpy()[0, t + 1:] == 0) and np.any(grad.numpy()[0, t] != 0)


def test_sdpa_keeps_float32():
    q = cr.randn(2, 3, 4)
    assert F.scaled_dot_product_attention(q, q, q, is_causal=True).dtype == cr.float32


@pytest.mark.parametrize("call, message", [
    (lambda: F.scaled_dot_product_attention(cr.randn(2, 3, 4), cr.randn(2, 3, 5),
                                            cr.randn(2, 3, 4)), "expected query"),
    (lambda: F.scaled_dot_product_attention(cr.randn(3, 4), cr.randn(3, 4), cr.randn(3, 4),
                                            attn_mask=cr.ones(3, 3).bool(), is_causal=True),
     "not both"),
])
def test_sdpa_errors(call, message):
    with pytest.raises(RuntimeError, match=message):
        call()


# -- MultiheadAttention --------------------------------------------------------------------------
def mha_reference(mha, q, k, v, mask=None):
    """(L, N, E) inputs; mask: additive (N, heads, L, S) or None. Returns output, mean weights."""
    e, h = mha.embed_dim, mha.num_heads
    params = {n: p.detach().numpy().astype(np.float64) for n, p in mha.named_parameters()}
    w, b = params["in_proj_weight"], params["in_proj_bias"]
    proj = [x @ w[i * e:(i + 1) * e].T + b[i * e:(i + 1) * e] for i, x in enumerate((q, k, v))]
    heads = [p.reshape(p.shape[0], p.shape[1], h, e // h).transpose(1, 2, 0, 3) for p in proj]
    scores = heads[0] @ heads[1].transpose(0, 1, 3, 2) / math.sqrt(e // h)
    weights = softmax(scores + (0 if mask is None else mask))
    out = (weights @ heads[2]).transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return out @ params["out_proj.weight"].T + params["out_proj.bias"], weights.mean(axis=1)


def test_mha_parameters_and_init_follow_pytorch():
    mha = cr.nn.MultiheadAttention(8, 2)
    assert [n for n, _ in mha.named_parameters()] == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert tuple(mha.in_proj_weight.shape) == (24, 8)
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= math.sqrt(6 / (8 + 24))
    assert not mha.in_proj_bias.detach().numpy().any()
    assert not mha.out_proj.bias.detach().numpy().any()
    separate = cr.nn.MultiheadAttention(8, 2, kdim=3, vdim=5, bias=False)
    assert [n for n, _ in separate.named_parameters()] == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]


def test_mha_matches_the_reference_with_masks():
    cr.manual_seed(0)
    mha = cr.nn.MultiheadAttention(6, 2)
    with cr.no_grad():
        mha.in_proj_bias.copy_(cr.randn(18))
        mha.out_proj.bias.copy_(cr.randn(6))
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in [(3, 2, 6), (4, 2, 6),
                                                                    (4, 2, 6)])
    out, weights = mha(cr.from_numpy(q), cr.from_numpy(k), cr.from_numpy(v))
    want_out, want_weights = mha_reference(mha, q, k, v)
    np.testing.assert_allclose(out.detach().numpy(), want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.detach().numpy(), want_weights, rtol=1e-4, atol=1e-6)
    padding = np.array([[False, False, True, False], [False, False, False, True]])
    blocked = np.array([[False, True, False, False]] * 3)  # True = may NOT attend (MHA convention)
    out, weights = mha(cr.from_numpy(q), cr.from_numpy(k), cr.from_numpy(v),
                       key_padding_mask=cr.from_numpy(padding), attn_mask=cr.from_numpy(blocked))
    additive = np.where(blocked[None, None] | padding[:, None, None, :], -np.inf, 0.0)
    want_out, want_weights = mha_reference(mha, q, k, v, additive)
    np.testing.assert_allclose(out.detach().numpy(), want_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights.detach().numpy(), want_weights, rtol=1e-4, atol=1e-6)
    seen = weights.detach().numpy()
    assert seen[0, :, 2].max() == 0 and seen[:, :, 1].max() == 0


def test_mha_shapes_batch_first_unbatched_and_per_head_weights():
    mha = cr.nn.MultiheadAttention(8, 4, batch_first=True)
    x = cr.randn(2, 5, 8)
    out, weights = mha(x, x, x, average_attn_weights=False)
    assert tuple(out.shape) == (2, 5, 8) and tuple(weights.shape) == (2, 4, 5, 5)
    out, weights = mha(x, x, x, need_weights=False)
    assert weights is None
    seq_first = cr.nn.MultiheadAttention(8, 4)
    seq_first.load_state_dict(mha.state_dict())
    out2, _ = seq_first(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1))
    np.testing.assert_allclose(out2.transpose(0, 1).detach().numpy(), out.detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    single, w = seq_first(x[0], x[0], x[0])
    assert tuple(single.shape) == (5, 8) and tuple(w.shape) == (5, 5)
    cross = cr.nn.MultiheadAttention(8, 2, kdim=3, vdim=5)
    out, w = cross(cr.randn(4, 2, 8), cr.randn(6, 2, 3), cr.randn(6, 2, 5))
    assert tuple(out.shape) == (4, 2, 8) and tuple(w.shape) == (2, 4, 6)


def test_mha_gradients_match_finite_differences():
    cr.manual_seed(0)
    mha = cr.nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    q, k, v = _inputs((2, 1, 4), (3, 1, 3), (3, 1, 2))
    assert gradcheck(lambda q, k, v: mha(q, k, v)[0], (q, k, v))


def test_mha_is_causal_needs_the_mask():
    mha = cr.nn.MultiheadAttention(4, 2)
    x = cr.randn(3, 1, 4)
    with pytest.raises(RuntimeError, match="need attn_mask"):
        mha(x, x, x, is_causal=True)


def test_mha_self_attention_matches_separate_inputs():
    """Self-attention (query is key is value, one tensor) and the same values passed as three
    tensors: outputs and every gradient agree."""
    cr.manual_seed(0)
    mha = cr.nn.MultiheadAttention(8, 2, batch_first=True).double()
    with cr.no_grad():
        mha.in_proj_bias.copy_(cr.randn(24).double())
    x = np.random.default_rng(1).standard_normal((3, 5, 8))
    results = []
    for packed in (True, False):
        mha.zero_grad()
        inputs = [cr.from_numpy(x.copy()).requires_grad_() for _ in range(1 if packed else 3)]
        q, k, v = inputs * 3 if packed else inputs
        out, _ = mha(q, k, v, attn_mask=cr.from_numpy(np.triu(np.ones((5, 5), bool), 1)))
        (out * out).sum().backward()
        grad_x = sum(t.grad.numpy() for t in inputs)
        results.append([out.detach().numpy(), grad_x] +
                       [p.grad.numpy().copy() for p in mha.parameters()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_mha_self_attention_gradients_match_finite_differences():
    cr.manual_seed(0)
    mha = cr.nn.MultiheadAttention(4, 2).double()
    (x,) = _inputs((3, 2, 4))
    assert gradcheck(lambda x: mha(x, x, x)[0], (x,))


@pytest.mark.parametrize("options", [dict(), dict(add_bias_kv=True), dict(add_zero_attn=True),
                                     dict(kdim=3, vdim=5)])
def test_mha_batch_first_matches_sequence_first(options):
    """batch_first=True works on (N, L, E) in its own layout (no transposes): outputs, weights
    and every gradient equal those of the same module on (L, N, E), with both masks."""
    cr.manual_seed(0)
    rng = np.random.default_rng(2)
    first = cr.nn.MultiheadAttention(8, 2, batch_first=True, **options).double()
    with cr.no_grad():
        first.in_proj_bias.copy_(cr.randn(24).double())
    second = cr.nn.MultiheadAttention(8, 2, **options).double()
    second.load_state_dict(first.state_dict())
    kdim, vdim = options.get("kdim", 8), options.get("vdim", 8)
    arrays = [rng.standard_normal((3, 4, 8)), rng.standard_normal((3, 6, kdim)),
              rng.standard_normal((3, 6, vdim))]
    extra = 1 if options.get("add_bias_kv") or options.get("add_zero_attn") else 0
    mask = cr.from_numpy(rng.standard_normal((4, 6)))
    padding = cr.from_numpy(np.array([[False] * 5 + [True]] * 3))
    results = []
    for module, axes in ((first, (0, 1, 2)), (second, (1, 0, 2))):
        module.zero_grad()
        inputs = [cr.from_numpy(a.transpose(axes).copy()).requires_grad_() for a in arrays]
        out, weights = module(*inputs, attn_mask=mask, key_padding_mask=padding,
                              average_attn_weights=False)
        (out * out).sum().backward()
        results.append([out.detach().numpy().transpose(axes), weights.detach().numpy()] +
                       [t.grad.numpy().transpose(axes) for t in inputs] +
                       [p.grad.numpy().copy() for p in module.parameters()])
    assert results[0][1].shape == (3, 2, 4, 6 + extra)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
