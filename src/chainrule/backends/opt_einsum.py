"""``torch.backends.opt_einsum``: chainrule's einsum orders contractions with NumPy's
``optimize=True``, not the opt_einsum package."""

enabled = True
strategy = "auto"


def is_available():
    return False


def get_opt_einsum():
    return None
