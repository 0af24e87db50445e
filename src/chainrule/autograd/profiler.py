"""Where the time goes: a profiler of the ops that forward and backward run, with PyTorch's API
(``torch.profiler.profile`` and ``torch.autograd.profiler.profile``, ``record_function``,
``schedule``, ``key_averages().table()``, ``export_chrome_trace``).

>>> model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
>>> with chainrule.profiler.profile(record_shapes=True) as prof:     # torch.profiler.profile
...     with chainrule.profiler.record_function("step"):
...         model(chainrule.randn(4, 8)).sum().backward()
>>> averages = {event.key: event for event in prof.key_averages()}
>>> averages["Linear"].count, averages["LinearBackward"].count, averages["step"].count
(2, 2, 1)

What is timed: every op (a ``Function``: ``Linear``, ``Tanh``, ``Sum``, ...) from its call to
its return, every node of a backward pass (``LinearBackward``: the time from the end of the
node before it, which is the node's own backward plus the engine's delivery of its gradients),
and the ranges the program names with ``record_function``. An op's self time leaves out the
ops and ranges that ran inside it. Only ops are seen: NumPy work between them (a loss written
with ``.numpy()``, a data loader) shows in the ranges around it, not as an op.

While recording, ``Function.apply`` is replaced by a timing wrapper and a backward observer is
attached; when no profiler records, nothing of it remains (no cost on any op).
"""

import enum
import functools
import json
import os
import sys
import threading
import time
import warnings

from . import engine
from .function import Function, TensorBase

__all__ = ["ScheduledProfile", "profile", "record_function", "ProfilerActivity",
           "ProfilerAction", "schedule", "tensorboard_trace_handler", "supported_activities",
           "EventList", "FunctionEvent", "FunctionEventAvg"]


class ProfilerActivity(enum.Enum):
    """The devices a profile may cover; chainrule computes on the CPU only."""

    CPU = 0
    CUDA = 1
    XPU = 2
    MTIA = 3
    HPU = 4
    PrivateUse1 = 5


def supported_activities():
    return {ProfilerActivity.CPU}


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """PyTorch's step schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the trace is ready after each cycle's last
    active step), ``repeat`` cycles (0: until the profiler stops). ``skip_first_wait`` skips the
    first cycle's wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise ValueError("schedule: wait, warmup, repeat and skip_first must be >= 0 and active "
                         f"> 0, got wait={wait}, warmup={warmup}, active={active}, "
                         f"repeat={repeat}, skip_first={skip_first}")
    cycle = wait + warmup + active

    def action_at(step):
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait
        if repeat and step // cycle >= repeat:
            return ProfilerAction.NONE
        position = step % cycle
        if position < wait:
            return ProfilerAction.NONE
        if position < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if position < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return action_at


def _record_always(step):
    return ProfilerAction.RECORD


# -- recording ----------------------------------------------------------------------------------
class _Window:
    """The events of one recording window, and how to take them."""

    def __init__(self, record_shapes, profile_memory, with_stack):
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack = with_stack
        self.events = []  # FunctionEvent, in the order they ended
        self.boundaries = threading.local()  # per thread: where the running backward's node began

    def add(self, name, start, end, kind, shapes=(), memory=0, stack=()):
        self.events.append(FunctionEvent(name, start, end, threading.get_ident(), kind, shapes,
                                         memory, stack))


_recording = None  # the window taking events now, or None
_lock = threading.Lock()
_plain_apply = Function.__dict__["apply"]


def _shape_of(value):
    return list(value._data.shape) if isinstance(value, TensorBase) else []


def _nbytes(value):
    if isinstance(value, TensorBase):
        return value._data.nbytes
    if isinstance(value, (tuple, list)):
        return sum(_nbytes(v) for v in value)
    return 0


def _caller_stack(depth=5):
    """The program's own frames that led to an op (file:line (function)), innermost first."""
    frame, lines = sys._getframe(2), []
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    while frame is not None and len(lines) < depth:
        path = frame.f_code.co_filename
        if not os.path.abspath(path).startswith(package):
            lines.append(f"{path}({frame.f_lineno}): {frame.f_code.co_name}")
        frame = frame.f_back
    return tuple(lines)


