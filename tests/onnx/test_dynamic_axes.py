"""Dynamic axes beyond the batch: a sequence axis declared dynamic stays dynamic (PyTorch's
text-model idioms: ``B, T = idx.size()``, ``arange(T)``, ``mask[:T, :T]``, ``pe[:x.size(0)]``,
``view(B, T, heads, -1)``, causal masks from ``full((T, T))``), checked in ONNX Runtime at
other lengths than the traced one; a size baked in as a number is refused naming the op."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.onnx import UnsupportedOperatorError
from chainrule.train import presets

from .ort import assert_runtime_matches, session

pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention, as written there."""

    def __init__(self, n_embd=8, n_head=2, block_size=16):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head, self.n_embd = n_head, n_embd
        causal = cr.tril(cr.ones(block_size, block_size))
        self.register_buffer("bias", causal.view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class NanoGPT(nn.Module):
    def __init__(self, vocab=11, n_embd=8, block_size=16):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, n_embd), nn.Embedding(block_size, n_embd)
        self.attn, self.ln = CausalSelfAttention(n_embd), nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)

    def forward(self, idx):
        b, t = idx.size()
        pos = cr.arange(0, t, dtype=cr.long)
        x = self.wte(idx) + self.wpe(pos)
        x = x + self.attn(self.ln(x))
        return self.head(x)


