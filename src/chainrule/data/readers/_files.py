"""Finding and reading dataset files, with errors that say which file and what is wrong."""

import contextlib
import errno
import gzip
import os
import zlib
from importlib import resources
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"


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
    """A text file's contents (CannotReadError when it is there but cannot be read)."""
    with reading(path):
        return Path(path).read_text(encoding=encoding)


def read_bytes(path):
    """A file's bytes, gunzipped when it starts with the gzip magic number."""
    path = Path(path)
    with reading(path):
        data = path.read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{path}: corrupt or truncated gzip file ({error}); download it again"
        ) from None
