"""ONNX export of ops called as functions or Tensor methods inside ``forward`` (``F.max_pool2d``,
``F.interpolate``, ``x > 0``, ``x[idx]``, ``arange(x.shape[-1])`` ...) and of the newer layers:
ONNX Runtime's outputs match chainrule's within 1e-5 at the traced batch size and another."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.ops.rounding import Rounding

from .ort import assert_runtime_matches, session

pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


class Fn(nn.Module):
    """A model whose forward is ``function(self, x)``, with submodules as keywords."""

    def __init__(self, function, **modules):
        super().__init__()
        self.function = function
        for name, module in modules.items():
            setattr(self, name, module)

    def forward(self, x):
        return self.function(self, x)


def images(n, c=3, size=6):
    return RNG.standard_normal((n, c, size, size)).astype(np.float32)


def sequences(n, length=5, features=4):
    return RNG.standard_normal((n, length, features)).astype(np.float32)


def tokens(n):
    return RNG.integers(0, 11, size=(n, 4))


def odd_images(n):
    return images(n, 3, 7)


def pooling(s, x):
    return (F.max_pool2d(x, 2), F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
            F.max_pool2d(x, 2, return_indices=True)[1], F.max_pool1d(x.flatten(2), 3, 1, 1),
            F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), F.lp_pool2d(x, 2, 2),
            F.adaptive_avg_pool2d(x, 1))


def adaptive_max_pooling(s, x):
    return F.adaptive_max_pool2d(x, (3, 4)), s.pool(x)


def resizing(s, x):
    return (F.interpolate(x, scale_factor=2), F.interpolate(x, size=(9, 4), mode="nearest-exact"),
            F.interpolate(x, size=(9, 7), mode="bilinear"),
            F.interpolate(x, scale_factor=1.5, mode="bilinear", align_corners=True),
            F.interpolate(x, size=(5, 8), mode="bicubic"),
            F.interpolate(x, size=(3, 2), mode="area"), s.up(x))


def padding(s, x):
    return (F.pad(x, (1, 2, 2, 1), mode="reflect"), F.pad(x, (1, 2, 0, 1), mode="replicate"),
            F.pad(x, (1, 2, 2, 1), mode="circular"), F.pad(x, (1, -1, 2, 0), value=0.5))


def dropout_in_eval(s, x):
    return (F.dropout(x, 0.5, training=False) + F.dropout2d(x, training=s.training)
            + F.alpha_dropout(x, 0.3))


def activations(s, x):
    return (F.relu(x) + F.relu6(x) + F.hardtanh(x) + F.hardsigmoid(x) + F.hardswish(x),
            F.selu(x) + F.celu(x) + F.mish(x) + F.softsign(x) + F.tanhshrink(x),
            F.hardshrink(x) + F.softshrink(x) + F.threshold(x, 0.1, 2.0), F.glu(x, 2),
            F.softmin(x, 1) + F.log_softmax(x, 2) + F.softmax(x, -1), s.prelu(x), s.rrelu(x),
            s.softmax2d(x))


def comparisons(s, x):
    return ((x > 0) & (x < 1) | (x == 0), x >= 0.5, x != x.clamp(max=0.2), ~(x > 0),
            cr.logical_xor(x > 0, x < 1), cr.logical_not(x > 0), cr.isnan(x), cr.isinf(x),
            cr.isfinite(x), x.masked_fill(x < 0, -1.0), cr.where(x > 0.5, x, cr.zeros_like(x)))


def rounding(s, x):
    return (cr.floor(x * 3), cr.ceil(x), cr.round(x * 4), cr.trunc(x * 3), (x * 5) // 2,
            cr.div(x * 7, 2, rounding_mode="trunc"), cr.div(x * 7, 2, rounding_mode="floor"))


def rounding_ops(s, x):
    # the differentiable op itself (what a call without a converter of its own leaves)
    return tuple(Rounding.apply(x * 3, mode=mode, decimals=decimals) for mode, decimals in
                 (("floor", None), ("ceil", None), ("round", None), ("trunc", None),
                  ("round", 1))) + (x.frac(),)


def diagonals(s, x):
    return (x.diagonal(dim1=-2, dim2=-1), cr.diagonal(x, 1, 2, 3), cr.diagonal(x, -2, 3, 2),
            cr.diagonal(x, 0, 1, 3) * 2, cr.trace(x[0, 0]))


def reductions(s, x):
    return (x.mean(), x.mean((1, 2), keepdim=True), x.sum(-1), x.prod(1), x.amax((2, 3)),
            x.max(1)[0], x.min(), x.std(1), x.var((2, 3), unbiased=False), x.logsumexp(1),
            x.norm(dim=1), x.norm(p=1), x.norm(p=float("inf"), dim=2), (x > 0).all(1),
            (x > 0).any(), cr.count_nonzero(x > 0, 1), x.cumsum(1))


def arg_and_sort(s, x):
    return (x.argmax(1), x.argmin(-1, keepdim=True), x.argmax(), x.sort(-1)[0],
            x.sort(1, descending=True)[1], x.argsort(-1), x.topk(2, dim=-1)[0],
            x.topk(2, 1, largest=False)[1])


def shapes(s, x):
    return (x.flatten(1), x.unsqueeze(1).squeeze(1), x.permute(0, 2, 3, 1), x.transpose(1, 2),
            x.view(x.size(0), -1), x.reshape(-1, 6), cr.stack([x, x], 1), cr.cat([x, x], 2),
            x.chunk(3, 1)[1], x.split([1, 2], 1)[1], x.unbind(1)[0], x.repeat(1, 2, 1, 1),
            x.expand(-1, -1, 6, 6), x.narrow(2, 1, 3), x.movedim(1, -1), x.mT,
            x.unflatten(1, (1, 3)), x.tile((2,)), x.contiguous(), x.expand_as(x), x.view_as(x))


def indexing(s, x):
    return (x[:, 1], x[:, :2, 1:], x[..., -1], x[:, None, 0], x[:, [0, 2]],
            x[:, :, [1, 0], [2, 3]], x[:, cr.tensor([2, 0])], x[x > 0], x[:, 1:, ::2],
            x[:, :, cr.tensor([[0], [1]]), 0])


def gathering(s, x):
    return (x.index_select(1, cr.tensor([2, 0, 2])),
            x.gather(1, cr.zeros(x.shape, dtype=cr.int64)[:, :2]),
            cr.take_along_dim(x, cr.ones(1, 1, 1, 1, dtype=cr.int64), 2), (x > 0).nonzero(),
            cr.masked_select(x, x > 0.5), x.scatter(1, (x > 0).long()[:, :2, :4], x * 2),
            x.scatter_add(2, cr.tensor([[[[0, 2], [1, 1]]]]).expand(x.shape[0], 3, 2, 2), x),
            x.index_add(3, cr.tensor([0, 2, 0]), x[..., :3], alpha=0.5))


def lookups(s, x):
    return F.one_hot(x, 11), F.embedding(x, s.table), s.mean(x), s.max(x), s.sum(x)


def linear_algebra(s, x):
    return (x @ x.mT, cr.einsum("nchw,nchv->nwv", x, x), cr.bmm(x[:, 0], x[:, 1]),
            x.flatten(1) @ s.w, cr.outer(x[0, 0, 0], x[0, 0, 1]))


def convolutions(s, x):
    down = F.conv2d(x, s.w, stride=2)
    return F.conv2d(x, s.w, padding="same") + F.conv_transpose2d(
        down, s.w.transpose(0, 1), stride=2, output_padding=1)


def factories(s, x):
    return (x + cr.ones(x.shape[0], 1, 1, 1), x + cr.arange(x.shape[-1]),
            x * cr.zeros_like(x) + cr.full_like(x, 2.0),
            x.new_zeros(x.shape) + cr.full(x.shape, 3.0),
            cr.arange(1, x.size(0) * 2, 2, dtype=cr.float32),
            x + cr.zeros(size=(x.shape[0], 1, 1, 1)) + x.new_ones(size=(x.shape[0], 3, 1, 1)))


def normalisation(s, x):
    return (F.layer_norm(x, (6,)), F.group_norm(x, 1), F.normalize(x, dim=1), s.lrn(x),
            F.batch_norm(x, cr.zeros(3), cr.ones(3)), F.rms_norm(x, (6,)))


def distances(s, x):
    return (F.cosine_similarity(x, x.flip(1)), s.cosine(x, x.flip(2)),
            F.pairwise_distance(x[:, 0], x[:, 1]))


def sequence_layers(s, x):
    h = s.gru_cell(x[:, 0])
    return (s.bilinear(x, x), F.linear(x, s.w),
            F.scaled_dot_product_attention(x, x, x, is_causal=True), s.decoder(x, x),
            s.transformer(x, x), h, s.lstm_cell(x[:, 0])[1], s.rnn_cell(x[:, 0]),
            *s.lstm_cell(x[:, 1], (h, -h)), s.gru_cell(x[:, 1], h))  # (states from the input)


def decoder():
    return nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0,
                                                            batch_first=True), 2)


CASES = {
    "pooling": (lambda: Fn(pooling), images),
    "adaptive_max_pooling": (lambda: Fn(adaptive_max_pooling, pool=nn.AdaptiveMaxPool2d(2)),
                             odd_images),
    "resizing": (lambda: Fn(resizing, up=nn.Upsample(scale_factor=2, mode="bilinear")), images),
    "pixel_shuffle": (lambda: nn.Sequential(nn.PixelShuffle(2), nn.PixelUnshuffle(2),
                                            nn.ChannelShuffle(2)), lambda n: images(n, 4)),
    "padding": (lambda: Fn(padding), images),
    "padding_layers": (lambda: nn.Sequential(
        nn.ReflectionPad2d(1), nn.ReplicationPad2d((1, 0, 2, 1)), nn.ZeroPad2d(1),
        nn.ConstantPad2d(1, 2.0), nn.CircularPad2d(1)), images),
    "dropout_in_eval": (lambda: Fn(dropout_in_eval), images),
    "activations": (lambda: Fn(activations, prelu=nn.PReLU(3), rrelu=nn.RReLU(),
                               softmax2d=nn.Softmax2d()), images),
    "comparisons": (lambda: Fn(comparisons), images),
    "rounding": (lambda: Fn(rounding), images),
    "rounding_ops": (lambda: Fn(rounding_ops), images),
    "diagonals": (lambda: Fn(diagonals), images),
    "reductions": (lambda: Fn(reductions), images),
    "arg_and_sort": (lambda: Fn(arg_and_sort), images),
    "shapes": (lambda: Fn(shapes), images),
    "flatten_layers": (lambda: nn.Sequential(nn.Flatten(), nn.Unflatten(1, (3, 36)),
                                             nn.Identity()), images),
    "indexing": (lambda: Fn(indexing), images),
    "gathering": (lambda: Fn(gathering), images),
    "lookups": (lambda: Fn(lookups, table=nn.Parameter(cr.randn(11, 3)),
                           mean=nn.EmbeddingBag(11, 3),
                           max=nn.EmbeddingBag(11, 3, mode="max", padding_idx=2),
                           sum=nn.EmbeddingBag(11, 3, mode="sum")), tokens),
    "linear_algebra": (lambda: Fn(linear_algebra, w=nn.Parameter(cr.randn(108, 2))), images),
    "convolutions": (lambda: Fn(convolutions, w=nn.Parameter(cr.randn(3, 3, 3, 3))), images),
    "factories": (lambda: Fn(factories), images),
    "instance_norm": (lambda: nn.Sequential(nn.InstanceNorm2d(3, affine=True),
                                            nn.InstanceNorm2d(3, track_running_stats=True)),
                      images),
    "normalisation": (lambda: Fn(normalisation, lrn=nn.LocalResponseNorm(2)), images),
    "distances": (lambda: Fn(distances, cosine=nn.CosineSimilarity()), images),
    "sequence_layers": (lambda: Fn(
        sequence_layers, w=nn.Parameter(cr.randn(2, 4)), bilinear=nn.Bilinear(4, 4, 3),
        decoder=decoder(), transformer=nn.Transformer(4, 2, 1, 1, 8, dropout=0.0,
                                                      batch_first=True),
        gru_cell=nn.GRUCell(4, 3), lstm_cell=nn.LSTMCell(4, 3), rnn_cell=nn.RNNCell(4, 3)),
        sequences),
    "unfold": (lambda: nn.Unfold(2), images),
    "xlogy": (lambda: Fn(lambda self, x: cr.xlogy(F.relu(x), x.abs() + 0.5)  # 0 where x <= 0
                         + cr.special.xlogy(2, x.abs() + 1)), images),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_onnx_runtime_matches_chainrule(name):
    build, make = CASES[name]
    model = build().eval()
    run = session(model, make(2), {"x": {0: "batch"}})
    for batch in (2, 3):
        assert_runtime_matches(model, run, make(batch))


class TextClassifier(nn.Module):
    """The text-classification tutorial's model: an EmbeddingBag over a flat stream of token
    ids cut into bags by ``offsets``, then a linear layer."""

    def __init__(self, bag):
        super().__init__()
        self.embedding = bag
        self.fc = nn.Linear(bag.weight.shape[1], 3)

    def forward(self, text, offsets, weights=None):
        if weights is not None:
            return self.fc(self.embedding(text, offsets, per_sample_weights=weights))
        return self.fc(self.embedding(text, offsets))


def stream(lengths, last_offset=False):
    """Token ids of bags of ``lengths`` (0 for an empty bag) and their offsets."""
    text = RNG.integers(0, 11, sum(lengths)).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1 if not last_offset else None]])
    return text, offsets.astype(np.int64)


@pytest.mark.parametrize("bag, last_offset", [
    (dict(mode="mean"), False), (dict(mode="sum"), False), (dict(mode="max"), False),
    (dict(mode="mean", padding_idx=2), False), (dict(mode="max", padding_idx=0), False),
    (dict(mode="sum", include_last_offset=True), True),
    (dict(mode="mean", include_last_offset=True), True)])
def test_embedding_bag_with_offsets_matches_on_other_bag_counts_and_lengths(bag, last_offset):
    model = TextClassifier(nn.EmbeddingBag(11, 4, **bag)).eval()
    run = session(model, stream([3, 1, 4], last_offset), {"x0": {0: "tokens"},
                                                          "x1": {0: "bags"}})
    for lengths in ([3, 1, 4], [2, 0, 5, 1, 1], [6], [1, 2, 0]):  # empty bags give zeros
        assert_runtime_matches(model, run, stream(lengths, last_offset))


def test_embedding_bag_with_offsets_and_per_sample_weights():
    model = TextClassifier(nn.EmbeddingBag(11, 4, mode="sum")).eval()
    text, offsets = stream([2, 3])
    weights = RNG.random(5).astype(np.float32)
    run = session(model, (text, offsets, weights), {"x0": {0: "tokens"}, "x1": {0: "bags"},
                                                    "x2": {0: "tokens"}})
    text, offsets = stream([1, 4, 2])
    assert_runtime_matches(model, run, (text, offsets, RNG.random(7).astype(np.float32)))