def _timed_apply(cls, *args, **kwargs):
    window = _recording
    if window is None:  # (a call that started just as recording stopped)
        return _plain_apply.__func__(cls, *args, **kwargs)
    shapes = [_shape_of(a) for a in args] if window.record_shapes else ()
    stack = _caller_stack() if window.with_stack else ()
    start = time.perf_counter_ns()
    outputs = _plain_apply.__func__(cls, *args, **kwargs)
    end = time.perf_counter_ns()
    memory = _nbytes(outputs) if window.profile_memory else 0
    window.add(cls.__name__, start, end, "cpu_op", shapes, memory, stack)
    return outputs


def _backward_started():
    window = _recording
    if window is not None:
        starts = getattr(window.boundaries, "starts", None)
        if starts is None:
            starts = window.boundaries.starts = []
        starts.append(time.perf_counter_ns())


def _node_done(node, grad_inputs):
    window = _recording
    starts = getattr(window.boundaries, "starts", None) if window is not None else None
    if not starts:
        return
    end = time.perf_counter_ns()
    memory = _nbytes(grad_inputs) if window.profile_memory else 0
    window.add(node.name(), starts[-1], end, "backward", (), memory)
    starts[-1] = end  # the next node's time begins where this one's ends


def _backward_ended():
    window = _recording
    starts = getattr(window.boundaries, "starts", None) if window is not None else None
    if starts:
        starts.pop()


_detach_observers = []


def _start_recording(window):
    global _recording
    with _lock:
        if _recording is not None:
            raise RuntimeError("a profiler is already recording in this process; chainrule's "
                               "profiler records one profile at a time")
        _recording = window
        Function.apply = classmethod(_timed_apply)
        _detach_observers[:] = [engine.add_backward_start_observer(_backward_started),
                                engine.add_observer(_node_done),
                                engine.add_backward_end_observer(_backward_ended)]


def _stop_recording():
    global _recording
    with _lock:
        Function.apply = _plain_apply
        for detach in _detach_observers:
            detach()
        _detach_observers.clear()
        _recording = None


class record_function:
    """Name a range of the program (``with record_function("data"):`` or as a decorator); it
    shows in the profile beside the ops, with the ops inside it counted in its total time.
    Costs nothing while no profiler records."""

    def __init__(self, name, args=None):
        self.name, self.args = name, args
        self._start = None

    def __enter__(self):
        self._window = _recording
        self._start = time.perf_counter_ns() if self._window is not None else None
        return self

    def __exit__(self, *exc):
        window = self._window
        if window is not None and window is _recording and self._start is not None:
            window.add(self.name, self._start, time.perf_counter_ns(), "user_annotation")
        self._start = None
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


