"""The layer cases ``record_layer_fixtures.py`` records; chainrule's tests read the JSON."""

ACTIVATIONS = {
    "threshold": "nn.Threshold(0.2, -3.0)",
    "hardtanh": "nn.Hardtanh(-0.6, 0.8)",
    "relu6": "nn.ReLU6()",
    "hardsigmoid": "nn.Hardsigmoid()",
    "hardswish": "nn.Hardswish()",
    "hardshrink": "nn.Hardshrink(0.3)",
    "softshrink": "nn.Softshrink(0.4)",
    "prelu": "nn.PReLU()",
    "prelu-channels": "nn.PReLU(4, init=0.1)",
    "rrelu-eval": "nn.RReLU(0.1, 0.3)",
    "logsigmoid": "nn.LogSigmoid()",
    "selu": "nn.SELU()",
    "celu": "nn.CELU(0.7)",
    "mish": "nn.Mish()",
    "softsign": "nn.Softsign()",
    "tanhshrink": "nn.Tanhshrink()",
    "glu": "nn.GLU(1)",
    "softmin": "nn.Softmin(dim=1)",
    "softmax2d": "nn.Softmax2d()",
}

LAYER_CASES = {
    f"activation-{name}": {"expr": expr, "inputs": [{"shape": [2, 4, 3]}]}
    for name, expr in ACTIVATIONS.items()
}
# PyTorch's double kernels use float32 constants here (hardsigmoid's backward multiplies by
# 1.0f / 6.0f; celu's backward is off by ~1e-8 too): agreement to float32 rounding.
LAYER_CASES["activation-hardsigmoid"]["rtol"] = 1e-7
LAYER_CASES["activation-celu"]["rtol"] = 1e-7
LAYER_CASES["activation-logsigmoid-tails"] = {
    "expr": "F.logsigmoid", "inputs": [{"values": [-800.0, -40.0, -1.0, 0.0, 2.0, 40.0, 800.0]}]}
LAYER_CASES["activation-prelu-fn"] = {
    "expr": "F.prelu", "inputs": [{"shape": [2, 3, 5]}, {"values": [0.1, -0.2, 0.3]}]}

PADDING = {
    "reflection1d": ("nn.ReflectionPad1d((2, 1))", [2, 3, 5]),
    "reflection2d": ("nn.ReflectionPad2d((1, 2, 2, 0))", [2, 2, 3, 4]),
    "reflection3d": ("nn.ReflectionPad3d(1)", [1, 2, 3, 3, 4]),
    "reflection2d-unbatched": ("nn.ReflectionPad2d(1)", [2, 3, 4]),
    "replication1d": ("nn.ReplicationPad1d((3, 1))", [2, 3, 4]),
    "replication2d": ("nn.ReplicationPad2d((1, 2, 3, 0))", [2, 2, 3, 4]),
    "replication3d": ("nn.ReplicationPad3d((1, 0, 2, 1, 0, 2))", [1, 2, 2, 3, 4]),
    "circular1d": ("nn.CircularPad1d((2, 3))", [2, 3, 4]),
    "circular2d": ("nn.CircularPad2d((1, 2, 2, 1))", [2, 2, 3, 4]),
    "circular2d-crop": ("nn.CircularPad2d((-1, 2, 2, -1))", [2, 2, 3, 4]),
    "circular3d": ("nn.CircularPad3d(1)", [1, 2, 2, 3, 4]),
    "constant1d": ("nn.ConstantPad1d((2, 1), 3.5)", [2, 3, 4]),
    "constant2d": ("nn.ConstantPad2d((1, 0, -1, 2), -1.0)", [2, 2, 3, 4]),
    "constant3d": ("nn.ConstantPad3d(1, 0.5)", [1, 2, 2, 3, 4]),
    "zero1d": ("nn.ZeroPad1d(2)", [2, 3, 4]),
    "zero2d": ("nn.ZeroPad2d((1, 1, 2, 0))", [2, 2, 3, 4]),
    "zero3d": ("nn.ZeroPad3d((0, 1, 1, 0, 2, 1))", [1, 2, 2, 3, 4]),
    "f-pad-reflect": ("lambda x: F.pad(x, (1, 2, 2, 1), mode='reflect')", [2, 3, 4, 4]),
    "f-pad-replicate": ("lambda x: F.pad(x, (0, 2, 1, 1), mode='replicate')", [2, 3, 4, 4]),
    "f-pad-circular": ("lambda x: F.pad(x, (3, 1), mode='circular')", [2, 3, 4]),
}
for name, (expr, shape) in PADDING.items():
    LAYER_CASES[f"padding-{name}"] = {"expr": expr, "inputs": [{"shape": shape}]}