class PositionalEncoding(nn.Module):
    """PyTorch's word_language_model example."""

    def __init__(self, d_model, max_len=50):
        super().__init__()
        pe = cr.zeros(max_len, d_model)
        position = cr.arange(0, max_len, dtype=cr.float).unsqueeze(1)
        div_term = cr.exp(cr.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = cr.sin(position * div_term)
        pe[:, 1::2] = cr.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return x + self.pe[:x.size(0), :]


class TransformerLM(nn.Module):
    def __init__(self, ntoken=11, ninp=8):
        super().__init__()
        self.pos = PositionalEncoding(ninp)
        self.enc = nn.Embedding(ntoken, ninp)
        self.tr = nn.TransformerEncoder(nn.TransformerEncoderLayer(ninp, 2, 16, 0.0), 2)
        self.dec = nn.Linear(ninp, ntoken)
        self.ninp = ninp

    def forward(self, src):
        sz = src.size(0)
        mask = cr.triu(cr.full((sz, sz), float("-inf")), diagonal=1)
        src = self.pos(self.enc(src) * math.sqrt(self.ninp))
        return F.log_softmax(self.dec(self.tr(src, mask)), dim=-1)


class RNNLM(nn.Module):
    def __init__(self, ntoken=11, ninp=6, nhid=5):
        super().__init__()
        self.enc, self.rnn = nn.Embedding(ntoken, ninp), nn.LSTM(ninp, nhid, 2)
        self.dec, self.nhid = nn.Linear(nhid, ntoken), nhid

    def forward(self, x):
        h = tuple(x.new_zeros(2, x.size(1), self.nhid, dtype=cr.float) for _ in range(2))
        out, _ = self.rnn(self.enc(x), h)
        return F.log_softmax(self.dec(out).view(-1, 11), dim=1)


class TextCNN(nn.Module):
    """Mean and max over time: ``F.max_pool1d(h, h.size(2))``."""

    def __init__(self):
        super().__init__()
        self.emb, self.conv = nn.Embedding(11, 6), nn.Conv1d(6, 4, 3, padding=1)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        h = F.relu(self.conv(self.emb(x).transpose(1, 2)))
        return self.fc(cr.cat([h.mean(dim=2), F.max_pool1d(h, h.size(2)).squeeze(2)], 1))


class SDPAModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.p = nn.Linear(4, 12)

    def forward(self, x):
        q, k, v = self.p(x).chunk(3, -1)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return y + F.pad(x, (0, 0, 1, 0))[:, :-1] + x[:, -1:, :]


class GRUTagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 3, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(out), h.transpose(0, 1).reshape(x.shape[0], -1)


class PadMask(nn.Module):
    """Multi-head attention with a key padding mask computed from the tokens."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(11, 8)
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        e = self.emb(x)
        return self.mha(e, e, e, key_padding_mask=(x == 0))


class SizeArithmetic(nn.Module):
    """Sizes computed from sizes (B * T, T - 1, T // 2, T % 3, -T), and compared with and
    dividing tensors."""

    def forward(self, x):
        B, T, C = x.shape
        flat = x.reshape(B * T, C)[:T - 1]
        halves = cr.arange(T // 2, dtype=cr.float32) + cr.ones(T % 3 + 1).sum()
        before_last = cr.arange(T) < T - 1
        return (flat, halves, x[:, -T:].flip(1), x.new_zeros(B, 2 * T - 1), before_last,
                x.sum(1) / T, x.sum(1) // (T + 1))


def tokens(n, t):
    return RNG.integers(1, 11, size=(n, t))


def tokens_with_padding(n, t):
    array = RNG.integers(0, 11, size=(n, t))
    array[:, 0] = 1  # every row keeps one key
    return array


def features(n, t):
    return RNG.standard_normal((n, t, 4)).astype(np.float32)


def time_first(make):
    return lambda n, t: np.ascontiguousarray(make(n, t).T)


BATCH_TIME = {0: "batch", 1: "time"}
TIME_BATCH = {0: "time", 1: "batch"}
MODELS = {
    "preset_gpt": (lambda: presets.CharGPT(11, 8, 2, 2, 0.1, 12), tokens, BATCH_TIME),
    "nanogpt": (NanoGPT, tokens, BATCH_TIME),
    "transformer_lm": (TransformerLM, time_first(tokens), TIME_BATCH),
    "lstm_lm": (RNNLM, time_first(tokens), TIME_BATCH),
    "text_cnn": (TextCNN, tokens, BATCH_TIME),
    "causal_sdpa": (SDPAModel, features, BATCH_TIME),
    "gru_tagger": (GRUTagger, features, BATCH_TIME),
    "key_padding_mask": (PadMask, tokens_with_padding, BATCH_TIME),
    "size_arithmetic": (SizeArithmetic, features, BATCH_TIME),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_dynamic_sequence_axis_runs_at_other_lengths(name):
    build, make, axes = MODELS[name]
    model = build().eval()
    run = session(model, make(2, 6), {"x": axes})
    for batch, length in ((3, 4), (1, 9)):
        assert_runtime_matches(model, run, make(batch, length))


def test_a_model_traced_at_its_maximum_length_stays_dynamic():
    model = presets.CharGPT(11, 8, 1, 2, 0.0, 6).eval()  # refuses more than 6 tokens
    run = session(model, tokens(2, 6), {"x": BATCH_TIME})
    for length in (6, 3):
        assert_runtime_matches(model, run, tokens(2, length))


class LengthByLen(nn.Module):
    def forward(self, x):
        return x + cr.ones(len(x[0]), 1)  # len() gives a plain number


class SliceByInt(nn.Module):
    def forward(self, x):
        return x[:, :int(x.shape[1]) - 1]


class NumpyPositions(nn.Module):
    def forward(self, x):
        return x + cr.from_numpy(np.arange(x.shape[1], dtype=np.float32))[:, None]


@pytest.mark.parametrize("model, match", [
    (LengthByLen(), r"input 1 of Add in layer the model.*changes \(to \(.*\)\) with the "
                    r"dynamic axes x\[0\] \(batch\), x\[1\] \(time\)"),
    (SliceByInt(), r"op __getitem__ in layer the model.*argument key\[1\]\[1\] is 5 for the "
                   r"traced inputs but 7"),
    (NumpyPositions(), "input 1 of Add in layer the model.*changes"),
])
def test_a_size_baked_in_as_a_number_is_refused(model, match):
    with pytest.raises(UnsupportedOperatorError, match=match):
        session(model, features(2, 6), {"x": BATCH_TIME})
    session(model, features(2, 6))  # with static axes the same model exports
