"""One process at a time in a run directory.

The lock is an advisory ``flock`` on ``RUN/lock``, so the kernel releases it when its process
ends, however it ends: a lock left by a killed process never blocks anyone. The file itself
stays, and says which process last held it (for the message a second process gets). Whether
the lock is held now tells a live run from one killed outright (``is_held``)."""

import os
import socket
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks, runs are not locked
    fcntl = None


class RunInUseError(RuntimeError):
    """Another process is training in this run directory."""


class RunLock:
    def __init__(self, run_path):
        self.path = run_path / "lock"
        self._fd = None

    def acquire(self):
        """Hold the lock, or raise RunInUseError naming the process that holds it."""
        if fcntl is None:
            return self
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as error:  # a run directory we may not write in: we cannot train there
            raise OSError(error.errno, f"could not write {self.path} (the run's lock): "
                                       f"{error.strerror}") from None
        try:
            _lock_exclusively(fd)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunInUseError(
                f"{self.path.parent} is in use by {holder}: two processes must not train in one "
                "run directory. Wait for it to finish (or stop it), then resume."
            ) from None
        except OSError:  # a file system without locks: run unlocked rather than not at all
            os.close(fd)
            return self
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} on {socket.gethostname()}\n".encode())
        self._fd = fd
        return self

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


# `chainrule runs` asks whether a run is alive by taking a shared lock for an instant
# (is_held); a trainer starting in that instant waits for it rather than reporting "in use".
_PROBE_WAIT_S, _PROBE_TRIES = 0.002, 500


def _lock_exclusively(fd):
    """Take the exclusive lock, waiting out shared holders (probes, which let go at once);
    BlockingIOError while another process trains."""
    for _ in range(_PROBE_TRIES):
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            try:  # a shared lock is possible only if no exclusive holder exists
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                raise BlockingIOError from None
            fcntl.flock(fd, fcntl.LOCK_UN)  # that was only a question
        time.sleep(_PROBE_WAIT_S)
    raise BlockingIOError


def is_held(run_path):
    """Whether a process is training in the run now (holds its lock): True or False, or None
    where this cannot be told (no advisory locks on this platform or file system)."""
    if fcntl is None:
        return None
    try:
        # O_NONBLOCK: a named pipe in the lock's place must not make the probe wait
        fd = os.open(run_path / "lock", os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return False  # every run that trains creates it first
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)  # releases the shared lock, if taken
    return False