# -- distances and losses --------------------------------------------------------------------
def _case(expr, *inputs, **options):
    return dict({"expr": expr, "inputs": list(inputs)}, **options)


def _normal(*shape):
    return {"shape": list(shape)}


def _signs(n):
    return {"values": [(-1.0 if i % 3 == 1 else 1.0) for i in range(n)], "const": True}


LAYER_CASES.update({
    "distance-pairwise": _case("nn.PairwiseDistance()", _normal(4, 5), _normal(4, 5)),
    "distance-pairwise-p1-keepdim": _case("nn.PairwiseDistance(p=1.0, keepdim=True)",
                                          _normal(4, 5), _normal(4, 5)),
    "distance-pairwise-p3": _case("lambda a, b: F.pairwise_distance(a, b, p=3, eps=0.1)",
                                  _normal(3, 4), _normal(3, 4)),
    "distance-pairwise-inf": _case("lambda a, b: F.pairwise_distance(a, b, p=float('inf'))",
                                   _normal(3, 4), _normal(3, 4)),
    "distance-cosine": _case("nn.CosineSimilarity()", _normal(3, 5, 2), _normal(3, 5, 2)),
    "distance-cosine-broadcast": _case("lambda a, b: F.cosine_similarity(a, b, dim=-1)",
                                       _normal(3, 4), _normal(1, 4)),
    "distance-pdist": _case("F.pdist", _normal(4, 3)),
    "distance-pdist-p1": _case("lambda x: F.pdist(x, p=1)", _normal(4, 3)),
    "loss-margin-ranking": _case("nn.MarginRankingLoss(margin=0.3)", _normal(6), _normal(6),
                                 _signs(6)),
    "loss-margin-ranking-none": _case("nn.MarginRankingLoss(reduction='none')", _normal(6),
                                      _normal(6), _signs(6)),
    "loss-hinge-embedding": _case("nn.HingeEmbeddingLoss(margin=0.8)", _normal(2, 3),
                                  {"values": [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], "const": True}),
    "loss-soft-margin": _case("nn.SoftMarginLoss()", _normal(2, 3),
                              {"values": [[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], "const": True}),
    "loss-cosine-embedding": _case("nn.CosineEmbeddingLoss(margin=0.1)", _normal(4, 5),
                                   _normal(4, 5), {"values": [1, -1, -1, 1],
                                                   "dtype": "int64"}),
    "loss-cosine-embedding-sum": _case(
        "nn.CosineEmbeddingLoss(margin=-0.5, reduction='sum')", _normal(4, 5), _normal(4, 5),
        {"values": [1.0, -1.0, -1.0, 1.0], "const": True}),
    "loss-multilabel-soft-margin": _case("nn.MultiLabelSoftMarginLoss()", _normal(3, 4),
                                         {"values": [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0],
                                                     [1.0, 1.0, 0.0, 0.0]], "const": True}),
    "loss-multilabel-soft-margin-weight": _case(
        "nn.MultiLabelSoftMarginLoss(weight=torch.tensor([0.5, 1.0, 2.0, 1.5], "
        "dtype=torch.float64), reduction='none')", _normal(3, 4),
        {"values": [[1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 0.0]],
         "const": True}),
    "loss-multilabel-margin": _case("nn.MultiLabelMarginLoss()", _normal(3, 4),
                                    {"values": [[3, 0, -1, 1], [1, 2, 3, -1], [0, 0, -1, 2]],
                                     "dtype": "int64"}),
    "loss-multilabel-margin-1d": _case("nn.MultiLabelMarginLoss(reduction='none')",
                                       _normal(4), {"values": [2, 1, -1, 0],
                                                    "dtype": "int64"}),
    "loss-multi-margin": _case("nn.MultiMarginLoss()", _normal(4, 3),
                               {"values": [0, 2, 1, 2], "dtype": "int64"}),
    "loss-multi-margin-p2-weight": _case(
        "nn.MultiMarginLoss(p=2, margin=0.7, weight=torch.tensor([0.5, 2.0, 1.0], "
        "dtype=torch.float64), reduction='sum')", _normal(4, 3),
        {"values": [0, 2, 1, 2], "dtype": "int64"}),
    "loss-triplet-margin": _case("nn.TripletMarginLoss(margin=1.5)", _normal(4, 5),
                                 _normal(4, 5), _normal(4, 5)),
    "loss-triplet-margin-swap-p1": _case(
        "nn.TripletMarginLoss(margin=2.0, p=1, swap=True, reduction='none')", _normal(4, 5),
        _normal(4, 5), _normal(4, 5)),
    "loss-triplet-distance": _case(
        "nn.TripletMarginWithDistanceLoss(distance_function=lambda a, b: "
        "1.0 - F.cosine_similarity(a, b), margin=0.5, swap=True)", _normal(4, 5),
        _normal(4, 5), _normal(4, 5)),
    "loss-poisson-nll": _case("nn.PoissonNLLLoss()", _normal(2, 3),
                              {"values": [[0.0, 2.0, 1.0], [3.0, 0.0, 5.0]], "const": True}),
    "loss-poisson-nll-rate-full": _case(
        "nn.PoissonNLLLoss(log_input=False, full=True, reduction='sum')",
        {"shape": [2, 3], "kind": "positive"},
        {"values": [[0.0, 2.0, 1.0], [3.0, 0.0, 5.0]], "const": True}),
    "loss-gaussian-nll": _case("nn.GaussianNLLLoss()", _normal(3, 2), _normal(3, 2),
                               {"shape": [3, 2], "kind": "positive"}),
    "loss-gaussian-nll-full-per-sample": _case(
        "nn.GaussianNLLLoss(full=True, eps=0.7, reduction='none')", _normal(3, 2),
        _normal(3, 2), {"shape": [3], "kind": "positive"}),
    "loss-gaussian-nll-homoscedastic": _case("nn.GaussianNLLLoss(reduction='sum')",
                                             _normal(3, 2), _normal(3, 2),
                                             {"shape": [3, 1], "kind": "positive"}),
})
_CTC_TARGETS = {"values": [[1, 2, 2, 0], [3, 1, 0, 0]], "dtype": "int64"}
LAYER_CASES.update({
    "loss-ctc": _case("lambda x, t: F.ctc_loss(x.log_softmax(2), t, (6, 5), (3, 2))",
                      _normal(6, 2, 4), _CTC_TARGETS),
    "loss-ctc-module-sum": _case(
        "lambda x, t: nn.CTCLoss(blank=3, reduction='sum')(x.log_softmax(2), t, (6, 6), (2, 2))",
        _normal(6, 2, 4), {"values": [[1, 2, 9, 9], [0, 0, 9, 9]], "dtype": "int64"}),
    "loss-ctc-none-concatenated": _case(
        "lambda x, t: F.ctc_loss(x.log_softmax(2), t, torch.tensor([5, 4]), "
        "torch.tensor([2, 3]), reduction='none')",
        _normal(5, 2, 4), {"values": [1, 3, 2, 2, 1], "dtype": "int64"}),
    "loss-ctc-leaf-log-probs": _case(
        "lambda x, t: F.ctc_loss(x, t, (6, 5), (3, 2))",
        {"shape": [6, 2, 4], "kind": "unit"}, _CTC_TARGETS),
    "loss-ctc-zero-infinity": _case(
        "lambda x, t: F.ctc_loss(x.log_softmax(2), t, (2, 6), (3, 2), reduction='none', "
        "zero_infinity=True)", _normal(6, 2, 4), _CTC_TARGETS),
    "loss-ctc-unbatched": _case("lambda x, t: F.ctc_loss(x.log_softmax(1), t, torch.tensor(6), "
                                "torch.tensor(3))",
                                _normal(6, 4), {"values": [2, 2, 1], "dtype": "int64"}),
})

