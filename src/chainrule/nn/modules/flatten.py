"""flatten layers."""

__all__ = []
