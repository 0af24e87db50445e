"""Matrix products (matmul, mm, bmm, outer, einsum): BLAS through NumPy."""

__all__ = []