# -- rearranging, folding, pooling, normalisation, resizing -------------------------------------
LAYER_CASES.update({
    "vision-pixel-shuffle": _case("nn.PixelShuffle(2)", _normal(2, 8, 2, 3)),
    "vision-pixel-shuffle-5d": _case("nn.PixelShuffle(3)", _normal(2, 1, 9, 2, 2)),
    "vision-pixel-unshuffle": _case("nn.PixelUnshuffle(2)", _normal(1, 2, 4, 6)),
    "vision-channel-shuffle": _case("nn.ChannelShuffle(3)", _normal(2, 6, 2)),
    "vision-unfold": _case("nn.Unfold(kernel_size=(2, 3))", _normal(2, 2, 4, 5)),
    "vision-unfold-options": _case("nn.Unfold(3, dilation=(1, 2), padding=1, stride=(2, 1))",
                                   _normal(1, 2, 5, 6)),
    "vision-unfold-unbatched": _case("lambda x: F.unfold(x, 2, stride=2)", _normal(3, 4, 4)),
    "vision-fold": _case("nn.Fold(output_size=(4, 5), kernel_size=(2, 3))", _normal(2, 12, 9)),
    "vision-fold-options": _case(
        "nn.Fold((5, 6), 3, dilation=(1, 2), padding=1, stride=(2, 1))", _normal(1, 18, 12)),
    "pool-adaptive-max1d": _case("nn.AdaptiveMaxPool1d(3)", _normal(2, 3, 7)),
    "pool-adaptive-max2d-indices": _case("nn.AdaptiveMaxPool2d((2, 3), return_indices=True)",
                                         _normal(2, 2, 5, 7)),
    "pool-adaptive-max2d-none": _case("nn.AdaptiveMaxPool2d((None, 2))", _normal(1, 2, 3, 5)),
    "pool-adaptive-max3d": _case("nn.AdaptiveMaxPool3d(2, return_indices=True)",
                                 _normal(1, 2, 3, 4, 5)),
    "pool-adaptive-max2d-unbatched": _case("lambda x: F.adaptive_max_pool2d(x, 2)",
                                           _normal(2, 5, 4)),
    "pool-fractional-max2d": _case(
        "nn.FractionalMaxPool2d(2, output_size=(3, 4), return_indices=True, _random_samples="
        "torch.tensor([[[0.3, 0.8], [0.55, 0.1]]], dtype=torch.float64))", _normal(1, 2, 6, 7)),
    "pool-fractional-max2d-ratio": _case(
        "lambda x: F.fractional_max_pool2d(x, (3, 2), output_ratio=(0.6, 0.5), "
        "_random_samples=torch.tensor([[[0.9, 0.25]], [[0.05, 0.6]]], dtype=torch.float64))",
        _normal(2, 1, 8, 7)),
    "pool-fractional-max3d": _case(
        "nn.FractionalMaxPool3d(2, output_size=(2, 3, 2), return_indices=True, _random_samples="
        "torch.tensor([[[0.3, 0.8, 0.45]]], dtype=torch.float64))", _normal(1, 1, 4, 5, 5)),
    "pool-max-unpool2d": _case(
        "lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2)",
        _normal(1, 2, 4, 6)),
    "pool-max-unpool1d-output-size": _case(
        "lambda x: nn.MaxUnpool1d(2, stride=2)(*nn.MaxPool1d(2, return_indices=True)(x), "
        "output_size=[7])", _normal(2, 2, 7)),
    "pool-max-unpool3d": _case(
        "lambda x: F.max_unpool3d(*F.max_pool3d(x, 2, return_indices=True), 2)",
        _normal(1, 1, 4, 4, 2)),
    "pool-lp1d": _case("nn.LPPool1d(2, 3, stride=2)", {"shape": [2, 3, 7], "kind": "positive"}),
    "pool-lp2d": _case("nn.LPPool2d(3, (2, 3))", {"shape": [1, 2, 4, 6], "kind": "positive"}),
    "pool-lp3d": _case("nn.LPPool3d(1.5, 2, ceil_mode=True)",
                       {"shape": [1, 1, 3, 4, 5], "kind": "positive"}),
    "norm-instance1d": _case("nn.InstanceNorm1d(3)", _normal(2, 3, 5)),
    "norm-instance2d-affine": _case("nn.InstanceNorm2d(3, affine=True)", _normal(2, 3, 4, 3)),
    "norm-instance3d-running-train": _case(
        "nn.InstanceNorm3d(2, affine=True, track_running_stats=True, momentum=0.3)",
        _normal(3, 2, 2, 3, 2), train=True),
    "norm-instance2d-running-eval": _case(
        "nn.InstanceNorm2d(2, track_running_stats=True)", _normal(2, 2, 3, 3)),
    "norm-instance1d-unbatched": _case("nn.InstanceNorm1d(4, affine=True)", _normal(4, 6)),
    "norm-batch3d-train": _case("nn.BatchNorm3d(2)", _normal(2, 2, 2, 3, 2), train=True),
    "norm-local-response": _case("nn.LocalResponseNorm(3)", _normal(2, 5, 4)),
    "norm-local-response-2d": _case("nn.LocalResponseNorm(4, alpha=0.3, beta=0.6, k=2.0)",
                                    _normal(2, 6, 3, 2)),
    "norm-local-response-3d": _case("nn.LocalResponseNorm(2, alpha=0.1)", _normal(1, 3, 2, 2, 3)),
    "norm-cross-map-lrn2d": _case("nn.CrossMapLRN2d(5, alpha=0.1, beta=0.7, k=1.5)",
                                  _normal(2, 7, 2, 3), grad=False),
})
INTERPOLATE = {
    "nearest-1d": ("nn.Upsample(scale_factor=2)", [2, 3, 4]),
    "nearest-2d-size": ("nn.Upsample(size=(5, 7))", [1, 2, 3, 4]),
    "nearest-2d-down": ("lambda x: F.interpolate(x, size=(2, 3))", [1, 2, 5, 7]),
    "nearest-3d-scale": ("lambda x: F.interpolate(x, scale_factor=(1.5, 2, 0.75))",
                         [1, 1, 2, 3, 4]),
    "nearest-exact": ("lambda x: F.interpolate(x, size=(5, 3), mode='nearest-exact')",
                      [1, 2, 3, 4]),
    "nearest-exact-scale": (
        "lambda x: F.interpolate(x, scale_factor=1.7, mode='nearest-exact')", [1, 1, 5]),
    "linear": ("nn.Upsample(scale_factor=2.5, mode='linear')", [2, 2, 4]),
    "linear-align": ("nn.Upsample(size=7, mode='linear', align_corners=True)", [2, 2, 4]),
    "bilinear": ("nn.Upsample(scale_factor=2, mode='bilinear')", [1, 2, 3, 4]),
    "bilinear-down-size": ("lambda x: F.interpolate(x, size=(3, 2), mode='bilinear')",
                           [1, 2, 5, 7]),
    "bilinear-align": ("nn.UpsamplingBilinear2d(size=(5, 6))", [1, 2, 3, 4]),
    "bilinear-recompute": (
        "lambda x: F.interpolate(x, scale_factor=1.7, mode='bilinear', "
        "recompute_scale_factor=True)", [1, 1, 3, 4]),
    "bicubic": ("lambda x: F.interpolate(x, scale_factor=2, mode='bicubic')", [1, 2, 3, 4]),
    "bicubic-align-down": (
        "lambda x: F.interpolate(x, size=(3, 5), mode='bicubic', align_corners=True)",
        [1, 1, 5, 7]),
    "trilinear": ("nn.Upsample(scale_factor=(2, 1.5, 1), mode='trilinear')", [1, 1, 2, 2, 3]),
    "trilinear-align": (
        "lambda x: F.interpolate(x, size=(3, 2, 4), mode='trilinear', align_corners=True)",
        [1, 2, 2, 3, 2]),
    "area": ("lambda x: F.interpolate(x, size=(2, 3), mode='area')", [1, 2, 5, 7]),
    "nearest2d-module": ("nn.UpsamplingNearest2d(scale_factor=3)", [1, 1, 2, 2]),
}
for name, (expr, shape) in INTERPOLATE.items():
    LAYER_CASES[f"interpolate-{name}"] = _case(expr, _normal(*shape))

