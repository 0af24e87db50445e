"""Distances between batches of vectors: ``pairwise_distance``, ``cosine_similarity``,
``pdist``; composed from differentiable tensor operations."""

import numpy as np

from ...ops.reduce import norm
from ...ops.registry import register
from ...tensor import Tensor


def _p_norm(x, p, dim, keepdim=False):
    """The p-norm along ``dim`` (p = inf: largest |x|; p = 0: count of non-zeros): one Norm op,
    whose gradient is 0 where the norm is (two equal rows, a zero vector), as PyTorch's."""
    return norm(x, p, dim, keepdim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p along the last dim (``eps`` keeps the norm differentiable at 0)."""
    for name, value in (("x1", x1), ("x2", x2)):
        if not isinstance(value, Tensor):
            raise TypeError(f"pairwise_distance: {name} must be a Tensor, got "
                            f"{type(value).__name__}")
    dim = -1 if max(x1.dim(), x2.dim()) > 0 else 0
    return _p_norm(x1 - x2 + eps, p, dim, keepdim)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(||x1||, eps) * max(||x2||, eps)) along ``dim`` (inputs broadcast)."""
    norm1 = norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    norm2 = norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pdist(input, p=2):
    """The p-norm distance between every pair of rows of (N, M) ``input``: the upper triangle
    of the distance matrix, row by row, as N(N - 1)/2 values."""
    if input.dim() != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.dim()}D")
    n = input.shape[0]
    rows, cols = np.triu_indices(n, k=1)
    if not len(rows):
        return input.new_zeros(0)
    first = input.index_select(0, Tensor._from_array(rows))
    second = input.index_select(0, Tensor._from_array(cols))
    return _p_norm(first - second, p, -1)


register(pairwise_distance, method=False, functional=True)
register(cosine_similarity, method=False, functional=True)
register(pdist, method=False, functional=True)
