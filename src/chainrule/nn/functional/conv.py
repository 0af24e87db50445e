"""Functional conv."""

__all__ = []