# -- transformers (eval mode: dropout off; the masks are PyTorch's) ---------------------------
_PAD = "torch.tensor([[False, False, True], [False, False, False]])"
_CAUSAL = "nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)"
LAYER_CASES.update({
    "transformer-decoder-layer": _case(
        "nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)", _normal(4, 2, 8),
        _normal(3, 2, 8),
        call=f"lambda m, t, s: m(t, s, tgt_mask={_CAUSAL}, memory_key_padding_mask={_PAD})"),
    "transformer-decoder-layer-norm-first": _case(
        "nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, activation='gelu', "
        "batch_first=True, norm_first=True)", _normal(2, 4, 8), _normal(2, 3, 8),
        call=f"lambda m, t, s: m(t, s, tgt_mask={_CAUSAL}, tgt_is_causal=True, "
             "tgt_key_padding_mask=torch.tensor([[False, False, False, True], "
             "[False, False, False, False]]))"),
    "transformer-decoder": _case(
        "nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2, norm=nn.LayerNorm(8))",
        _normal(4, 2, 8), _normal(3, 2, 8),
        call=f"lambda m, t, s: m(t, s, tgt_mask={_CAUSAL}, "
             "memory_mask=torch.tensor([[0.0, -1.0, 0.5]] * 4, dtype=torch.float64))"),
    "transformer-encoder-causal-detected": _case(
        "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2)", _normal(4, 2, 8),
        call=f"lambda m, x: m(x, mask={_CAUSAL})"),
    "transformer": _case(
        "nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16)",
        _normal(3, 2, 8), _normal(4, 2, 8),
        call=f"lambda m, s, t: m(s, t, tgt_mask={_CAUSAL}, src_key_padding_mask={_PAD}, "
             f"memory_key_padding_mask={_PAD})"),
    "transformer-batch-first-norm-first": _case(
        "nn.Transformer(8, 2, 1, 1, 16, activation=F.gelu, batch_first=True, norm_first=True, "
        "bias=False)", _normal(2, 3, 8), _normal(2, 4, 8),
        call=f"lambda m, s, t: m(s, t, tgt_mask={_CAUSAL}, tgt_is_causal=True)"),
    "transformer-unbatched": _case(
        "nn.Transformer(8, 2, 1, 1, 16)", _normal(3, 8), _normal(4, 8)),
})

