"""Finding and reading dataset files, with errors that say which file and what is wrong."""

import gzip
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
        where = ", ".join(str(directory) for directory in candidates)
        state = "" if root.is_dir() else f" (the directory {root} does not exist)"
        raise FileNotFoundError(
            f"{dataset}: missing {', '.join(missing)}{state}. Expected the files "
            f"{', '.join(names)} (raw or .gz) in one of: {where}. chainrule does not download "
            f"data; get them from {source}"
        )
    return found


def read_bytes(path):
    """A file's bytes, gunzipped when it starts with the gzip magic number."""
    path = Path(path)
    data = path.read_bytes()
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(
            f"{path}: corrupt or truncated gzip file ({error}); download it again"
        ) from None
