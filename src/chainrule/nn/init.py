"""``nn.init``: in-place parameter initialisation."""
