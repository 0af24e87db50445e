"""Files a command writes where the user says (``predict --out``, ``export --out``): the path is
checked before any work is done, and the file is written atomically, so a failure or a kill
leaves the earlier file (or none), never a half-written one."""

from pathlib import Path

from ..serialization import atomic_write_bytes


def checked_output_path(path, flag, example):
    """``path`` as a Path, once it can be a file: not a folder, in a folder that exists. Else
    a ValueError naming ``flag``, the problem and the fix (``example`` is a file name)."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(f"{flag} {path} is a folder; name a file in it, such as "
                         f"{path / example}")
    folder = path.parent
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise ValueError(f"{flag} {path}: the folder {folder} {what}; create it first or "
                         "name a file in an existing folder")
    return path


def checked_output_folder(path, flag):
    """``path`` as a Path to a folder that exists or can be made (made now, before any work):
    else a ValueError naming ``flag``, the problem and the fix."""
    path = Path(path).expanduser()
    blocking = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        where = "is a file" if blocking == path else f"lies under {blocking}, which is a file"
        raise ValueError(f"{flag} {path} {where}, not a folder; name a new or existing folder "
                         "for the output files")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"{flag} {path}: cannot create the folder ({error.strerror}); name a "
                         "folder you can write to") from None
    return path


def write_output(path, payload):
    """Write the bytes ``payload`` to ``path`` atomically (see io/files.atomic_write)."""
    atomic_write_bytes(path, payload)
