"""The package's version, in a module of its own so that any layer can read it without
importing the package root; and the version chainrule answers while it stands in for torch.

``chainrule.__version__`` is chainrule's own ("0.1.0"). While ``import torch`` gives chainrule
(``sys.modules["torch"] is chainrule``: ``chainrule.as_torch`` or a harness's own alias),
``torch.__version__`` (the same attribute) answers the PyTorch API chainrule follows,
"2.13.0+chainrule.0.1.0", so a program's ``torch.__version__ >= "2"`` or
``packaging.version.parse(torch.__version__)`` takes its modern-PyTorch branch; the local
label after "+" still names chainrule and its version."""

import sys

__version__ = "0.1.0"
PYTORCH_API_VERSION = "2.13.0"  # the PyTorch release whose API and numerics chainrule follows


class TorchVersion(str):
    """A version string that orders as a version, as PyTorch's ``torch.__version__`` does:
    against another string ("2.1" < "2.13.0+cpu") or a tuple of ints ((2, 0)); a local label
    ("+cpu") sorts after the bare release. Equality is the string's, as there."""

    def _cmp(self, other, compare):
        if isinstance(other, tuple):
            theirs = (tuple(int(p) for p in other), False)
        elif isinstance(other, str):
            theirs = (_release(other), "+" in other)
        else:
            return NotImplemented
        mine = (_release(str(self)), "+" in self)
        width = max(len(mine[0]), len(theirs[0]))
        return compare(*[(*(r + (0,) * (width - len(r))), local) for r, local in (mine, theirs)])

    def __lt__(self, other):
        return self._cmp(other, tuple.__lt__)

    def __le__(self, other):
        return self._cmp(other, tuple.__le__)

    def __gt__(self, other):
        return self._cmp(other, tuple.__gt__)

    def __ge__(self, other):
        return self._cmp(other, tuple.__ge__)

    __eq__ = str.__eq__
    __hash__ = str.__hash__


def _release(text):
    """(2, 13, 0) from "2.13.0+cpu", "2.13.0a0" or "v2.13"."""
    numbers = []
    for part in text.lstrip("v").split("+")[0].split("."):
        digits = ""
        for char in part:
            if not char.isdigit():
                break
            digits += char
        if not digits:
            break
        numbers.append(int(digits))
        if len(digits) != len(part):
            break
    return tuple(numbers)


def as_torch_version():
    """What ``torch.__version__`` says while chainrule stands in for torch."""
    return TorchVersion(f"{PYTORCH_API_VERSION}+chainrule.{__version__}")


def standing_in_for_torch(package):
    """Whether ``import torch`` currently gives ``package``."""
    return sys.modules.get("torch") is package