# -- embedding bags, adaptive softmax, sync batch norm ----------------------------------------
_BAG_INDICES = {"values": [1, 2, 4, 5, 4, 3, 2, 9, 0], "dtype": "int64"}
_BAG_OFFSETS = "torch.tensor([0, 2, 2, 5])"  # the second bag is empty
LAYER_CASES.update({
    "embedding-bag-mean": _case("nn.EmbeddingBag(10, 3)", _BAG_INDICES,
                                call=f"lambda m, i: m(i, {_BAG_OFFSETS})"),
    "embedding-bag-sum-weights": _case(
        "nn.EmbeddingBag(10, 3, mode='sum', padding_idx=4)", _BAG_INDICES,
        {"shape": [9], "kind": "positive"},
        call=f"lambda m, i, w: m(i, {_BAG_OFFSETS}, per_sample_weights=w)"),
    "embedding-bag-max-last-offset": _case(
        "nn.EmbeddingBag(10, 3, mode='max', include_last_offset=True)", _BAG_INDICES,
        call="lambda m, i: m(i, torch.tensor([0, 3, 3, 7]))"),
    "embedding-bag-2d-padding-mean": _case(
        "nn.EmbeddingBag(10, 4, padding_idx=2)",
        {"values": [[1, 2, 3], [2, 2, 5], [7, 8, 9]], "dtype": "int64"}),
    "embedding-bag-fn": _case(
        "lambda w, i: F.embedding_bag(i, w, torch.tensor([0, 4]), mode='sum')",
        _normal(10, 3), _BAG_INDICES),
    "adaptive-log-softmax": _case(
        "nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 6], div_value=2.0, head_bias=True)",
        _normal(6, 8), {"values": [0, 4, 7, 9, 2, 5], "dtype": "int64"}),
    "adaptive-log-softmax-log-prob": _case(
        "nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[4], div_value=1.5)", _normal(3, 8),
        call="lambda m, x: m.log_prob(x)"),
    "adaptive-log-softmax-unbatched": _case(
        "nn.AdaptiveLogSoftmaxWithLoss(6, 7, cutoffs=[2, 5])", _normal(6),
        {"values": 6, "dtype": "int64"}),
    "norm-sync-batch": _case("nn.SyncBatchNorm(3)", _normal(4, 3, 2), train=True),
    "loss-nll2d": _case("nn.NLLLoss2d()", _normal(2, 3, 2, 2),
                        {"values": [[[0, 2], [1, 1]], [[2, 0], [0, 1]]], "dtype": "int64"}),
})

