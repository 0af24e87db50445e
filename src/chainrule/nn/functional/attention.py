"""Functional attention; the fused op lives in ``chainrule.ops.attention``."""

from ...ops.attention import scaled_dot_product_attention

__all__ = ["scaled_dot_product_attention"]
