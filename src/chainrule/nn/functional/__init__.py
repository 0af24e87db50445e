"""``chainrule.nn.functional``: the functional form of every layer, loss and activation.

The ops register their functional forms themselves (``chainrule/ops/registry.py``); the few
functions built in nn (dropout, embedding, one_hot, bilinear) register from the modules here.
"""

from . import dropout, linear, sparse  # noqa: F401 - importing them registers their functions
from ...ops.registry import FUNCTIONAL, namespace

globals().update(namespace(FUNCTIONAL))
del FUNCTIONAL, namespace
