"""``torch.backends.mkl``: chainrule computes through NumPy, not through this library."""

enabled = True


def is_available():
    return False
