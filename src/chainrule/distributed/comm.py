"""The process group: every process of an ``mpiexec -n N`` launch, as MPI's ``COMM_WORLD``.

mpi4py is imported on first use, never at ``import chainrule``: without it everything else works
and only asking for distributed training says how to install it. Waits poll with a timeout, and
an uncaught exception on any rank aborts the whole launch, so a failed rank never leaves the
others waiting forever.
"""

import datetime
import os
import sys
import time
import traceback

import numpy as np

from ..tensor import Tensor

__all__ = [
    "ReduceOp", "init", "init_process_group", "is_available", "is_initialized", "rank",
    "world_size", "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast",
    "destroy_process_group",
]

INSTALL_HINT = "pip install 'chainrule[mpi]'"
DEFAULT_TIMEOUT_S = 600.0  # PyTorch's default for CPU process groups is 30 min; 10 is plenty here


class ReduceOp:
    """How ``all_reduce`` combines the ranks' tensors."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


_state = {"initialized": False, "timeout": DEFAULT_TIMEOUT_S, "previous_excepthook": None}


def mpi():
    """mpi4py's ``MPI`` module, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(
            "chainrule.distributed needs mpi4py and an MPI runtime, and they are not installed: "
            f"run `{INSTALL_HINT}` (it brings mpi4py and the mpich runtime with its mpiexec), "
            "then launch with `mpiexec -n 2 python your_script.py`"
        ) from error
    return MPI


def is_available():
    """True when mpi4py can be imported (distributed training is possible)."""
    try:
        mpi()
    except ImportError:
        return False
    return True


def _seconds(timeout):
    if timeout is None:
        return float(os.environ.get("CHAINRULE_DIST_TIMEOUT", DEFAULT_TIMEOUT_S))
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def init(timeout=None):
    """Join the ranks of this launch (``mpiexec -n N``; one process alone is a world of one).

    ``timeout`` (seconds or a timedelta; default $CHAINRULE_DIST_TIMEOUT or 600 s) bounds every
    wait for the other ranks. Safe to call more than once."""
    comm = mpi().COMM_WORLD
    _state["timeout"] = _seconds(timeout)
    if not _state["initialized"]:
        _state["initialized"] = True
        if comm.Get_size() > 1:
            _state["previous_excepthook"] = sys.excepthook
            sys.excepthook = _abort_on_uncaught_exception


def init_process_group(backend="mpi", init_method=None, timeout=None, world_size=-1, rank=-1):
    """PyTorch's spelling of ``init``: the only backend is MPI, and mpiexec sets rank and size."""
    if backend not in (None, "mpi"):
        raise ValueError(
            f"backend {backend!r} is not available: chainrule communicates through MPI; use "
            "backend='mpi' (or leave it out) and launch with mpiexec -n N"
        )
    if init_method is not None:
        raise ValueError("init_method is not used: mpiexec connects the ranks; leave it out")
    init(timeout)
    if world_size not in (-1, get_world_size()) or rank not in (-1, get_rank()):
        raise ValueError(
            f"world_size={world_size}, rank={rank} disagree with the MPI launch (world size "
            f"{get_world_size()}, rank {get_rank()}); mpiexec decides them, leave them out"
        )


def destroy_process_group():
    """Leave distributed mode; MPI itself is finalized when Python exits."""
    if _state["initialized"] and _state["previous_excepthook"] is not None:
        sys.excepthook = _state["previous_excepthook"]
    _state.update(initialized=False, previous_excepthook=None)


def is_initialized():
    """True after ``init()``."""
    return _state["initialized"]


def _world():
    if not _state["initialized"]:
        raise RuntimeError(
            "chainrule.distributed is not initialized: call chainrule.distributed.init() first "
            "(under mpiexec -n N, or alone as a world of one)"
        )
    return mpi().COMM_WORLD


def rank():
    """This process's rank, 0 .. world_size() - 1."""
    return _world().Get_rank()


def world_size():
    """The number of ranks in the launch."""
    return _world().Get_size()


get_rank = rank
get_world_size = world_size


def _abort_on_uncaught_exception(exc_type, exc, tb):
    # Print first, then take every rank down: the others would otherwise wait in a collective.
    comm = mpi().COMM_WORLD
    note = (f"chainrule.distributed: rank {comm.Get_rank()} of {comm.Get_size()} stopped with "
            f"{exc_type.__name__}; aborting all ranks (MPI_Abort) so that none waits forever\n")
    previous = _state["previous_excepthook"] or sys.__excepthook__
    if previous is sys.__excepthook__:
        # One write of the whole report: mpiexec forwards a rank's output while it ends the
        # launch, and a traceback written line by line was seen cut after its first lines.
        _write_at_once("".join(traceback.format_exception(exc_type, exc, tb)) + note)
    else:  # the user's own hook (IPython's, a logger's) prints the exception its way
        previous(exc_type, exc, tb)
        _write_at_once(note)
    comm.Abort(1)


