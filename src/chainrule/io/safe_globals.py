"""The user's allowlist: globals that a file may name and that loading may then call.

PyTorch's ``torch.serialization`` API, with the same meaning: by default a file may name only
the fixed set of tensor-rebuilding globals (``torch_names``); ``add_safe_globals`` lets the user
say that some class or function of theirs is trusted. chainrule never imports a module that a
file names: a global is found only among the objects given here, by ``module.qualname``.
"""

import contextlib

_user_globals = []  # as PyTorch keeps them: objects, or (object, "module.name") pairs


def add_safe_globals(safe_globals):
    """Trust these classes or functions when a file names them (a list of objects, or of
    ``(object, "module.name")`` pairs for an object saved under another name).

    >>> class MyConfig:
    ...     pass
    >>> chainrule.serialization.add_safe_globals([MyConfig])
    >>> MyConfig in chainrule.serialization.get_safe_globals()
    True
    >>> chainrule.serialization.clear_safe_globals()
    """
    for entry in _checked(safe_globals):
        _user_globals.append(entry)


def get_safe_globals():
    """The globals added with ``add_safe_globals`` (or inside ``safe_globals``), in order."""
    return list(_user_globals)


def clear_safe_globals():
    """Forget every global added with ``add_safe_globals``."""
    _user_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Trust these globals inside a ``with`` block only.

    >>> class MyConfig:
    ...     pass
    >>> with chainrule.serialization.safe_globals([MyConfig]):
    ...     MyConfig in chainrule.serialization.get_safe_globals()
    True
    >>> MyConfig in chainrule.serialization.get_safe_globals()
    False
    """
    before = list(_user_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _user_globals[:] = before


def _checked(entries):
    if not isinstance(entries, (list, tuple)):
        raise TypeError(f"safe globals must be a list of classes or functions, got "
                        f"{type(entries).__name__}")
    for entry in entries:
        if isinstance(entry, tuple):
            if len(entry) != 2 or not isinstance(entry[1], str):
                raise TypeError(f"a safe global given as a tuple must be (object, "
                                f"'module.name'), got {entry!r}")
        elif not full_name(entry):
            raise TypeError(f"{entry!r} has no __module__ and __qualname__ to be found by; "
                            "give it as (object, 'module.name')")
        yield entry


def full_name(obj):
    """``module.qualname`` of a class or function ('' when it has none)."""
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{name}" if isinstance(module, str) and isinstance(name, str) else ""


def user_global(name):
    """The user-allowed object saved as ``name`` ("module.qualname"), or None."""
    for entry in reversed(_user_globals):
        obj, saved_as = entry if isinstance(entry, tuple) else (entry, full_name(entry))
        if saved_as == name:
            return obj
    return None


def is_user_allowed(obj):
    """Whether ``obj`` itself was added by the user (identity, not name)."""
    return any((e[0] if isinstance(e, tuple) else e) is obj for e in _user_globals)
