"""Functional convolutions (``F.conv2d`` ...); the fused ops live in ``chainrule.ops.conv``."""

from ...ops import conv as _ops
from ...ops.conv import *  # noqa: F403 - the functional names are the fused ops' own

__all__ = list(_ops.__all__)
