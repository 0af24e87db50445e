"""Run a PyTorch program unchanged on chainrule: ``import torch`` gives chainrule.

    python -m chainrule.as_torch train.py --epochs 3    # run a script, torch = chainrule

or, inside Python, ``chainrule.as_torch.install()`` before the program imports torch. Every
``torch.X.Y`` module path then resolves to ``chainrule.X.Y`` (the same module objects), so
``import torch.nn.functional as F`` and ``from torch.utils.data.dataloader import DataLoader``
work. A path chainrule lacks raises ModuleNotFoundError naming it.

``import chainrule`` puts the finder (``chainrule._torch_paths``) on ``sys.meta_path``; it acts
only while ``sys.modules["torch"]`` is chainrule, so a real PyTorch installed beside chainrule is
never shadowed unless you ask for it, and ``sys.modules["torch"] = chainrule`` alone is enough
to alias every path."""

import runpy
import sys

import chainrule

from ._torch_paths import FINDER

__all__ = ["install", "main"]


def install():
    """Make ``import torch`` (and every ``torch.*`` path) give chainrule in this process."""
    sys.modules["torch"] = chainrule
    FINDER.register()


def main(argv=None):
    """``python -m chainrule.as_torch SCRIPT [ARGS...]``: run SCRIPT as __main__."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1].strip())
        return 0 if argv else 2
    install()
    sys.argv = argv
    runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