# -- the remaining functions ------------------------------------------------------------------
LAYER_CASES.update({
    "fn-conv-tbc": _case("lambda x, w, b: F.conv_tbc(x, w, b, pad=1)", _normal(6, 2, 3),
                         _normal(3, 3, 4), _normal(4)),
    "fn-max-pool2d-with-indices": _case("lambda x: F.max_pool2d_with_indices(x, 2, stride=1)",
                                        _normal(1, 2, 3, 4)),
    "fn-linear-cross-entropy": _case(
        "lambda x, w, b, t: F.linear_cross_entropy(x, w, t, linear_bias=b, label_smoothing=0.1)",
        _normal(4, 3), _normal(5, 3), _normal(5), {"values": [0, 4, -100, 2], "dtype": "int64"}),
    "loss-linear-cross-entropy": _case(
        "nn.LinearCrossEntropyLoss(3, 4, out_features=(2,), bias=True, reduction='sum')",
        _normal(5, 3), {"values": [[0, 3], [1, 1], [2, 0], [3, 2], [0, 0]], "dtype": "int64"}),
})
_THETA = {"values": [[[0.9, -0.3, 0.1], [0.2, 1.1, -0.2]], [[1.2, 0.4, 0.3], [-0.5, 0.8, 0.05]]]}
LAYER_CASES.update({
    "sampling-affine-grid": _case("lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=False)",
                                  _THETA),
    "sampling-affine-grid-align": _case(
        "lambda t: F.affine_grid(t, (2, 1, 3, 2), align_corners=True)", _THETA),
    "sampling-affine-grid-3d": _case(
        "lambda t: F.affine_grid(t, (1, 1, 2, 3, 4), align_corners=False)",
        {"values": [[[1.0, 0.1, -0.2, 0.3], [0.0, 0.9, 0.2, -0.1], [0.1, 0.0, 1.1, 0.2]]]}),
    "sampling-grid-sample-stn": _case(
        "lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 3, 4, 5), align_corners=False), "
        "align_corners=False)", _normal(2, 3, 5, 6), _THETA),
    "sampling-grid-sample-border-align": _case(
        "lambda x, g: F.grid_sample(x, g, padding_mode='border', align_corners=True)",
        _normal(1, 2, 4, 3), {"shape": [1, 3, 2, 2], "kind": "positive"}),
    "sampling-grid-sample-reflection": _case(
        "lambda x, g: F.grid_sample(x, g * 1.7 - 1.6, padding_mode='reflection', "
        "align_corners=False)", _normal(1, 2, 4, 5), {"shape": [1, 3, 3, 2], "kind": "unit"}),
    "sampling-grid-sample-reflection-align": _case(
        "lambda x, g: F.grid_sample(x, g * 2.3 - 1.1, padding_mode='reflection', "
        "align_corners=True)", _normal(1, 1, 3, 4), {"shape": [1, 2, 3, 2], "kind": "unit"}),
    "sampling-grid-sample-nearest": _case(
        "lambda x, g: F.grid_sample(x, g * 2.2 - 1.1, mode='nearest', align_corners=False)",
        _normal(1, 2, 4, 5), {"shape": [1, 3, 3, 2], "kind": "unit"}),
})