# -- the profiler -------------------------------------------------------------------------------
class ScheduledProfile:
    """``torch.profiler.profile``: record the ops that run between ``start()`` and ``stop()``
    (or inside ``with``), then read them with ``key_averages()``, ``events()`` or
    ``export_chrome_trace(path)``. With a ``schedule``, ``step()`` (once per training step)
    moves through its wait, warmup and active steps and ``on_trace_ready(prof)`` is called
    after each recorded cycle; without one, everything is recorded and ``on_trace_ready`` is
    called at the end.

    ``record_shapes`` keeps each op's input shapes (``key_averages(group_by_input_shape=True)``),
    ``profile_memory`` the bytes of each op's outputs (its allocation), ``with_stack`` the
    program's lines that called it (``group_by_stack_n``). chainrule computes on the CPU: other
    activities are left out with a warning, and FLOP counts and module names are not measured
    (``with_flops`` / ``with_modules`` warn so)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None,
                 record_shapes=False, profile_memory=False, with_stack=False, with_flops=False,
                 with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, use_cuda=None, custom_trace_id_callback=None):
        others = [a for a in (activities or ()) if a != ProfilerActivity.CPU]
        if others or use_cuda:
            warnings.warn(f"profiler: chainrule runs on the CPU only; {others or 'CUDA'} is "
                          "not recorded", stacklevel=2)
        for name, asked in (("with_flops", with_flops), ("with_modules", with_modules)):
            if asked:
                warnings.warn(f"profiler: {name}=True is not measured by chainrule's profiler "
                              "(the table has no such column)", stacklevel=2)
        self.schedule = schedule or _record_always
        self._scheduled = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.record_shapes, self.profile_memory = record_shapes, profile_memory
        self.with_stack = with_stack
        self.step_num = 0
        self.current_action = ProfilerAction.NONE
        self._window = None  # recording now
        self._finished = None  # the last complete window, what the readers read
        self._step_start = None

    # the context manager and the step loop
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        self.current_action = self.schedule(self.step_num)
        if self._records(self.current_action):
            self._open_window()

    def stop(self):
        if self._window is not None:
            self._close_window(save=True)

    def step(self):
        """Mark the end of a training step: the schedule moves on by one."""
        previous = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if self._window is not None:
            self._end_step_range()
            if previous == ProfilerAction.RECORD_AND_SAVE or not self._records(
                    self.current_action):
                self._close_window(save=previous == ProfilerAction.RECORD_AND_SAVE)
        if self._window is None and self._records(self.current_action):
            self._open_window()
        elif self._window is not None:
            self._step_start = time.perf_counter_ns()

    @staticmethod
    def _records(action):
        return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _open_window(self):
        self._window = _Window(self.record_shapes, self.profile_memory, self.with_stack)
        _start_recording(self._window)
        self._step_start = time.perf_counter_ns() if self._scheduled else None

    def _end_step_range(self):
        if self._step_start is not None:
            self._window.add(f"ProfilerStep#{self.step_num - 1}", self._step_start,
                             time.perf_counter_ns(), "user_annotation")
            self._step_start = None

    def _close_window(self, save):
        if self._step_start is not None:
            self._step_start, start = None, self._step_start
            self._window.add(f"ProfilerStep#{self.step_num}", start, time.perf_counter_ns(),
                             "user_annotation")
        _stop_recording()
        self._finished, self._window = self._window, None
        if save and self.on_trace_ready is not None:
            self.on_trace_ready(self)

    # reading what was recorded
    def events(self):
        """Every recorded event of the last finished window, in time order."""
        if self._finished is None:
            raise RuntimeError("profiler: nothing recorded yet; read the profile after the "
                               "with block (or after stop())")
        return EventList(sorted(self._finished.events, key=lambda e: (e.start_ns, -e.end_ns)))

    @property
    def function_events(self):
        return self.events()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0,
                     group_by_overload_name=False):
        return self.events().key_averages(group_by_input_shape, group_by_stack_n)

    def table(self, **options):
        return self.key_averages().table(**options)

    def total_average(self):
        return self.events().total_average()

    @property
    def self_cpu_time_total(self):
        return self.events().self_cpu_time_total

    def export_chrome_trace(self, path):
        """Write the events as a Chrome trace (chrome://tracing, Perfetto): JSON, or gzipped
        JSON when ``path`` ends in ``.gz``."""
        self.events().export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write ``stack;frames value`` lines (flame graph input) for events recorded with
        ``with_stack=True``: the value is ``metric`` in microseconds."""
        if not self.with_stack:
            raise RuntimeError("export_stacks needs profile(with_stack=True)")
        lines = []
        for event in self.events():
            if event.stack:
                value = int(getattr(event, metric.replace("cuda", "device")))
                lines.append(";".join(reversed(event.stack)) + f";{event.name} {value}")
        with open(path, "w") as out:
            out.write("\n".join(lines) + ("\n" if lines else ""))


class profile(ScheduledProfile):
    """``torch.autograd.profiler.profile``, the older API: everything between ``__enter__`` and
    ``__exit__`` is recorded (nothing when ``enabled`` is False)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False,
                 with_flops=False, profile_memory=False, with_stack=False, with_modules=False,
                 use_kineto=False, use_cpu=True, experimental_config=None, acc_events=False,
                 custom_trace_id_callback=None):
        super().__init__(use_cuda=use_cuda or use_device not in (None, "cpu"),
                         record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules)
        self.enabled = enabled

    def start(self):
        if self.enabled:
            super().start()


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each trace to ``dir_name`` as
    ``{worker_name}.{time}.pt.trace.json`` (``.gz`` with ``use_gzip``), the names TensorBoard's
    profiler plugin reads."""
    import socket  # (here: only a handler needs the host name)

    worker = worker_name or f"{socket.gethostname()}_{os.getpid()}"

    def handler(prof):
        os.makedirs(dir_name, exist_ok=True)
        name = f"{worker}.{time.time_ns() // 1_000_000}.pt.trace.json" + (
            ".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, name))

    return handler


# -- events and their table ---------------------------------------------------------------------
class FunctionEvent:
    """One timed op, backward node or named range (times in microseconds)."""

    def __init__(self, name, start_ns, end_ns, thread, kind, input_shapes=(), memory=0,
                 stack=()):
        self.name = self.key = name
        self.start_ns, self.end_ns = start_ns, end_ns
        self.thread, self.kind = thread, kind
        self.input_shapes, self.stack = list(input_shapes), list(stack)
        self.cpu_memory_usage = memory
        self.self_cpu_memory_usage = memory
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None

    @property
    def cpu_time_total(self):
        return (self.end_ns - self.start_ns) / 1000

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(child.cpu_time_total for child in self.cpu_children)

    cpu_time = cpu_time_total
    device_time_total = self_device_time_total = cuda_time_total = self_cuda_time_total = 0.0

    @property
    def time_range(self):
        return (self.start_ns / 1000, self.end_ns / 1000)

    def __repr__(self):
        return (f"<FunctionEvent {self.name} cpu_time_total={self.cpu_time_total:.3f}us "
                f"self={self.self_cpu_time_total:.3f}us>")


class FunctionEventAvg:
    """Events of one name (and shapes or stack, when grouped by them), summed."""

    def __init__(self, key, input_shapes=(), stack=()):
        self.key = key
        self.input_shapes, self.stack = input_shapes, stack
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_time_total = self.self_device_time_total = 0.0
        self.cuda_time_total = self.self_cuda_time_total = 0.0

    def add(self, event):
        self.count += event.count
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total
        self.cpu_memory_usage += event.cpu_memory_usage
        self.self_cpu_memory_usage += event.self_cpu_memory_usage
        return self

    @property
    def cpu_time(self):
        return self.cpu_time_total / self.count if self.count else 0.0

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} count={self.count} "
                f"cpu_time_total={self.cpu_time_total:.3f}us "
                f"self_cpu_time_total={self.self_cpu_time_total:.3f}us>")


