"""Whether operations record the graph: ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``. The switch is thread-local, as in PyTorch."""

import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True  # the class attribute is every new thread's starting value


_state = _GradState()


def is_grad_enabled():
    """True when new operations are recorded for backward on this thread."""
    return _state.enabled


def _set_enabled(enabled):
    _state.enabled = enabled


class _GradModeContext:
    """Base for the grad-mode switches: a context manager that also decorates functions
    (with or without parentheses: ``@no_grad()`` and ``@no_grad`` both work)."""

    enabled = True

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])  # used as a bare decorator
        return super().__new__(cls)

    def __init__(self):
        self._previous = []  # a stack, so one instance can be entered again while active

    def __enter__(self):
        self._previous.append(_state.enabled)
        _state.enabled = self.enabled
        return self

    def __exit__(self, *exc_info):
        _state.enabled = self._previous.pop()
        return False

    def __call__(self, fn):
        enabled = self.enabled
        if inspect.isgeneratorfunction(fn):
            return _generator_wrapper(fn, enabled)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = _state.enabled
            _state.enabled = enabled
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper

    def clone(self):
        return type(self)()


def _generator_wrapper(fn, enabled):
    """Decorate a generator function: the mode holds while the generator body runs, and the
    caller's mode is back whenever it yields."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        generator = fn(*args, **kwargs)
        to_send = None
        while True:
            previous = _state.enabled
            _state.enabled = enabled
            try:
                value = generator.send(to_send)
            except StopIteration as stop:
                return stop.value
            finally:
                _state.enabled = previous
            to_send = yield value

    return wrapper


class no_grad(_GradModeContext):  # noqa: N801
    """Run operations without recording them for backward.

    >>> x = chainrule.ones(2, requires_grad=True)
    >>> with chainrule.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    enabled = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record operations again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Turn recording on or off; works as a function call, a context manager or a decorator.

    >>> x = chainrule.ones(2, requires_grad=True)
    >>> with chainrule.set_grad_enabled(False):
    ...     (x * 2).requires_grad
    False
    >>> _ = chainrule.set_grad_enabled(False)   # as a call it switches at once, like PyTorch
    >>> (x * 2).requires_grad
    False
    >>> _ = chainrule.set_grad_enabled(True)
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self.enabled = bool(mode)
        self._previous = [_state.enabled]
        _state.enabled = self.enabled

    def __enter__(self):
        return self  # __init__ already switched

    def __call__(self, fn):
        # Used as a decorator, the switch made by __init__ must not outlive the decoration.
        _state.enabled = self._previous.pop()
        return super().__call__(fn)

    def clone(self):
        return set_grad_enabled(self.enabled)


class _InferenceState(threading.local):
    enabled = False  # inside an inference_mode(True) block on this thread


_inference = _InferenceState()

# Tensors made inside an inference_mode(True) block answer is_inference() True. Checking the
# mode at every tensor creation would cost each op a thread-local read, so the tensor layer
# registers a switch here instead: it is told when the first block (on any thread) opens and
# the last one closes, and only in between does it check the thread's mode per new tensor.
_inference_watchers = []
_open_blocks = [0]
_open_blocks_lock = threading.Lock()


def _count_inference_block(change):
    with _open_blocks_lock:
        before = _open_blocks[0]
        _open_blocks[0] = before + change
        if (before == 0) != (_open_blocks[0] == 0):
            for watcher in _inference_watchers:
                watcher(_open_blocks[0] > 0)


def is_inference_mode_enabled():
    """True inside an ``inference_mode()`` block (or a function it decorates) on this thread."""
    return _inference.enabled


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad``; the tensors made inside answer ``is_inference()`` True (chainrule
    does not refuse the later uses PyTorch refuses them, such as saving for backward). As
    PyTorch's ``InferenceMode`` guard, ``mode=False`` turns inference mode off and recording
    on for the block, even inside ``no_grad`` or an outer ``inference_mode()``;
    ``is_inference_mode_enabled()`` says which holds."""

    def __init__(self, mode=True):
        super().__init__()
        self.mode = bool(mode)
        self.enabled = not self.mode
        self._previous_inference = []

    def __enter__(self):
        self._previous_inference.append(_inference.enabled)
        _inference.enabled = self.mode
        if self.mode:
            _count_inference_block(1)
        return super().__enter__()

    def __exit__(self, *exc_info):
        _inference.enabled = self._previous_inference.pop()
        if self.mode:
            _count_inference_block(-1)
        return super().__exit__(*exc_info)

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            return _generator_in_context(fn, self.clone)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return inference_mode(self.mode)


def _generator_in_context(fn, make_context):
    """Decorate a generator function: a fresh ``make_context()`` is entered around each step
    of its body (grad mode and inference mode both follow the body), and the caller's modes
    are back whenever it yields."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        generator = fn(*args, **kwargs)
        to_send = None
        while True:
            with make_context():
                try:
                    value = generator.send(to_send)
                except StopIteration as stop:
                    return stop.value
            to_send = yield value

    return wrapper


_multithreading = [True]


class set_multithreading_enabled:  # noqa: N801 - PyTorch's spelling
    """``torch.autograd.set_multithreading_enabled(mode)``: PyTorch's switch for running
    backward passes of several devices on their own threads. chainrule's backward always runs
    on the calling thread, so the switch is kept (``is_multithreading_enabled``) and changes
    nothing else; as a context manager it restores the previous value."""

    def __init__(self, mode):
        self.previous = _multithreading[0]
        _multithreading[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _multithreading[0] = self.previous
        return False


def is_multithreading_enabled():
    return _multithreading[0]
