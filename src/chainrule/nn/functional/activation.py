"""Functional activation."""

__all__ = []