# -- multi-head attention's remaining options ----------------------------------------------------
_MHA_PAD = "torch.tensor([[False, True, False], [False, False, False]])"
LAYER_CASES.update({
    "mha-bias-kv-zero-attn": _case(
        "nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True)", _normal(4, 2, 8),
        _normal(3, 2, 8), _normal(3, 2, 8),
        call=f"lambda m, q, k, v: m(q, k, v, key_padding_mask={_MHA_PAD}, "
             "attn_mask=torch.tensor([[0.0, -1.0, 0.5]] * 4, dtype=torch.float64))"),
    "mha-kdim-vdim-per-head-weights": _case(
        "nn.MultiheadAttention(8, 4, kdim=5, vdim=3, batch_first=True)", _normal(2, 4, 8),
        _normal(2, 3, 5), _normal(2, 3, 3),
        call="lambda m, q, k, v: m(q, k, v, average_attn_weights=False)"),
    "mha-functional": _case(
        "lambda q, k, v, w, b, ow, ob, bk, bv: F.multi_head_attention_forward(q, k, v, 6, 3, "
        "w, b, bk, bv, False, 0.0, ow, ob, training=False)",
        _normal(4, 2, 6), _normal(5, 2, 6), _normal(5, 2, 6), _normal(18, 6), _normal(18),
        _normal(6, 6), _normal(6), _normal(1, 1, 6), _normal(1, 1, 6)),
    "mha-functional-unbatched-zero-attn": _case(
        "lambda q, w, ow: F.multi_head_attention_forward(q, q, q, 4, 2, w, None, None, None, "
        "True, 0.0, ow, None, training=False, need_weights=False)[0]",
        _normal(3, 4), _normal(12, 4), _normal(4, 4)),
})
LAYER_CASES.update({
    "interpolate-bilinear-antialias": _case(
        "lambda x: F.interpolate(x, size=(3, 2), mode='bilinear', antialias=True)",
        _normal(1, 2, 7, 6)),
    "interpolate-bicubic-antialias-scale": _case(
        "lambda x: F.interpolate(x, scale_factor=0.4, mode='bicubic', antialias=True)",
        _normal(1, 1, 8, 9)),
    "interpolate-bilinear-antialias-align-up": _case(
        "lambda x: F.interpolate(x, size=(3, 7), mode='bilinear', antialias=True, "
        "align_corners=True)", _normal(1, 1, 6, 4)),
})
LAYER_CASES.update({
    "interpolate-bicubic-antialias-up": _case(
        "lambda x: F.interpolate(x, size=(7, 5), mode='bicubic', antialias=True)",
        _normal(1, 1, 4, 3)),
})
