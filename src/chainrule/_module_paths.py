"""PyTorch's module paths for modules that chainrule keeps elsewhere.

``alias_submodules("chainrule.utils.data", dataloader=chainrule.data.dataloader)`` makes
``import chainrule.utils.data.dataloader`` (and so ``torch.utils.data.dataloader`` under the
alias) give the very module object that lives at ``chainrule.data.dataloader``: one module, two
names, so classes keep their identity and patching one name patches the other."""

import sys


def alias_submodules(package_name, **modules):
    """Register each module as ``package_name.<name>``: importable and an attribute."""
    package = sys.modules[package_name]
    for name, module in modules.items():
        sys.modules[f"{package_name}.{name}"] = module
        setattr(package, name, module)
