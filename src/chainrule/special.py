"""``chainrule.special``: special functions, as ``torch.special`` (the ops registered there)."""

from .ops.registry import SPECIAL, namespace

globals().update(namespace(SPECIAL))
