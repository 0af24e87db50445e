"""Whole files, read and written safely.

Reads are bounded: only a regular file is read (a directory, a named pipe, a device such as
``/dev/zero`` behind a symlink are refused before a byte is read, and opening never blocks), and
never more than this machine's memory. Writes are atomic: the bytes go to a temporary file
beside the target, reach the disk, and are then renamed over it, so a crash at any instant
leaves the old file or the new one, never a torn one (and a temporary file, which the next
write to the same path removes). New files get the user's umask, as ``open()`` would give
them."""

import contextlib
import io
import mmap
import os
import re
import stat
import zlib
from pathlib import Path

from ..data.readers._files import file_kind
from .errors import CheckpointError

TEMPORARY_SUFFIX = ".tmp"
_CHUNK = 1 << 24


def memory_limit():
    """The most bytes one file may hold: this machine's physical memory (a file that does not
    fit could never be loaded), or no limit where the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _too_big(name, size, limit):
    return CheckpointError(
        name, f"holds {size:,} bytes, more than this machine's memory ({limit:,} bytes); it "
        "cannot be loaded here"
    )


def read_regular_file(path, limit=None):
    """The bytes (a bytearray) of the regular file at ``path``; anything else raises
    CheckpointError naming it (FileNotFoundError when nothing is there)."""
    limit = memory_limit() if limit is None else limit

    def read(fd, path, size):
        return _read_to_end(fd, path, size, limit)
    return _with_regular_file(path, read, limit)


def map_regular_file(path):
    """The regular file at ``path`` mapped into memory, copy-on-write (``mmap.ACCESS_COPY``,
    PyTorch's default ``MAP_PRIVATE``): its pages are read when touched, and writes to them
    never reach the file. An empty file gives an empty bytearray (nothing to map)."""
    def mapped(fd, path, size):
        if size == 0:
            return bytearray()
        try:
            return mmap.mmap(fd, size, access=mmap.ACCESS_COPY)  # the mapping outlives the fd
        except ValueError:  # it shrank since fstat
            raise CheckpointError(path, "changed while being mapped; load it once it is "
                                  "complete") from None
    return _with_regular_file(path, mapped, None)


def is_mapped(payload):
    """Whether ``payload`` is a file mapped by ``map_regular_file``."""
    return isinstance(payload, mmap.mmap)


def _with_regular_file(path, use, limit):
    """``use(fd, path, size)`` on the regular file at ``path``, opened without blocking."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a named pipe must not wait for a writer
    except FileNotFoundError:
        raise FileNotFoundError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise CheckpointError(path, "is a directory, not a saved file") from None
    except OSError as error:
        raise CheckpointError(path, f"cannot be opened: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(path, f"is {file_kind(info.st_mode)}, not a regular file")
        if limit is not None and info.st_size > limit:
            raise _too_big(path, info.st_size, limit)
        return use(fd, path, info.st_size)
    except OSError as error:
        raise CheckpointError(path, f"cannot be read: {error.strerror}") from None
    finally:
        os.close(fd)


def _read_to_end(fd, name, size, limit):
    """The ``size`` bytes of an open file, read into one buffer (no copies)."""
    buffer = bytearray(size)
    view, done = memoryview(buffer), 0
    reader = io.FileIO(fd, closefd=False)
    while done < size:
        count = reader.readinto(view[done:done + _CHUNK])
        if not count:
            raise CheckpointError(name, f"shrank while being read ({done:,} of {size:,} bytes)")
        done += count
    if os.read(fd, 1):
        raise CheckpointError(name, "grew while being read; load it once it is complete")
    return buffer


def read_stream(f, name, limit=None):
    """Everything a binary file object ``f`` holds, up to ``limit`` bytes (else CheckpointError).
    Read in chunks: ``f.read(n)`` of a buffered file allocates ``n`` bytes before reading, so
    one read bounded by the machine's memory would ask for all of it."""
    limit = memory_limit() if limit is None else limit
    parts, total = [], 0
    while True:
        chunk = f.read(_CHUNK if limit is None else min(_CHUNK, limit + 1 - total))
        if isinstance(chunk, str):
            raise CheckpointError(name, "is open in text mode; open it with mode 'rb'")
        if not chunk:
            return b"".join(parts)
        parts.append(bytes(chunk))
        total += len(chunk)
        if limit is not None and total > limit:
            raise _too_big(name, total, limit)


# -- writing ----------------------------------------------------------------------------------
# The temporary file of a write to DIR/NAME is DIR/.NAME.HOST-PID-RANDOM.tmp: hidden, and not
# ending in the target's suffix, so no reader, glob or data fingerprint takes it for data (and
# `load` refuses one: its checksum fails). HOST and PID say who wrote it, so that the next write
# in DIR can remove the ones whose writer died (a killed process cannot clean up after itself).
_TEMPORARY_NAME = re.compile(r"^\.(?P<name>.+)\.(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[0-9a-f]{8}"
                             + re.escape(TEMPORARY_SUFFIX) + "$")


def _host_tag():
    """8 hex digits naming this machine (processes of others sharing a file system are never
    judged dead from here)."""
    node = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
    return f"{zlib.crc32(node.encode()):08x}"


def temporary_path(path):
    """A fresh name for the temporary file of a write to ``path``, in the same directory."""
    return path.with_name(f".{path.name}.{_host_tag()}-{os.getpid()}-{os.urandom(4).hex()}"
                          f"{TEMPORARY_SUFFIX}")


def _process_is_gone(pid):
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:  # it exists, owned by someone else
        return False
    return False


def remove_dead_writers_temporaries(path):
    """Delete the temporary files, beside ``path``, of writes whose process on this machine no
    longer exists (killed mid-write: it can never finish them); returns their names. Files of
    live writers, of other machines and of unknown form are left alone."""
    if os.name != "posix":  # os.kill(pid, 0) would not be a question there
        return []
    removed, host = [], _host_tag()
    try:
        entries = list(os.scandir(path.parent if str(path.parent) else "."))
    except OSError:
        return []
    for entry in entries:
        match = _TEMPORARY_NAME.match(entry.name)
        if match and match["host"] == host and _process_is_gone(int(match["pid"])):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def is_temporary(path):
    """Whether ``path`` is named like the temporary file of an atomic write."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(TEMPORARY_SUFFIX)


def atomic_write(path, parts, before_commit=None, durable=True):
    """Write the byte strings ``parts`` to ``path`` so that a crash leaves the old file or the
    new one. ``before_commit`` (if given) runs once the new bytes are on disk, just before the
    rename that makes them the file.

    ``durable=False`` skips the two fsyncs (the file's, then its folder's): a crash of the
    process still leaves the old file or the new one, but after a crash of the machine the new
    name may hold a torn file until ``make_durable(path)`` has returned. For writers whose
    readers skip damaged files (training checkpoints); see train/checkpoint.py."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the directory {directory} does not exist")
    remove_dead_writers_temporaries(path)
    temporary = temporary_path(path)
    try:
        # 0o666 and the process umask, as open() does; O_EXCL: never follow or reuse a name
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as error:
        raise _write_error(path, error) from error
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                out.write(part)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if before_commit is not None:
            before_commit()
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _write_error(path, error) from error
        raise
    if durable:
        _fsync_directory(directory)


def make_durable(paths, directory):
    """fsync the files ``paths`` and then their ``directory``: what ``atomic_write(...,
    durable=False)`` left out. A file removed meanwhile is skipped."""
    for path in paths:
        try:  # Windows' fsync needs a handle open for writing
            fd = os.open(path, os.O_RDWR if os.name == "nt" else os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    _fsync_directory(directory)


def _write_error(path, error):
    return OSError(error.errno, f"could not write {path}: {error.strerror}; any previous version "
                                "of the file is intact")


def atomic_write_bytes(path, payload):
    """``atomic_write`` of one byte string."""
    atomic_write(path, [payload])


def _fsync_directory(directory):
    # The rename is durable only once the directory entry itself reaches the disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temporaries(directory):
    """Delete the temporary files that killed writes left in ``directory``; returns their
    names. Call it only while no other process can be writing there (e.g. under a lock)."""
    removed = []
    for entry in Path(directory).iterdir():
        if is_temporary(entry) and entry.is_file():
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return sorted(removed)
