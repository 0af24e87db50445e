"""Functional sparse."""

__all__ = []
