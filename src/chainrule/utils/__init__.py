"""Utilities under PyTorch's names: ``chainrule.utils.data`` is ``chainrule.data``."""

from . import data

__all__ = ["data"]
