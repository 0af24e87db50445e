"""``torch.conv2d``, ``torch.dropout``, ``torch.layer_norm`` ...: PyTorch also exposes its
neural-network kernels at the top level, with the kernels' own argument lists (positional
``train``, weight before indices for ``embedding``, losses' ``reduction`` as an int: 0 none,
1 mean, 2 sum). These are ``nn.functional``'s functions under those spellings."""

import functools

from ..ops.registry import TOP, namespace
from . import functional as F

_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}

# the same argument lists as nn.functional's
_SAME = ["adaptive_avg_pool1d", "alpha_dropout", "avg_pool1d", "bilinear", "celu",
         "channel_shuffle", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
         "conv_transpose3d", "cosine_similarity", "group_norm", "hardshrink", "layer_norm",
         "max_pool1d", "max_pool1d_with_indices", "max_pool2d", "max_pool3d",
         "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle", "prelu", "rms_norm",
         "rrelu", "selu", "threshold"]
# losses whose last arguments are an int reduction
_INT_REDUCTION = ["binary_cross_entropy_with_logits", "cosine_embedding_loss", "ctc_loss",
                  "hinge_embedding_loss", "kl_div", "margin_ranking_loss", "poisson_nll_loss",
                  "triplet_margin_loss"]

__all__ = [*_SAME, *_INT_REDUCTION, "dropout", "feature_dropout", "embedding", "batch_norm",
           "instance_norm", "constant_pad_nd"]
__all__ = [name for name in __all__ if name not in namespace(TOP)]  # registered ops win

globals().update({name: getattr(F, name) for name in _SAME if hasattr(F, name)})


def _int_reduction(name):
    function = getattr(F, name)

    @functools.wraps(function)
    def with_int_reduction(*args, reduction=1, **kwargs):
        return function(*args, reduction=_REDUCTIONS.get(reduction, reduction), **kwargs)

    return with_int_reduction


globals().update({name: _int_reduction(name) for name in _INT_REDUCTION if hasattr(F, name)})


def dropout(input, p, train):
    return F.dropout(input, p, train)


def feature_dropout(input, p, train):
    return F.dropout2d(input, p, train) if input.ndim == 4 else F.dropout1d(input, p, train)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    return F.embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled=True):
    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled=True):
    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def constant_pad_nd(input, pad, value=0):
    return F.pad(input, pad, "constant", value)
