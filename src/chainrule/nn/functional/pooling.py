"""Functional pooling."""

__all__ = []
