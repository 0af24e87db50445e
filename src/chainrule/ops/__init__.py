"""Differentiable operations, one module per family; importing a module attaches its Tensor
methods."""

from . import elementwise, reduce, shape  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
