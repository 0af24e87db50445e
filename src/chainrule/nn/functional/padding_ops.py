"""Small helpers for functions that pad along a dim other than the last ones."""

from ...ops.shape import pad

__all__ = []


def pad_channels(x, size):
    """Zero-pad dim 2 of (N, 1, C, ...) by size // 2 before and (size - 1) // 2 after, the
    window of local response norm."""
    widths = [0, 0] * (x.dim() - 3) + [size // 2, (size - 1) // 2]
    return pad(x, widths)
