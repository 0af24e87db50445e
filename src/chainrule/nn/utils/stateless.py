"""``torch.nn.utils.stateless``: ``torch.func.functional_call`` (whose older spelling here warns
as PyTorch's does) and ``torch.func.stack_module_state``: calling a module with parameters and
buffers given for the call, as functions of them (for ``grad``/``vmap`` over weights, model
ensembles, meta-learning).

During the call the module's ``_parameters``/``_buffers`` entries are the given tensors
(plain tensors are fine, and they keep their graphs); afterwards the originals are back, even
when the call raises. With ``tie_weights`` a tensor given for one name of a parameter shared by
several modules is used at all of them."""

import warnings

from ...ops.join import stack
from ..modules.module import Module


def _merged(parameter_and_buffer_dicts):
    if isinstance(parameter_and_buffer_dicts, dict):
        return dict(parameter_and_buffer_dicts)
    merged, repeated = {}, []
    for mapping in parameter_and_buffer_dicts:
        for name, value in mapping.items():
            if name in merged:
                repeated.append(name)
            merged[name] = value
    if repeated:
        raise ValueError(f"{sorted(set(repeated))} appeared in multiple dictionaries; behavior "
                         "of functional call is ambiguous")
    return merged


def _slots(module):
    """(dotted name, owning module, kind, local name, current value) for every parameter and
    buffer, shared ones once per place they are registered."""
    slots = []
    for prefix, owner in module.named_modules(remove_duplicate=False):
        for kind in ("_parameters", "_buffers"):
            for local, value in owner.__dict__[kind].items():
                if value is not None:
                    name = f"{prefix}.{local}" if prefix else local
                    slots.append((name, owner, kind, local, value))
    return slots


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """The deprecated spelling of ``torch.func.functional_call``."""
    warnings.warn("torch.nn.utils.stateless.functional_call is deprecated as of PyTorch 2.0 and "
                  "will be removed in a future version of PyTorch. Please use "
                  "torch.func.functional_call instead which is a drop-in replacement.",
                  FutureWarning, stacklevel=2)
    return call_with(module, parameter_and_buffer_dicts, args, kwargs,
                     tie_weights=tie_weights, strict=strict)


def call_with(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
              tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named parameters and buffers replaced by the given
    tensors for this call only (``torch.func.functional_call``)."""
    if not isinstance(module, Module):
        raise TypeError(f"functional_call: expected an nn.Module, got {type(module).__name__}")
    given = _merged(parameter_and_buffer_dicts)
    slots = _slots(module)
    names = {name for name, *_ in slots}
    if strict:
        missing = sorted(names - set(given))
        unexpected = sorted(set(given) - names)
        if missing or unexpected:
            lines = [f"Error(s) in reparametrizing for {module._get_name()}:"]
            if missing:
                lines.append("\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
            if unexpected:
                lines.append("\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected)
                             + ".")
            raise RuntimeError("\n".join(lines))
    by_identity = {}
    if tie_weights:
        for name, *_, value in slots:
            if name in given:
                by_identity[id(value)] = given[name]
    swapped = []
    try:
        for name, owner, kind, local, value in slots:
            replacement = given.get(name, by_identity.get(id(value)))
            if replacement is not None:
                table = owner.__dict__[kind]
                swapped.append((table, local, table[local]))
                table[local] = replacement
        args = args if isinstance(args, tuple) else (() if args is None else (args,))
        return module(*args, **(kwargs or {}))
    finally:
        for table, local, original in reversed(swapped):
            table[local] = original


def stack_module_state(models):
    """(params, buffers): each model's parameters and buffers stacked along a new first
    dimension, by name, as new leaves (parameters require grad), for ``vmap`` over an
    ensemble with ``functional_call``."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if len({type(m) for m in models}) != 1 or any(m.training != models[0].training
                                                     for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class "
                           "and all to be in the same mode (train or eval).")
    names = [name for name, _ in models[0].named_parameters()]
    params = {name: stack([dict(m.named_parameters())[name].detach() for m in models])
              .requires_grad_() for name in names}
    buffer_names = [name for name, _ in models[0].named_buffers()]
    buffers = {name: stack([dict(m.named_buffers())[name] for m in models])
               for name in buffer_names}
    return params, buffers
