"""activation layers."""

__all__ = []