def _link_nesting(events):
    """Each event's parent: the innermost event on its thread whose time range holds it."""
    open_by_thread = {}
    for event in events:  # (in start order, longer first on ties)
        event.cpu_children, event.cpu_parent = [], None
        stack = open_by_thread.setdefault(event.thread, [])
        while stack and stack[-1].end_ns <= event.start_ns:
            stack.pop()
        if stack and event.end_ns <= stack[-1].end_ns:
            event.cpu_parent = stack[-1]
            stack[-1].cpu_children.append(event)
        stack.append(event)


class EventList(list):
    """The recorded events; ``key_averages()`` sums them by name, ``table()`` prints them."""

    def __init__(self, events=()):
        super().__init__(events)
        _link_nesting(self)

    @property
    def self_cpu_time_total(self):
        return sum(event.self_cpu_time_total for event in self)

    def total_average(self):
        total = FunctionEventAvg("Total")
        for event in self:
            total.add(event)
        return total

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0):
        groups = {}
        for event in self:
            shapes = str(event.input_shapes) if group_by_input_shape else ""
            stack = tuple(event.stack[:group_by_stack_n]) if group_by_stack_n else ()
            key = (event.key, shapes, stack)
            if key not in groups:
                groups[key] = FunctionEventAvg(event.key, shapes, stack)
            groups[key].add(event)
        averages = EventList.__new__(EventList)
        list.__init__(averages, groups.values())
        return averages

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75,
              max_name_column_width=55, max_shapes_column_width=80, header=None,
              top_level_events_only=False):
        """The events (or averages) as PyTorch prints them: self and total CPU time, their
        share of all self time, calls, and memory and input shapes when recorded."""
        rows = list(self)
        if top_level_events_only:
            rows = [r for r in rows if getattr(r, "cpu_parent", None) is None]
        if sort_by is not None:
            key = sort_by.replace("cuda", "device")
            rows.sort(key=lambda r: getattr(r, key, 0) or 0, reverse=True)
        rows = rows[:row_limit] if row_limit and row_limit > 0 else rows
        total_self = sum(r.self_cpu_time_total for r in self) or 1.0
        with_memory = any(r.cpu_memory_usage for r in self)
        with_shapes = any(r.input_shapes for r in self)
        with_stack = any(r.stack for r in self)
        width = max([len("Name")] + [len(str(r.key)) for r in rows])
        width = min(width, max_name_column_width)
        columns = [("Name", width)] + [(title, 12) for title in (
            "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg")]
        if with_memory:
            columns += [("CPU Mem", 12), ("Self CPU Mem", 12)]
        columns.append(("# of Calls", 12))
        if with_shapes:
            columns.append(("Input Shapes", max_shapes_column_width))
        if with_stack:
            columns.append(("Source Location", max_src_column_width))
        line = "  ".join("-" * w for _, w in columns)
        out = [header] if header else []
        left = ("Name", "Input Shapes", "Source Location")  # (text columns; numbers right)
        out += [line, "  ".join(title.ljust(w) if title in left else title.rjust(w)
                                for title, w in columns), line]
        for r in rows:
            name = str(r.key)
            name = name if len(name) <= width else name[:width - 3] + "..."
            cells = [name.ljust(width),
                     f"{100 * r.self_cpu_time_total / total_self:.2f}%".rjust(12),
                     _format_time(r.self_cpu_time_total).rjust(12),
                     f"{100 * r.cpu_time_total / total_self:.2f}%".rjust(12),
                     _format_time(r.cpu_time_total).rjust(12),
                     _format_time(r.cpu_time_total / max(r.count, 1)).rjust(12)]
            if with_memory:
                cells += [_format_memory(r.cpu_memory_usage).rjust(12),
                          _format_memory(r.self_cpu_memory_usage).rjust(12)]
            cells.append(str(r.count).rjust(12))
            if with_shapes:
                cells.append(str(r.input_shapes)[:max_shapes_column_width].ljust(
                    max_shapes_column_width))
            if with_stack:
                cells.append(str(r.stack[0] if r.stack else "")[:max_src_column_width])
            out.append("  ".join(cells))
        out += [line, f"Self CPU time total: {_format_time(total_self)}", ""]
        return "\n".join(out)

    def export_chrome_trace(self, path):
        pid = os.getpid()
        trace = {"traceEvents": [
            {"ph": "X", "cat": event.kind, "name": event.name, "pid": pid,
             "tid": event.thread, "ts": event.start_ns / 1000,
             "dur": (event.end_ns - event.start_ns) / 1000,
             "args": {"Input Dims": event.input_shapes} if event.input_shapes else {}}
            for event in self], "displayTimeUnit": "ms"}
        text = json.dumps(trace).encode()
        if str(path).endswith(".gz"):
            import gzip

            text = gzip.compress(text)
        partial = f"{path}.partial"
        with open(partial, "wb") as out:  # (a crash leaves no half-written trace)
            out.write(text)
        os.replace(partial, path)


def _format_time(us):
    if us >= 1e6:
        return f"{us / 1e6:.3f}s"
    if us >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def _format_memory(nbytes):
    for unit, size in (("Gb", 1024 ** 3), ("Mb", 1024 ** 2), ("Kb", 1024)):
        if abs(nbytes) >= size:
            return f"{nbytes / size:.2f} {unit}"
    return f"{nbytes} b"
