"""Loss functions (``torch.nn.functional`` names); the fused ops live in ``chainrule.ops.loss``
(classification) and ``chainrule.ops.regression_loss``."""

from ...ops.loss import (
    cross_entropy,
)
from ...ops.nn_linear import linear
from ...ops.registry import register


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None,
                         reduction="mean", ignore_index=None, label_smoothing=0.0,
                         options=None):
    """cross_entropy(linear(input, linear_weight, linear_bias), target): PyTorch's reference
    path. ``linear_weight`` is (C, in) or (C, d1, ..., dK, in) for a K-dimensional loss.
    ``options`` (PyTorch's chunking, which saves memory without changing the result) is
    accepted and ignored."""
    del options  # chunking only changes how PyTorch schedules the same computation
    classes, in_features = linear_weight.shape[0], linear_weight.shape[-1]
    extra = tuple(linear_weight.shape[1:-1])
    if extra and input.dim() != 2:
        raise RuntimeError("linear_cross_entropy: a multi-dimensional linear_weight needs a "
                           f"batched (N, in_features) input, got shape {tuple(input.shape)}")
    flat = linear_weight.reshape(-1, in_features)
    bias = linear_bias.reshape(-1) if linear_bias is not None else None
    logits = linear(input, flat, bias)
    if extra:
        logits = logits.reshape((input.shape[0], classes) + extra)
    return cross_entropy(logits, target, weight, ignore_index=-100 if ignore_index is None
                         else ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


register(linear_cross_entropy, top=False, method=False, functional=True)
