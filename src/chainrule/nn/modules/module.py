"""``Module``: the base of every layer."""