def _write_at_once(text):
    """Write ``text`` to stderr in one call, then wait (at most 2 s) until the reader of the
    pipe (mpiexec) has taken it: MPI_Abort ends the launch, and output still in the pipe then
    is lost (seen: a traceback cut after two lines, and a report lost whole)."""
    sys.stderr.flush()
    try:
        fd = sys.stderr.fileno()
        os.write(fd, text.encode("utf-8", "replace"))
    except (OSError, ValueError, AttributeError):  # stderr replaced by an object without a file
        sys.stderr.write(text)
        sys.stderr.flush()
        return
    deadline = time.monotonic() + 2.0
    while _unread_bytes(fd) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the reader has it: a moment to pass it on before the launch ends


def _unread_bytes(fd):
    """Bytes written to the pipe ``fd`` that its reader has not taken yet (0 for a file or a
    terminal, where nothing waits for a reader)."""
    import struct

    try:
        import fcntl
        import termios

        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    except (ImportError, OSError):  # not POSIX, or not a pipe
        return 0


def wait(request, what):
    """Wait for a non-blocking MPI request, at most the init timeout; raise if it runs out."""
    if request.Test():
        return
    deadline = time.monotonic() + _state["timeout"]
    # Poll without pause first: MPI moves a message along only inside MPI calls, and a large
    # all-reduce takes many steps on both sides, so sleeping between tests would stretch it
    # (measured: 2.5 MB went from 2.5 ms to ~15 ms). After a second the other rank is clearly
    # busy elsewhere, and polling slows down to spare the CPU.
    spin_until = time.monotonic() + 1.0
    while not request.Test():
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(
                f"rank {rank()}: waited {_state['timeout']:.0f} s for {what} and the other ranks "
                "never joined; one of them probably failed or is stuck (see its output). Raise "
                "the limit with init(timeout=...) or $CHAINRULE_DIST_TIMEOUT if it is just slow"
            )
        if now > spin_until:
            time.sleep(0.001)


class Work:
    """A started collective (``async_op=True``); ``wait()`` finishes it."""

    def __init__(self, request, what, finish=None):
        self._request, self._what, self._finish = request, what, finish

    def is_completed(self):
        return self._request is None or bool(self._request.Test())

    def wait(self, timeout=None):
        if self._request is not None:
            wait(self._request, self._what)
            self._request = None
            if self._finish is not None:
                self._finish()
        return True


def _array_of(tensor, op):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op} expects a Tensor, got {type(tensor).__name__}")
    array = tensor._data
    if not (array.flags.c_contiguous and array.flags.writeable):
        raise ValueError(
            f"{op} works in place and needs a contiguous, writable tensor; pass "
            "tensor.contiguous() (or a clone) and use the result"
        )
    return array


def _mpi_op(op):
    MPI = mpi()
    ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
           ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}
    if op not in ops:
        raise ValueError(f"unknown reduce op {op!r}; use one of ReduceOp.SUM, AVG, PRODUCT, "
                         "MIN, MAX")
    return ops[op]


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Combine ``tensor`` across all ranks, in place (every rank gets the result)."""
    array = _array_of(tensor, "all_reduce")
    comm = _world()
    if op == ReduceOp.AVG and array.dtype.kind != "f":
        raise ValueError(f"ReduceOp.AVG needs a floating point tensor, got {tensor.dtype}")
    request = comm.Iallreduce(mpi().IN_PLACE, array, op=_mpi_op(op))
    size = comm.Get_size()

    def finish():
        if op == ReduceOp.AVG:
            np.divide(array, size, out=array)
        tensor._bump_version()

    work = Work(request, "all_reduce", finish)
    if async_op:
        return work
    work.wait()


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy ``tensor`` from rank ``src`` into the same tensor on every other rank, in place."""
    array = _array_of(tensor, "broadcast")
    comm = _world()
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src={src} is not a rank (world size {comm.Get_size()})")

    def finish():
        tensor._bump_version()

    work = Work(comm.Ibcast(array, root=src), "broadcast", finish)
    if async_op:
        return work
    work.wait()


def barrier(group=None, async_op=False):
    """Wait until every rank has reached this point."""
    work = Work(_world().Ibarrier(), "barrier")
    if async_op:
        return work
    work.wait()
