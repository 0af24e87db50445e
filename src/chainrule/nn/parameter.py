"""``Parameter`` and ``Buffer``."""
