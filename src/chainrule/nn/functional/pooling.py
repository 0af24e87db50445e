"""Functional pooling (``F.max_pool2d`` ...); the fused ops live in ``chainrule.ops.pooling``
and ``chainrule.ops.pooling_more``."""

from ...ops import pooling as _ops
from ...ops import pooling_more as _more
from ...ops.pooling import *  # noqa: F403 - the functional names are the fused ops' own
from ...ops.pooling_more import *  # noqa: F403

__all__ = list(_ops.__all__) + list(_more.__all__)
