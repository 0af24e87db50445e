"""``chainrule.nn.functional``: the functional form of every layer, loss and activation.

The ops register their functional forms themselves (``chainrule/ops/registry.py``); the
functions composed in nn (dropout variants, embeddings, attention, piecewise activations,
distances, interpolation, losses built from ops, ...) register from the modules here.
"""

from . import (  # noqa: F401 - importing them registers their functions
    activation,
    activation_piecewise,
    attention,
    conv,
    distance,
    dropout,
    embedding_bag,
    interpolate,
    linear,
    loss,
    loss_likelihood,
    loss_margin,
    normalization,
    pooling,
    sampling,
    sparse,
    vision,
)
from ...ops.registry import FUNCTIONAL, namespace

globals().update(namespace(FUNCTIONAL))
del FUNCTIONAL, namespace
