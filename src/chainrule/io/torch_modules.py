"""Whole modules in a PyTorch file (``torch.save(model)``), rebuilt as chainrule's own classes
when the caller asks with ``weights_only=False``, as PyTorch 2.6 and later require.

PyTorch loads such a file by importing the classes it names and letting them set their state:
the file chooses the code that runs. chainrule runs none of it, and imports nothing:

- a class of ``torch.nn`` (``torch.nn.modules.linear.Linear``) is chainrule's class of the same
  name, and a function of ``torch.nn.functional`` (a TransformerEncoderLayer's activation) is
  chainrule's function of the same name, kept as a value (the pickle may not call it);
- any other class must already be loaded in this process (the script's own model class, which
  PyTorch needs too) and be a chainrule ``nn.Module``; nothing else is accepted.

The module is made without its ``__init__`` (as unpickling does) and given chainrule's empty
registries, then the file's parameters, buffers and submodules and its plain attributes (the
hyper-parameters, ``in_features``, ``padding``; chainrule's layers keep PyTorch's names). A
hook table that is not empty is refused (a hook is code); PyTorch's caches that chainrule does
not read (an RNN's ``_flat_weights``) stay as unused attributes.
"""

import sys

from .unpickler import Refused

_TORCH_NN = ("torch.nn.modules.", "torch.nn.")
_FUNCTIONAL = ("torch.nn.functional.", "torch._C._nn.")  # (F.gelu is torch._C._nn.gelu)
_REGISTRIES = ("_parameters", "_buffers", "_modules", "_non_persistent_buffers_set")


def module_global(full):
    """The chainrule class or function that the global ``full`` of a whole-module file stands
    for, or None."""
    from .. import nn
    from ..nn import functional

    module_name, _, name = full.rpartition(".")
    if module_name + "." in _FUNCTIONAL:  # a value here, never called by the pickle
        found = getattr(functional, name, None)
        return found if callable(found) and not isinstance(found, type) else None
    if full.startswith(_TORCH_NN):
        found = getattr(nn, name, None)
    else:  # the program's own class: only if it is loaded already (nothing is imported)
        found = getattr(sys.modules.get(module_name), name, None)
    return found if is_module_class(found) else None


def is_module_class(obj):
    from ..nn import Module

    return isinstance(obj, type) and issubclass(obj, Module)


def build_module(module, state):
    """BUILD on a module: chainrule's registries, then the file's members and attributes."""
    from ..nn import Module

    if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
        raise Refused(f"the state of a whole {type(module).__name__} module is not a dict of "
                      "attributes")
    blank = Module.__new__(type(module))
    Module.__init__(blank)
    merged = dict(blank.__dict__)  # chainrule's empty registries and hook tables
    for key, value in state.items():
        if key in _REGISTRIES:
            kind = set if key == "_non_persistent_buffers_set" else dict
            if not isinstance(value, kind):
                raise Refused(f"{type(module).__name__}.{key} in the file is a "
                              f"{type(value).__name__}, not a {kind.__name__}")
            merged[key] = value
        elif "hook" in key:  # PyTorch's hook tables: chainrule's own (empty) are kept
            if value and not isinstance(value, bool):
                raise Refused(f"the file's {type(module).__name__} has {key}: a hook is "
                              "code, which loading never runs")
        elif key not in merged or key == "training":
            merged[key] = value  # hyper-parameters, and caches chainrule does not read
    for key in _REGISTRIES[:3]:
        for name, member in merged[key].items():
            if member is not None and not _fits_registry(key, member):
                raise Refused(f"{type(module).__name__}.{key}[{name!r}] in the file is a "
                              f"{type(member).__name__}")
    Module.__setstate__(module, merged)


def _fits_registry(key, member):
    from ..nn import Module
    from ..tensor import Tensor

    return isinstance(member, Module if key == "_modules" else Tensor)
