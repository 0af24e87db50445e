"""Normalisation functions (``torch.nn.functional`` names); the fused ops live in
``chainrule.ops.normalization``."""

from ...ops.normalization import batch_norm, group_norm, layer_norm, normalize, rms_norm

__all__ = ["layer_norm", "group_norm", "rms_norm", "batch_norm", "normalize"]
