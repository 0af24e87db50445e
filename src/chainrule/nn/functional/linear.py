"""Functional linear."""

__all__ = []
