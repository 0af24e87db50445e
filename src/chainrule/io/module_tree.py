"""Whole ``nn.Module`` objects in a chainrule file, without pickle.

``save(model, path)`` stores a module as a node of the file's JSON tree (``tree.py``)::

    {"__nn_module__": ["chainrule.nn.modules.linear", "Linear"],
     "state": {"training": true, "parameters": [[name, tensor]], "buffers": [[name, tensor]],
               "non_persistent": [names], "modules": [[name, module]],
               "attributes": [[name, value]]}}

with the tensors in safetensors as usual. A parameter, buffer or submodule that appears twice
(tied weights) is stored once and referred to by its number in order of appearance
(``{"__shared__": n}``), so ties survive. Attribute
values are what the tree stores, plus dtypes and chainrule's own functions (an activation).

Loading makes the object without calling its ``__init__`` (as unpickling does) and fills it
in. Only classes that are chainrule's own ``Module`` subclasses, or that the user allowed with
``add_safe_globals``, are made; any other class is refused by name. Nothing is imported but
chainrule's own modules, and no code from the file runs.
"""

import importlib
import types
import warnings

from .. import _dtypes
from ..tensor import Tensor
from .errors import CheckpointError
from .safe_globals import full_name, is_user_allowed, user_global

_INTERNAL = {"training", "_parameters", "_buffers", "_non_persistent_buffers_set", "_modules"}
_HOOKS = ("_forward_pre_hooks", "_forward_hooks", "_backward_hooks", "_backward_pre_hooks")
_FUNCTION_HOMES = ("chainrule.nn.functional", "chainrule.ops", "chainrule.")


def _is_member(module, name):
    """Whether ``name`` is a parameter, buffer or child (also kept as an attribute)."""
    return name in module._parameters or name in module._buffers or name in module._modules


class Encoder:
    """Module nodes for one ``save``; remembers what it stored, for ties."""

    def __init__(self, encode):
        self.encode = encode  # tree.encode(obj, arrays, depth, path)
        self.seen = {}  # id -> number of the first occurrence among the members

    def module(self, module, arrays, depth, path):
        cls = type(module)
        if not (cls.__module__.startswith("chainrule.") or is_user_allowed(cls)):
            warnings.warn(f"saving a {full_name(cls)}: loading it will need "
                          f"add_safe_globals([{cls.__name__}])", stacklevel=4)
        if any(getattr(module, hooks, None) for hooks in _HOOKS):
            warnings.warn(f"{full_name(cls)} at {'.'.join(map(str, path)) or 'the top'} has "
                          "hooks; hooks are code and are not saved", stacklevel=4)
        state = {
            "training": bool(module.training),
            "parameters": self._members(module._parameters, arrays, depth, path),
            "buffers": self._members(module._buffers, arrays, depth, path),
            "non_persistent": sorted(module._non_persistent_buffers_set),
            "modules": self._members(module._modules, arrays, depth, path),
            "attributes": [[name, self.value(value, arrays, depth, path + (name,))]
                           for name, value in vars(module).items()
                           if name not in _INTERNAL and not name.startswith(_HOOKS)
                           and not _is_member(module, name)],
        }
        return {"__nn_module__": [cls.__module__, cls.__qualname__], "state": state}

    def _members(self, members, arrays, depth, path):
        return [[name, self.member(value, arrays, depth, path + (name,))]
                for name, value in members.items()]

    def member(self, value, arrays, depth, path):
        """A parameter, buffer or submodule, or a reference to where it was stored first."""
        from ..nn.modules.module import Module

        if value is None:
            return None
        if id(value) in self.seen:
            return {"__shared__": self.seen[id(value)]}
        self.seen[id(value)] = len(self.seen)
        if isinstance(value, Module):
            return self.module(value, arrays, depth + 1, path)
        return self.encode(value, arrays, depth + 1, path)

    def value(self, value, arrays, depth, path):
        if isinstance(value, _dtypes.dtype):
            return {"__dtype__": value.name}
        if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
            if not (value.__module__ or "").startswith(_FUNCTION_HOMES) \
                    and not is_user_allowed(value):
                raise TypeError(f"chainrule.save cannot store the function {value!r} held in "
                                f"attribute {'.'.join(map(str, path))}: only chainrule's own "
                                "functions (or ones allowed with add_safe_globals) are stored")
            return {"__function__": [value.__module__, value.__qualname__]}
        return self.encode(value, arrays, depth + 1, path)


