"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``. The switch is thread-local, as in PyTorch."""

import functools
import threading

_state = threading.local()


def is_grad_enabled():
    """True when new operations are recorded for backward on this thread."""
    return getattr(_state, "enabled", True)


def _set_enabled(enabled):
    _state.enabled = enabled


class _GradModeContext:
    """Base for the grad-mode switches: a context manager that also decorates functions."""

    enabled = True

    def __enter__(self):
        self._previous = is_grad_enabled()
        _set_enabled(self.enabled)
        return self

    def __exit__(self, *exc_info):
        _set_enabled(self._previous)
        return False

    def __call__(self, fn):
        enabled = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = is_grad_enabled()
            _set_enabled(enabled)
            try:
                return fn(*args, **kwargs)
            finally:
                _set_enabled(previous)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801
    """Run operations without recording them for backward.

    >>> with chainrule.no_grad():
    ...     y = x * 2          # y.requires_grad is False
    """

    enabled = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record operations again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn recording on or off; works as a function call, a context manager or a decorator."""

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._previous = is_grad_enabled()
        _set_enabled(self.enabled)

    def __enter__(self):
        return self

    def __call__(self, fn):
        # Used as a decorator, the switch made by __init__ must not outlive the decoration.
        _set_enabled(self._previous)
        return super().__call__(fn)


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (chainrule has no separate inference tensors); ``mode=False`` is a no-op."""

    def __init__(self, mode=True):
        self.enabled = not mode
