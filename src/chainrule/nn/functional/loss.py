"""Functional loss."""

__all__ = []
