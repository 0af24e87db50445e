"""transformer layers."""

__all__ = []
