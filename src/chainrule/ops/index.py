"""Indexing: __getitem__, gather, scatter_add, index_select, masked_fill."""

__all__ = []
