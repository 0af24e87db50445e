"""Figures drawn by helper processes while the caller goes on (the training run's report).

NOTE: why. Importing matplotlib takes about 0.6 s of CPU and drawing the demo's four report
figures about 1.5 s, all after training, on one core while the machine's other core idles.
Helpers started during training import matplotlib (and load its fonts) on that idle core; at
the report, each figure goes to a helper and the run goes on at once (explaining, writing the
report) while the helpers draw, side by side. The figures are the same bytes as drawn in the
process itself (tests/diagnostics/test_plot_helpers.py).

A drawing function marked ``@offloaded`` takes the output path first and returns it; inside
``helping(helpers)`` a call is queued to a helper and returns the path at once, and leaving the
block waits until every queued figure is written. A helper that is not ready (still starting)
or fails is not waited for: its figures are drawn in the process itself, so errors (no
matplotlib, a bad value) surface where they would have without helpers.

A helper runs ``serve()``: it reads pickled jobs (module,
function, arguments) from stdin and answers each with a pickled (ok, error) on stdout."""

import contextlib
import functools
import importlib
import os
import pickle
import select
import signal
import subprocess
import sys
from pathlib import Path

VARIABLE = "CHAINRULE_PLOT_HELPERS"  # how many helpers a run may start; 0: draw in-process
_active = None  # the Helpers that offloaded calls go to, inside ``helping``


def offloaded(function):
    """Mark a drawing function ``function(path, *args) -> Path`` as one a helper may run."""

    @functools.wraps(function)
    def call(path, *args):
        if _active is not None and _active.submit(call, path, args):
            return Path(path)
        return function(path, *args)

    return call


def plots_possible():
    """Whether matplotlib can be imported here (without importing it)."""
    if "matplotlib" in sys.modules:
        return sys.modules["matplotlib"] is not None
    return importlib.util.find_spec("matplotlib") is not None


def wanted():
    """How many helpers to start: CHAINRULE_PLOT_HELPERS, else 2 (they start on the core that
    training leaves idle and draw on both), none on one core; 0 without matplotlib, and on
    Windows (whose select() cannot poll a pipe)."""
    if os.name == "nt" or not plots_possible():
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        return max(0, int(os.environ.get(VARIABLE, 2 if (cores or 1) > 1 else 0)))
    except ValueError:
        raise ValueError(f"{VARIABLE} must be a whole number of helper processes") from None


# NOTE: the helper loads the drawing modules without running the package's __init__ files,
# which import all of chainrule (about a third of a second); the drawing modules need only
# NumPy and matplotlib.
_PACKAGE = Path(__file__).resolve().parents[1]
_PACKAGES = [(name, str(_PACKAGE.joinpath(*name.split(".")[1:])))
             for name in ("chainrule", "chainrule.diagnostics", "chainrule.explain",
                          "chainrule.train")]
_HELPER = "\n".join([
    "import sys, types",
    f"for name, path in {_PACKAGES!r}:",
    "    sys.modules[name] = package = types.ModuleType(name)",
    "    package.__path__ = [path]",
    f"from {__name__} import serve",
    "serve()"])


def core_idle():
    """Whether a core is idle besides the one the training runs on: the thread policy's
    ``free_cores()`` (the CPU time other processes used lately) at two or more. Helpers on a
    busy machine would take the cores from the training and add their own start-up (about 1 s
    of CPU each)."""
    from ..kernels.threads import free_cores

    return free_cores() >= 2


class _Helper:
    def __init__(self):
        environment = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
                           OMP_NUM_THREADS="1")
        # its own session: a Ctrl-C at the terminal is for the run, which closes the helper
        command = [sys.executable, "-c", _HELPER]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        env=environment, start_new_session=True)
        self.ready = None  # unknown until its first answer
        self.jobs = []  # (function, path, args) sent and not yet answered

    def is_ready(self, timeout=0.0):
        """Whether it has started and imported matplotlib (waiting at most ``timeout`` s)."""
        if self.ready is None:
            readable, _, _ = select.select([self.process.stdout], [], [], timeout)
            if readable:
                self.ready = self._answer() == (True, None)
        return bool(self.ready)

    def _answer(self):
        try:
            return pickle.load(self.process.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            return (False, "the helper exited")

    def send(self, function, path, args):
        try:
            pickle.dump((function.__module__, function.__name__, path, args),
                        self.process.stdin)
            self.process.stdin.flush()
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            self.ready = False
            return False
        self.jobs.append((function, path, args))
        return True

    def finish(self):
        """Wait for its jobs; those it could not draw are drawn here."""
        jobs, self.jobs = self.jobs, []
        for function, path, args in jobs:
            if not self.ready or self._answer() != (True, None):
                self.ready = False
                function.__wrapped__(path, *args)

    def close(self):
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


class Helpers:
    """``count`` helper processes, started now; ``close()`` ends them."""

    def __init__(self, count):
        self.helpers = [_Helper() for _ in range(count)]
        self.sent = 0

    def submit(self, function, path, args):
        """Queue a figure to the next ready helper; False if none is ready."""
        ready = [h for h in self.helpers if h.is_ready()]
        if not ready:
            return False
        helper = ready[self.sent % len(ready)]
        self.sent += 1
        return helper.send(function, path, args)

    def finish(self):
        for helper in self.helpers:
            helper.finish()

    def close(self):
        for helper in self.helpers:
            helper.close()


@contextlib.contextmanager
def helping(helpers):
    """Offloaded figures go to ``helpers`` (None: drawn here) in the block; leaving it waits
    until they are all written."""
    global _active
    if helpers is None:
        yield
        return
    _active = helpers
    try:
        yield
    finally:
        _active = None
    helpers.finish()


def _warm_up():
    """Load what a first figure loads (fonts, the math text parser of log axes)."""
    import io

    import matplotlib.pyplot as plt

    figure, (lines, image) = plt.subplots(1, 2, figsize=(4, 2))
    lines.plot([1, 10, 100], [1, 10, 100])
    lines.set_yscale("log")
    lines.set_title("warm", fontsize=8)
    figure.colorbar(image.imshow([[0, 1]]), ax=image)
    figure.savefig(io.BytesIO(), format="png", dpi=20)
    plt.close(figure)


def serve():
    """The helper's loop: answer jobs from stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print must not end up in the answers
    jobs = sys.stdin.buffer
    try:
        import matplotlib

        matplotlib.use("Agg")
        _warm_up()
    except Exception as error:  # any failure: the run draws in-process
        pickle.dump((False, repr(error)), answers)
        answers.flush()
        return
    pickle.dump((True, None), answers)
    answers.flush()
    while True:
        try:
            module, name, path, args = pickle.load(jobs)
        except EOFError:
            return
        try:
            getattr(importlib.import_module(module), name).__wrapped__(path, *args)
            answer = (True, None)
        except Exception as error:  # the run draws it again, and raises
            answer = (False, repr(error))
        pickle.dump(answer, answers)
        answers.flush()

