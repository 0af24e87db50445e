"""Functional attention."""

__all__ = []
