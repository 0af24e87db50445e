"""Bad arguments to the newer layers and functions fail with an error that names the problem
(PyTorch's exception type and wording where it has one)."""

import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn

X4 = cr.randn(1, 2, 4, 4)

BAD_CALLS = {
    "interpolate-both-size-and-scale": (lambda: F.interpolate(X4, size=3, scale_factor=2),
                                        ValueError, "only one of size or scale_factor"),
    "interpolate-linear-on-4d": (lambda: F.interpolate(X4, size=3, mode="linear"),
                                 NotImplementedError, "linear mode needs 3D input"),
    "interpolate-align-nearest": (lambda: F.interpolate(X4, size=3, align_corners=True),
                                  ValueError, "align_corners option can only be set"),
    "interpolate-antialias-mode": (
        lambda: F.interpolate(X4, size=2, mode="nearest", antialias=True),
        ValueError, "restricted to bilinear and bicubic"),
    "interpolate-size-rank": (lambda: F.interpolate(X4, size=(2, 2, 2)), ValueError,
                              "same number of spatial dimensions"),
    "pixel-shuffle-channels": (lambda: F.pixel_shuffle(cr.randn(1, 3, 2, 2), 2), RuntimeError,
                               "divisible by the square of upscale_factor"),
    "pixel-unshuffle-size": (lambda: F.pixel_unshuffle(cr.randn(1, 1, 3, 4), 2), RuntimeError,
                             "divisible by downscale_factor"),
    "channel-shuffle-groups": (lambda: F.channel_shuffle(cr.randn(1, 5, 2), 2), RuntimeError,
                               "divisible by groups"),
    "unfold-rank": (lambda: F.unfold(cr.randn(2, 3), 2), NotImplementedError,
                    "Only 3D or 4D input"),
    "unfold-too-small": (lambda: F.unfold(X4, 5), RuntimeError, "no block fits"),
    "fold-columns": (lambda: F.fold(cr.randn(1, 5, 9), (4, 4), 2), RuntimeError,
                     "expected an input of shape"),
    "circular-pad-rank": (lambda: nn.CircularPad2d(1)(cr.randn(3, 3)), ValueError,
                          "expected 3D or 4D input"),
    "padding-length": (lambda: nn.ReflectionPad2d((1, 2, 3)), ValueError,
                       "even number of ints"),
    "instance-norm-rank": (lambda: nn.InstanceNorm2d(2)(cr.randn(2, 2)), ValueError,
                           "expected 3D or 4D input"),
    "instance-norm-affine-channels": (lambda: nn.InstanceNorm1d(3, affine=True)(
        cr.randn(2, 4, 5)), ValueError, "match num_features"),
    "lrn-rank": (lambda: F.local_response_norm(cr.randn(2, 3), 2), ValueError,
                 "3D or higher"),
    "cross-map-lrn-rank": (lambda: nn.CrossMapLRN2d(3)(cr.randn(1, 3, 4)), ValueError,
                           "Expected input to be 4D"),
    "adaptive-max-output": (lambda: F.adaptive_max_pool2d(X4, (2, 2, 2)), ValueError,
                            "output_size must be an int or a tuple of 2"),
    "fractional-no-size": (lambda: nn.FractionalMaxPool2d(2), ValueError,
                           "either an output size, or a pooling ratio"),
    "fractional-too-large": (lambda: F.fractional_max_pool2d(X4, 2, output_size=4),
                             RuntimeError, "too large"),
    "unpool-bad-index": (lambda: F.max_unpool2d(cr.randn(1, 1, 2, 2),
                                                cr.tensor([[[[0, 1], [2, 99]]]]), 2),
                         RuntimeError, "invalid max index"),
    "unpool-output-size": (lambda: F.max_unpool1d(cr.randn(1, 1, 2), cr.tensor([[[0, 2]]]), 2,
                                                  output_size=[9]),
                           ValueError, "invalid output_size"),
    "multi-margin-p": (lambda: F.multi_margin_loss(cr.randn(2, 3), cr.tensor([0, 1]), p=3),
                       ValueError, "only p == 1 and p == 2"),
    "multi-margin-target-type": (lambda: F.multi_margin_loss(cr.randn(2, 3),
                                                             cr.tensor([0.0, 1.0])),
                                 RuntimeError, "integer"),
    "triplet-margin": (lambda: nn.TripletMarginWithDistanceLoss(margin=0), ValueError,
                       "greater than 0"),
    "gaussian-var-shape": (lambda: F.gaussian_nll_loss(cr.randn(3, 2), cr.randn(3, 2),
                                                       cr.ones(2, 2)),
                           ValueError, "does not fit"),
    "gaussian-negative-var": (lambda: F.gaussian_nll_loss(cr.randn(3), cr.randn(3),
                                                          -cr.ones(3)),
                              ValueError, "negative"),
    "margin-ranking-shapes": (lambda: F.margin_ranking_loss(cr.randn(3), cr.randn(2),
                                                            cr.ones(3)),
                              RuntimeError, "same shape"),
    "cosine-embedding-shapes": (lambda: F.cosine_embedding_loss(cr.randn(3, 2), cr.randn(3, 4),
                                                                cr.ones(3)),
                                RuntimeError, "same shape"),
    "loss-reduction": (lambda: F.soft_margin_loss(cr.randn(3), cr.ones(3), reduction="avg"),
                       ValueError, "reduction='avg' is not valid"),
    "pdist-rank": (lambda: F.pdist(cr.randn(3)), RuntimeError, "only supports 2D"),
    "feature-dropout-rank": (lambda: F.dropout2d(cr.randn(3)), RuntimeError,
                             "at least 2 dimensions"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_arguments_raise_a_named_error(name):
    call, error, match = BAD_CALLS[name]
    with pytest.raises(error, match=match):
        call()
