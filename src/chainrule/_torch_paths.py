"""PyTorch's module paths while ``torch`` is aliased to chainrule (see chainrule.as_torch).

When ``sys.modules["torch"]`` is the chainrule package, ``import torch.nn.functional`` must give
the module ``chainrule.nn.functional`` itself; Python's own finder would instead load a second
copy of chainrule's files under torch names (two ``Tensor`` classes that do not know each
other). This finder, first on ``sys.meta_path``, returns the chainrule module."""

import importlib
import importlib.abc
import importlib.util
import sys


class _Existing(importlib.abc.Loader):
    """Loads a module that already exists (a chainrule module, under its torch name)."""

    def __init__(self, module):
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        module.__spec__ = self.spec  # keep chainrule's own spec (its relative imports use it)


def _alias_loaded_submodules(name):
    """Put the loaded submodules of chainrule module ``name`` in sys.modules under their torch
    names. Importing one later then finds it there, and Python does not set it as an attribute
    of its package, where it would hide a function of the same name (PyTorch's
    ``torch.nn.utils.weight_norm`` is both a module and, as the package's attribute, the
    function)."""
    prefix = name + "."
    for loaded, module in list(sys.modules.items()):
        if loaded.startswith(prefix):
            sys.modules.setdefault("torch" + loaded[len("chainrule"):], module)


class TorchPathFinder(importlib.abc.MetaPathFinder):
    """Finds ``torch.X.Y`` as ``chainrule.X.Y`` while ``torch`` is aliased to chainrule."""

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith("torch.") or sys.modules.get("torch") is not (
                sys.modules.get("chainrule")):
            return None
        name = "chainrule" + fullname[len("torch"):]
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and not name.startswith(error.name):
                raise
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: chainrule (standing in for torch) has no "
                f"{name!r}; docs/coverage.md lists what it has and leaves out", name=fullname
            ) from None
        _alias_loaded_submodules(name)
        return importlib.util.spec_from_loader(fullname, _Existing(module))

    def register(self):
        """Put the finder first on sys.meta_path (once)."""
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)


FINDER = TorchPathFinder()
