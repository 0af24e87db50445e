"""Loss functions (``torch.nn.functional`` names); the fused ops live in ``chainrule.ops.loss``
(classification) and ``chainrule.ops.regression_loss``."""

from ...ops.ctc import ctc_loss
from ...ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    kl_div,
    nll_loss,
)
from ...ops.regression_loss import huber_loss, l1_loss, mse_loss, smooth_l1_loss

__all__ = [
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "ctc_loss",
]
