"""``torch.jit``, eagerly: chainrule has no TorchScript compiler, and, as ``torch.compile``
returns the model unchanged, ``script`` and ``trace`` give back what they are given, so code
written to be scriptable runs as plain Python. The decorators and questions such code uses
(``ignore``, ``unused``, ``export``, ``is_scripting()``, ``is_tracing()``, ``Final``,
``torch.jit.annotations``) answer as in eager PyTorch. Writing or reading a TorchScript
archive (``save``, ``load``) raises: save the ``state_dict`` with ``torch.save`` instead, or
export with ``torch.onnx.export``."""

import typing

from . import annotations

__all__ = ["Final", "ScriptFunction", "ScriptModule", "annotations", "export", "ignore",
           "is_scripting", "is_tracing", "load", "save", "script", "trace", "trace_module",
           "unused"]

Final = typing.Final


class ScriptModule:
    """The class of compiled modules; chainrule never makes one (``script`` returns the
    module itself), so ``isinstance(m, torch.jit.ScriptModule)`` is False."""


class ScriptFunction:
    """The class of compiled functions; chainrule never makes one."""


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """Return ``obj`` (a module, function or class) unchanged: it runs eagerly."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, _force_outplace=False, _module_class=None,
          _compilation_unit=None, example_kwarg_inputs=None, _store_inputs=True):
    """Return ``func`` unchanged (no graph is recorded): it runs eagerly on any input."""
    return func


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None,
                 check_tolerance=1e-5, strict=True, _force_outplace=False,
                 _module_class=None, _compilation_unit=None, example_inputs_is_kwarg=False,
                 _store_inputs=True):
    """Return ``mod`` unchanged."""
    return mod


def ignore(drop=False, **kwargs):
    """``@torch.jit.ignore`` or ``@torch.jit.ignore(drop=True)``: the function, unchanged."""
    if callable(drop):
        return drop
    return lambda fn: fn


def unused(fn):
    """``@torch.jit.unused``: the function, unchanged."""
    return fn


def export(fn):
    """``@torch.jit.export``: the method, unchanged."""
    return fn


def is_scripting():
    """False: code always runs eagerly here."""
    return False


def is_tracing():
    """False: nothing is ever traced here."""
    return False


def _no_archives(action):
    return RuntimeError(
        f"torch.jit.{action}: chainrule runs models eagerly and has no TorchScript archives; "
        "save model.state_dict() with torch.save (and rebuild the model from its code), or "
        "export with torch.onnx.export")


def save(m, f, _extra_files=None):
    raise _no_archives("save")


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    raise _no_archives("load")