class Decoder:
    """Makes the modules of one ``load``."""

    def __init__(self, decode, name):
        self.decode = decode  # tree decoder: decode(node, depth)
        self.name = name
        self.made = []  # parameters, buffers and modules in order of appearance

    def fail(self, problem):
        return CheckpointError(self.name, problem)

    def module(self, node, depth):
        from ..nn.modules.module import Module
        from ..nn.parameter import Parameter

        cls = self._class(node["__nn_module__"], Module)
        state = node["state"]
        if not isinstance(state, dict) or set(state) != {"training", "parameters", "buffers",
                                                         "non_persistent", "modules",
                                                         "attributes"}:
            raise self.fail("is corrupt: a module node has unexpected fields")
        module = cls.__new__(cls)
        Module.__init__(module)
        module.training = state["training"] is True
        for name, value in self._pairs(state["parameters"]):
            module._parameters[name] = self._member(value, depth, lambda t: Parameter(
                t, requires_grad=t.requires_grad), Parameter)
        for name, value in self._pairs(state["buffers"]):
            module._buffers[name] = self._member(value, depth, lambda t: t, Tensor)
        non_persistent = state["non_persistent"]
        if not isinstance(non_persistent, list) or not all(
                isinstance(n, str) for n in non_persistent):
            raise self.fail("is corrupt: a module's non-persistent buffers are not names")
        module._non_persistent_buffers_set.update(non_persistent)
        for name, value in self._pairs(state["modules"]):
            module._modules[name] = self._member(value, depth, None, Module)
        for name, value in self._pairs(state["attributes"]):
            if name in _INTERNAL or name.startswith("__") or name in module.__dict__:
                raise self.fail(f"is corrupt: a module attribute is named {name!r}")
            object.__setattr__(module, name, self._value(value, depth))
        return module

    def _member(self, value, depth, wrap, kind):
        """A parameter/buffer (``wrap`` makes it from the decoded tensor) or a submodule
        (``wrap`` is None), or the earlier one a ``__shared__`` reference names."""
        if value is None:
            return None
        if isinstance(value, dict) and set(value) == {"__shared__"}:
            number = value["__shared__"]
            if type(number) is not int or not 0 <= number < len(self.made) \
                    or self.made[number] is None:
                raise self.fail(f"is corrupt: a shared member refers to {number!r}, which "
                                "comes nowhere before it")
            made = self.made[number]
        else:
            index = len(self.made)
            self.made.append(None)  # numbered before its children, as the encoder did
            if wrap is None:
                if not (isinstance(value, dict) and "__nn_module__" in value):
                    raise self.fail("is corrupt: a submodule is not a module node")
                made = self.module(value, depth + 1)
            else:
                made = self.decode(value, depth + 1)
                if not isinstance(made, Tensor):
                    raise self.fail("is corrupt: a parameter or buffer is not a tensor")
                made = wrap(made)
            self.made[index] = made
        if not isinstance(made, kind):
            raise self.fail(f"is corrupt: a shared member is a {type(made).__name__}, not a "
                            f"{kind.__name__}")
        return made

    def _pairs(self, items):
        if not isinstance(items, list) or not all(
                isinstance(i, list) and len(i) == 2 and isinstance(i[0], str) for i in items):
            raise self.fail("is corrupt: a module's members are not [name, value] pairs")
        return items

    def _value(self, value, depth):
        if isinstance(value, dict) and set(value) == {"__dtype__"}:
            dtype = getattr(_dtypes, {"bool": "bool_"}.get(value["__dtype__"],
                                                          str(value["__dtype__"])), None)
            if not isinstance(dtype, _dtypes.dtype):
                raise self.fail(f"is corrupt: unknown dtype {value['__dtype__']!r}")
            return dtype
        if isinstance(value, dict) and set(value) == {"__function__"}:
            function = self._class(value["__function__"], None)
            if not callable(function) or isinstance(function, type):
                raise self.fail("is corrupt: a function attribute names a non-function")
            return function
        return self.decode(value, depth + 1)

    def _class(self, where, base):
        """The class (or function) stored as [module, qualname]: chainrule's own or one the
        user allowed; nothing else is looked up, and nothing but chainrule is imported."""
        if not (isinstance(where, list) and len(where) == 2
                and all(isinstance(w, str) for w in where)):
            raise self.fail("is corrupt: a class reference is not [module, name]")
        module_name, qualname = where
        full = f"{module_name}.{qualname}"
        found = user_global(full)
        if found is None and module_name.startswith("chainrule.") and all(
                part.isidentifier() and not part.startswith("__")
                for part in module_name.split(".") + qualname.split(".")):
            found = _chainrule_object(module_name, qualname)
        kind = "class" if base is not None else "function"
        if found is None or (base is not None and not (isinstance(found, type)
                                                       and issubclass(found, base))):
            short = qualname.rsplit(".", 1)[-1]
            raise self.fail(
                f"holds a module whose {kind} {full} is not one of chainrule's own; loading "
                f"never runs code from a file. If you trust the file, allow the {kind} with "
                f"chainrule.serialization.add_safe_globals([{short}]) (or the safe_globals "
                f"context manager) and load again")
        return found


def _chainrule_object(module_name, qualname):
    try:
        found = importlib.import_module(module_name)
    except ImportError:
        return None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    home = getattr(found, "__module__", None) or ""
    return found if home.startswith("chainrule.") else None
