"""The test harness's ``import torch``: chainrule under PyTorch's name, undone afterwards."""

import contextlib
import sys

from chainrule import as_torch


@contextlib.contextmanager
def torch_is_chainrule():
    """Inside the block ``import torch`` (and any ``torch.X.Y``) gives chainrule; after it,
    the torch names are removed from ``sys.modules`` again."""
    saved = {name: module for name, module in sys.modules.items()
             if name == "torch" or name.startswith("torch.")}
    as_torch.install()
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[name]
        sys.modules.update(saved)
