"""Run a PyTorch program unchanged on chainrule: ``import torch`` gives chainrule.

    python -m chainrule.as_torch train.py --epochs 3    # run a script, torch = chainrule
    python -m chainrule.as_torch -m mypackage.train      # run a module, as python -m does

or, inside Python, ``chainrule.as_torch.install()`` before the program imports torch. Every
``torch.X.Y`` module path then resolves to ``chainrule.X.Y`` (the same module objects), so
``import torch.nn.functional as F`` and ``from torch.utils.data.dataloader import DataLoader``
work. A path chainrule lacks raises ModuleNotFoundError naming it.

``import chainrule`` puts the finder (``chainrule._torch_paths``) on ``sys.meta_path``; it acts
only while ``sys.modules["torch"]`` is chainrule, so a real PyTorch installed beside chainrule is
never shadowed unless you ask for it, and ``sys.modules["torch"] = chainrule`` alone is enough
to alias every path."""

import os
import runpy
import sys

import chainrule

from ._torch_paths import FINDER

__all__ = ["install", "main"]


# a folder holding a `torch` package that installs the alias when imported (_torch_shim)
SHIM_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_torch_shim")


def install():
    """Make ``import torch`` (and every ``torch.*`` path) give chainrule in this process and in
    the processes multiprocessing starts from it by spawning (they get this ``sys.path``)."""
    sys.modules["torch"] = chainrule
    FINDER.register()
    if SHIM_PATH not in sys.path:
        # (after the program's own folder, before any installed PyTorch)
        sys.path.insert(1 if sys.path else 0, SHIM_PATH)


def main(argv=None):
    """``python -m chainrule.as_torch SCRIPT [ARGS...]`` (or ``-m MODULE [ARGS...]``): run it as
    ``__main__``, with ``sys.argv`` and ``sys.path`` as ``python SCRIPT`` (``python -m MODULE``)
    would set them, so that the program imports its own modules beside it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.split("\n\n")[1].strip())
        return 0 if argv else 2
    if argv[0] == "-m":
        if len(argv) < 2:
            print("chainrule.as_torch: -m needs a module name, e.g. -m mypackage.train",
                  file=sys.stderr)
            return 2
        install()
        sys.argv = argv[1:]  # (runpy puts the module's path in sys.argv[0])
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    script = argv[0]
    if not os.path.exists(script):
        print(f"chainrule.as_torch: can't open file {script!r}: no such file", file=sys.stderr)
        return 2
    install()
    sys.argv = argv
    # NOTE: `python -m chainrule.as_torch` put the working directory first on sys.path; a
    # script run directly has its own directory there instead (its sibling modules import)
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    runpy.run_path(script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
