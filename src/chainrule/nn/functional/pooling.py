"""Functional pooling (``F.max_pool2d`` ...); the fused ops live in ``chainrule.ops.pooling``."""

from ...ops import pooling as _ops
from ...ops.pooling import *  # noqa: F403 - the functional names are the fused ops' own

__all__ = list(_ops.__all__)
