"""Finding and reading dataset files, with errors that say which file and what is wrong."""

import contextlib
import errno
import io
import os
import stat
import zlib
from importlib import resources
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22
# parsing a file into cells takes several times its size in memory; a file whose text is
# larger than this share of the machine's memory could never be read into a table
MEMORY_SHARE = 8


def shipped_file(name):
    """The bytes of a data file shipped inside the package (chainrule/data/files/)."""
    return resources.files("chainrule.data").joinpath("files", name).read_bytes()


def find_files(root, names, folders, dataset, source):
    """Paths of ``names`` (each raw or ``.gz``) in ``root`` or one of its ``folders``.

    Raises FileNotFoundError listing the files expected, where they were looked for, and
    where to get them.
    """
    root = Path(root).expanduser()
    candidates = [root] + [root / folder for folder in folders]
    found, missing = [], []
    for name in names:
        path = next((directory / variant for directory in candidates
                     for variant in (name, name + ".gz") if (directory / variant).is_file()), None)
        (found if path is not None else missing).append(path or name)
    if missing:
        for directory in candidates:  # a folder we may not list hides its files: say so
            if directory.is_dir():
                with reading(directory):
                    os.listdir(directory)
        where = ", ".join(str(directory) for directory in candidates)
        state = "" if root.is_dir() else f" (the directory {root} does not exist)"
        raise FileNotFoundError(
            f"{dataset}: missing {', '.join(missing)}{state}. Expected the files "
            f"{', '.join(names)} (raw or .gz) in one of: {where}. chainrule does not download "
            f"data; get them from {source}"
        )
    return found


class CannotReadError(OSError):
    """A file or folder that is there but cannot be read (no permission, an I/O error): an
    input problem the user fixes (exit status 2), never mistaken for a failed write. The message
    names the path and the fix."""

    def __init__(self, path, error):
        super().__init__(error.errno, error.strerror or str(error))
        self.filename = str(path)
        fixes = {errno.EACCES: "give your user read access to it (e.g. chmod u+r, and u+x on "
                               "its folders) or use a copy you can read",
                 errno.EPERM: "give your user read access to it or use a copy you can read",
                 errno.EISDIR: "it is a folder; name the file in it",
                 errno.ENOTDIR: "a part of the path is a file, not a folder; check the path"}
        fix = fixes.get(error.errno, "check the disk or file system it is on")
        self.message = f"cannot read {path}: {self.strerror}; {fix}"

    def __str__(self):
        return self.message


@contextlib.contextmanager
def reading(path):
    """Turn an OSError raised by reading ``path`` in the block into CannotReadError (a missing
    path stays FileNotFoundError, which callers word themselves)."""
    try:
        yield
    except (FileNotFoundError, CannotReadError):
        raise
    except OSError as error:
        raise CannotReadError(path, error) from None


def read_text(path, encoding="utf-8"):
    """A text file's contents, read as ``read_bytes`` reads (bounded; CannotReadError when it
    is there but cannot be read). A UnicodeDecodeError is left to the caller to word."""
    return read_bytes(path, gunzip=False).decode(encoding)


def file_kind(mode):
    """What a file that is not a regular file is, in words, from its ``st_mode``."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def physical_memory():
    """This machine's memory in bytes, or None when the platform does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def memory_limit():
    """The most bytes of text a data file may hold (see MEMORY_SHARE), or None when the
    platform does not say how much memory it has."""
    memory = physical_memory()
    return None if memory is None else memory // MEMORY_SHARE


def _too_big(path, size, limit, what="holds"):
    return ValueError(
        f"{path} {what} {size:,} bytes or more; reading it would take several times that in "
        f"memory, more than this machine has (the limit is {limit:,} bytes of data): use a "
        "sample of its rows (e.g. the first million lines) or a machine with more memory"
    )


def read_bytes(path, gunzip=True, limit=None):
    """A regular file's bytes, gunzipped when it starts with the gzip magic number (and
    ``gunzip``). Bounded: a named pipe, a device (``/dev/zero``), a directory or a socket is
    refused before a byte is read, opening never blocks, and neither the file nor what it
    decompresses to may exceed ``limit`` (default: ``memory_limit()``)."""
    path = Path(path)
    limit = memory_limit() if limit is None else limit
    with reading(path):
        # O_NONBLOCK: opening a named pipe must not wait for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with io.FileIO(fd, "r") as file:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise ValueError(f"{path} is {file_kind(mode)}, not a file; name a regular file "
                                 "(copy the data into one first)")
            data = _bounded(file, path, limit, "holds")
    if not gunzip or data[:2] != _GZIP_MAGIC:
        return data
    return _gunzipped(path, data, limit)


def _bounded(file, path, limit, what):
    parts, total = [], 0
    while chunk := file.read(_CHUNK):
        total += len(chunk)
        if limit is not None and total > limit:
            raise _too_big(path, total, limit, what)
        parts.append(chunk)
    return b"".join(parts)


def _gunzipped(path, data, limit):
    """The content of gzip ``data`` (members one after another, as gzip writes them), no more
    than ``limit`` bytes: a small file that unpacks to gigabytes is refused, not unpacked."""
    parts, total, rest = [], 0, data
    try:
        while rest[:2] == _GZIP_MAGIC:
            unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)
            pending = rest
            while True:  # never more than one byte past the limit is unpacked
                step = _CHUNK if limit is None else min(_CHUNK, limit + 1 - total)
                chunk = unpacker.decompress(pending, step)
                total += len(chunk)
                if limit is not None and total > limit:
                    raise _too_big(path, total, limit, "unpacks (gzip) to")
                parts.append(chunk)
                pending = unpacker.unconsumed_tail
                if unpacker.eof or not pending:
                    break
            if not unpacker.eof:
                raise EOFError("it ends before the end of its compressed data")
            rest = unpacker.unused_data.lstrip(b"\x00")  # padding between members is allowed
    except (zlib.error, EOFError) as error:
        raise ValueError(
            f"{path}: corrupt or truncated gzip file ({error}); download it again"
        ) from None
    return b"".join(parts)
