"""``Module``: the base of every layer.

A module owns three ordered dicts, filled by plain attribute assignment: ``_parameters``
(``Parameter`` values), ``_buffers`` (tensors saved with the model but not trained) and
``_modules`` (child modules). Everything that walks a model -- ``parameters()``,
``state_dict()``, ``to()``, ``repr`` -- walks these dicts in definition order, giving dotted
names like ``encoder.0.weight``."""

import itertools
from collections import OrderedDict, namedtuple

import numpy as np

from ... import _dtypes
from ..._device import unavailable
from ...autograd import grad_mode
from ...tensor import Tensor, to_arguments_dtype
from ..parameter import Buffer, Parameter, is_lazy
from .backward_hooks import BackwardHookState
from .members import Members
from .state_dict_hints import mismatch_hint

__all__ = ["Module"]

_MEMBER_KINDS = ("_parameters", "_buffers", "_modules")


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, *hook_dicts):
        self.id = next(RemovableHandle._next_id)
        self._hook_dicts = hook_dicts

    def remove(self):
        for hooks in self._hook_dicts:
            hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it could not match."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _add_indent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


def _check_name(name, kind, module):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got {name!r}')


class Module:
    """Base class of all layers: subclass it, create parameters and submodules in ``__init__``,
    and compute the output in ``forward``.

    >>> class Net(chainrule.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = chainrule.nn.Linear(4, 2)
    ...     def forward(self, x):
    ...         return self.fc(x).relu()
    """

    training: bool
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected arguments; Module.__init__ "
                "takes none (call super().__init__() without arguments)"
            )
        set_raw = super().__setattr__
        set_raw("training", True)
        set_raw("_parameters", Members())
        set_raw("_buffers", Members())
        set_raw("_non_persistent_buffers_set", set())
        set_raw("_modules", Members())
        self._attach_members()
        set_raw("_forward_pre_hooks", OrderedDict())
        set_raw("_forward_pre_hooks_with_kwargs", set())
        set_raw("_forward_hooks", OrderedDict())
        set_raw("_forward_hooks_with_kwargs", set())
        set_raw("_backward_hooks", OrderedDict())
        set_raw("_backward_pre_hooks", OrderedDict())

    def _attach_members(self):
        """Make this module's attributes follow its three registries (``members.py``)."""
        for kind in _MEMBER_KINDS:
            members = self.__dict__.get(kind)
            if members is not None:
                if not isinstance(members, Members):  # (a state from elsewhere: plain dicts)
                    members = Members(members)
                    object.__setattr__(self, kind, members)
                members.attach(self)

    def __setstate__(self, state):
        # copy, deepcopy and pickle: the registries come back without this module attached
        self.__dict__.update(state)
        self._attach_members()

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # -- registration -------------------------------------------------------------------------
    def _require_init(self, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")

    def register_parameter(self, name, param):
        """Add a parameter (or None, a declared but absent one) under ``name``."""
        self._require_init("parameter")
        _check_name(name, "parameter", self)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(chainrule.nn.Parameter or None required)"
            )
        if param.grad_fn is not None:
            raise ValueError(
                f"cannot assign non-leaf tensor to parameter '{name}'. Model parameters must be "
                "created explicitly: wrap a detached tensor, Parameter(t.detach())"
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: a tensor saved in ``state_dict`` (if persistent) but not trained."""
        self._require_init("buffer")
        _check_name(name, "buffer", self)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                "(chainrule Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name`` (None is allowed: an absent child)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self)
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        def forget(*dicts):
            for d in dicts:
                d.pop(name, None)

        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._require_init("parameters")
            forget(self.__dict__, self._buffers, self._modules)
            self._non_persistent_buffers_set.discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(chainrule.nn.Parameter or None expected)"
                )
            self.register_parameter(name, None)
        elif isinstance(value, Module):
            self._require_init("module")
            forget(self.__dict__, self._parameters, self._buffers)
            self._non_persistent_buffers_set.discard(name)
            self._modules[name] = value
        elif self.__dict__.get("_modules") is not None and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    "(chainrule.nn.Module or None expected)"
                )
            self._modules[name] = None
        elif isinstance(value, Buffer):
            self._require_init("buffer")
            forget(self.__dict__, self._parameters, self._modules)
            self.register_buffer(name, value, getattr(value, "persistent", True))
        elif self.__dict__.get("_buffers") is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(chainrule Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            super().__setattr__(name, value)

    def __getattr__(self, name):
        # Only called when normal lookup fails. Registered items are attributes as well
        # (members.py), so this is the fallback that looks in the registries themselves.
        state = self.__dict__
        for kind in _MEMBER_KINDS:
            items = state.get(kind)
            if items is not None and name in items:
                return items[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            super().__delattr__(name)

    def __dir__(self):
        names = list(super().__dir__()) + list(self._parameters) + list(self._buffers)
        names += list(self._modules)
        return sorted(n for n in set(names) if not n[0].isdigit())

    # -- walking the tree ---------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, dict_name, prefix, recurse, remove_duplicate):
        owners = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                  if recurse else [(prefix, self)])
        seen = set()
        for owner_prefix, owner in owners:
            for name, value in getattr(owner, dict_name).items():
                if value is None:
                    continue
                if remove_duplicate:
                    if id(value) in seen:
                        continue
                    seen.add(id(value))
                yield owner_prefix + ("." if owner_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs in definition order; shared parameters once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        """The module at dotted path ``target`` ("" is self)."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def _get_leaf(self, target, dict_name, kind):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in getattr(module, dict_name):
            raise AttributeError(f"`{name}` is not {kind}")
        return getattr(module, name)

    def get_parameter(self, target):
        """The parameter at dotted path ``target``, e.g. ``"0.weight"``."""
        return self._get_leaf(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target):
        return self._get_leaf(target, "_buffers", "a buffer")

    # -- modes and gradients ------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode on this module and all descendants; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, as PyTorch does)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                grad = param.grad
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad.requires_grad_(False)
                grad.zero_()

    def apply(self, fn):
        """Call ``fn`` on every descendant (children first), then on self; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- dtype conversion ---------------------------------------------------------------------
    def _apply(self, convert):
        """Replace every parameter's and buffer's array by ``convert(array)``, keeping the
        tensor objects (and so the optimizer's references) the same."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                param._data = convert(param._data)
                if param.grad is not None:
                    param.grad._data = convert(param.grad._data)
            for buffer in module._buffers.values():
                if buffer is not None:
                    buffer._data = convert(buffer._data)
        return self

    def _cast_floating(self, np_dtype):
        def convert(array):
            if not _dtypes.is_float(array.dtype) or array.dtype == np_dtype:
                return array
            return array.astype(np_dtype)

        return self._apply(convert)

    def to(self, *args, **kwargs):
        """Convert floating-point parameters and buffers in place: ``to(dtype)``,
        ``to(device)``, ``to(tensor)``, ``to(device, dtype)``; returns self."""
        dtype = to_arguments_dtype(args, dict(kwargs))
        if dtype is None:
            return self
        np_dtype = _dtypes.to_numpy_dtype(dtype)
        if not _dtypes.is_float(np_dtype):
            raise TypeError(
                "nn.Module.to only accepts floating point dtypes, but got desired dtype="
                f"{_dtypes.from_numpy_dtype(np_dtype)}"
            )
        return self._cast_floating(np_dtype)

    def float(self):
        return self._cast_floating(np.dtype(np.float32))

    def double(self):
        return self._cast_floating(np.dtype(np.float64))

    def half(self):
        return self._cast_floating(np.dtype(np.float16))

    def bfloat16(self):
        return self._cast_floating(_dtypes.bfloat16.numpy)

    def type(self, dst_type):
        """Convert every parameter and buffer (integer ones too) to ``dst_type``."""
        np_dtype = _dtypes.to_numpy_dtype(dst_type)
        return self._apply(lambda array: array.astype(np_dtype, copy=False))

    def cpu(self):
        return self

    def to_empty(self, *, device=None, recurse=True):
        """Give every parameter and buffer new, uninitialised memory of its shape and dtype
        (PyTorch's way off the meta device; the values are garbage until set); returns
        self."""
        if device is not None:
            self.to(device)  # (refuses the devices chainrule lacks, naming them)
        for module in (self.modules() if recurse else [self]):
            for tensor in [*module._parameters.values(), *module._buffers.values()]:
                if tensor is not None:
                    tensor._data = np.empty_like(tensor._data)
        return self

    def compile(self, *args, **kwargs):
        """``torch.compile`` of this module's forward, in place: chainrule runs eagerly, and
        ``torch.compile`` gives the model back unchanged, so there is nothing to do."""

    def share_memory(self):
        """``Tensor.share_memory_()`` on every parameter and buffer, as PyTorch; returns self."""
        for tensor in [*self.parameters(), *self.buffers()]:
            tensor.share_memory_()
        return self

    def cuda(self, device=None):
        raise unavailable("cuda" if device is None else str(device))

    def xpu(self, device=None):
        raise unavailable("xpu" if device is None else str(device))

    def mtia(self, device=None):
        raise unavailable("mtia" if device is None else str(device))

    # -- state dict ---------------------------------------------------------------------------
    def get_extra_state(self):
        """Override (with ``set_extra_state``) to keep state that is no tensor in the state
        dict, under the key ``_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never "
                           "be called: override get_extra_state to keep extra state")

    def set_extra_state(self, state):
        """Override to take back what ``get_extra_state`` gave."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never "
                           "be called: override set_extra_state to load extra state")

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        save_extra_state(self, destination, prefix)

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict from dotted names to parameters and persistent buffers (detached,
        sharing memory with the model)."""
        if destination is None:
            destination = OrderedDict()
        # Shared submodules are saved under every name, as PyTorch does.
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip("."),
                                                        remove_duplicate=False):
            module._save_to_state_dict(
                destination, module_prefix + ("." if module_prefix else ""), keep_vars
            )
        return destination

    def _expected_state(self):
        """(key, module, name, is_parameter) for every entry ``state_dict()`` would hold."""
        entries = []
        for module_prefix, module in self.named_modules(remove_duplicate=False):
            dotted = module_prefix + ("." if module_prefix else "")
            for name, param in module._parameters.items():
                if param is not None:
                    entries.append((dotted + name, module, name, True))
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers_set:
                    entries.append((dotted + name, module, name, False))
            if type(module).set_extra_state is not Module.set_extra_state:
                entries.append((dotted + EXTRA_STATE, module, EXTRA_STATE, False))
        return entries

    def _may_be_missing(self, name, version):
        """Whether this module's state entry ``name`` may be absent from a state dict saved at
        ``version`` of the module (None: not recorded), keeping its current value: PyTorch's
        ``_load_from_state_dict`` upgrades of older files."""
        return False

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict``'s tensors into this module's parameters and buffers.

        Everything is checked first (missing and unexpected keys when ``strict``, shapes
        always); on any error nothing is loaded. Returns ``(missing_keys, unexpected_keys)``."""
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        entries = self._expected_state()
        expected = {key for key, *_ in entries}
        metadata = getattr(state_dict, "_metadata", None) or {}
        missing = [key for key, module, name, _ in entries if key not in state_dict
                   and not module._may_be_missing(name, metadata.get(
                       key[:-len(name) - 1], {}).get("version"))]
        unexpected = [key for key in state_dict if key not in expected]
        errors = []
        if strict and unexpected:
            listed = ", ".join(f'"{k}"' for k in unexpected)
            errors.append(f"Unexpected key(s) in state_dict: {listed}. ")
        if strict and missing:
            listed = ", ".join(f'"{k}"' for k in missing)
            errors.append(f"Missing key(s) in state_dict: {listed}. ")
        for key, module, name, _ in entries:
            if key not in state_dict:
                continue
            if name == EXTRA_STATE:
                continue  # (any object: set_extra_state takes it)
            value, target = state_dict[key], getattr(module, name)
            if is_lazy(value):
                if not is_lazy(target):
                    errors.append(
                        f"{key} in the state dict is uninitialized (its lazy module was saved "
                        "before its first call); run one batch through that model before "
                        "saving it"
                    )
            elif not isinstance(value, Tensor):
                errors.append(
                    f'While copying the parameter named "{key}", expected a chainrule Tensor '
                    f"from checkpoint but received {type(value).__name__}"
                )
            elif not is_lazy(target) and tuple(value.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {target.shape}."
                )
        if errors:
            hint = mismatch_hint(state_dict, expected) if missing or unexpected else None
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                + "\n\t".join(errors + [hint] if hint else errors)
            )
        with grad_mode.no_grad():
            for key, module, name, is_parameter in entries:
                if key not in state_dict:
                    continue
                if name == EXTRA_STATE:
                    module.set_extra_state(state_dict[key])
                    continue
                value, target = state_dict[key], getattr(module, name)
                if is_lazy(value):
                    continue  # (into a lazy module that has not run either: stays so)
                if is_lazy(target):  # (a lazy module before its first call: the saved shape)
                    target.materialize(value._data.shape)
                if not assign:
                    target.copy_(value)
                elif is_parameter:
                    module._parameters[name] = Parameter(value.detach(), target.requires_grad)
                else:
                    module._buffers[name] = value.detach()
        return _IncompatibleKeys(missing, unexpected)

    # -- hooks and calling --------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before ``forward``; it may return new args (a tuple, or
        one value). With ``with_kwargs``: ``hook(module, args, kwargs) -> (args, kwargs)``."""
        handle = RemovableHandle(self._forward_pre_hooks)
        _insert(self._forward_pre_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` runs after ``forward``; it may return a new output.
        With ``with_kwargs``: ``hook(module, args, kwargs, output)``."""
        handle = RemovableHandle(self._forward_hooks)
        _insert(self._forward_hooks, handle.id, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's tensor inputs are computed; it may return a new ``grad_input``."""
        handle = RemovableHandle(self._backward_hooks)
        _insert(self._backward_hooks, handle.id, hook, prepend)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients with respect to the module's
        outputs are known; it may return a new ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks)
        _insert(self._backward_pre_hooks, handle.id, hook, prepend)
        return handle

    def __call__(self, *args, **kwargs):
        # NOTE: the hook registries read from the instance dict: every attribute read on a
        # Module takes the slow path that __getattr__ forces (~0.4k instructions, Python 3.11
        # does not specialise it), and four per call were a tenth of a small network's forward
        try:
            members = self.__dict__
            hooked = (members["_forward_pre_hooks"] or members["_forward_hooks"]
                      or members["_backward_hooks"] or members["_backward_pre_hooks"])
        except KeyError:  # (a module whose __init__ did not run: the read explains)
            members = self._forward_pre_hooks
        if not hooked:
            return self.forward(*args, **kwargs)
        # (the registries from ``members`` here too: a hooked module's every call reads them)
        pre_hooks = members["_forward_pre_hooks"]
        for hook_id, hook in list(pre_hooks.items()) if pre_hooks else ():
            if hook_id in members["_forward_pre_hooks_with_kwargs"]:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook with kwargs must return None or a tuple of "
                            f"(new_args, new_kwargs), but got {result!r}"
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward_state = None
        if members["_backward_hooks"] or members["_backward_pre_hooks"]:
            backward_state = BackwardHookState(self)
            args = backward_state.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        hooks = members["_forward_hooks"]
        for hook_id, hook in list(hooks.items()) if hooks else ():
            if hook_id in members["_forward_hooks_with_kwargs"]:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if backward_state is not None:
            output = backward_state.wrap_outputs(output)
        return output

    _call_impl = __call__

    # -- printing -----------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """Extra text inside this module's repr (layer sizes, options); override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _add_indent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        if not lines:
            return self._get_name() + "()"
        if len(extra_lines) == 1 and not child_lines:
            return f"{self._get_name()}({extra_lines[0]})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


EXTRA_STATE = "_extra_state"  # the key of a module's get_extra_state() in its state dict


def save_extra_state(module, destination, prefix):
    """``module.get_extra_state()`` under ``prefix + '_extra_state'``, when the module's class
    defines it (PyTorch's rule: only then)."""
    if type(module).get_extra_state is not Module.get_extra_state:
        destination[prefix + EXTRA_STATE] = module.get_extra_state()


def _insert(hooks, key, hook, prepend):
    hooks[key] = hook
    if prepend:
        hooks.move_to_end(key, last=False)
