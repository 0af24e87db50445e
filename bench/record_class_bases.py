"""Record which of PyTorch's classes derive from which, for ``isinstance`` checks in programs.

    /work/main/.venv-bench/bin/python bench/record_class_bases.py

Programs test a module's kind by its class: ``isinstance(m, nn.modules.batchnorm._BatchNorm)``
to freeze batch norms (PyTorch's instance norms are not among them), ``isinstance(m,
nn.ConstantPad2d)``, ``isinstance(s, lr_scheduler.LambdaLR)``. For every class defined in
``torch.nn.modules.*``, ``torch.optim``, ``torch.optim.lr_scheduler`` and
``torch.utils.data``, private bases included, this writes the other recorded classes it is a
subclass of to ``tests/compat/torch_class_bases.json``; ``tests/compat/test_class_bases.py``
holds chainrule's classes of the same names to the same relations, without torch."""

import importlib
import json
import pkgutil
from pathlib import Path

import torch.nn.modules

OUT = Path(__file__).resolve().parent.parent / "tests" / "compat" / "torch_class_bases.json"
PLAIN = ["torch.optim", "torch.optim.lr_scheduler", "torch.utils.data"]


def module_names():
    names = [f"torch.nn.modules.{info.name}" for info in pkgutil.iter_modules(
        torch.nn.modules.__path__) if not info.name.startswith("_")]
    return names + PLAIN


def classes():
    """{"nn.modules.batchnorm._BatchNorm": class}: classes defined in, or public in, each
    module, named by the path below ``torch``."""
    found = {}
    for name in module_names():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if not isinstance(value, type) or not value.__module__.startswith("torch."):
                continue
            defined_here = value.__module__ == name
            if defined_here or (name in PLAIN and not attr.startswith("_")):
                found[f"{name[len('torch.'):]}.{attr}"] = value
    return found


def _derives(cls, base):
    try:
        return issubclass(cls, base)
    except TypeError:  # typing constructs (protocols, TypedDicts) refuse the question
        return False


def main():
    found = classes()
    table = {key: sorted(other for other, base in found.items()
                         if other != key and _derives(cls, base))
             for key, cls in sorted(found.items())}
    OUT.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n")
    print(f"{len(table)} classes -> {OUT}")


if __name__ == "__main__":
    main()
