"""A run as a versioned model: ``run.json`` records its status (running, finished,
interrupted, failed; a run killed outright is found out by ``current_status``), chainrule's
version, a fingerprint of its data, the data's description, and its best and test metrics.
It is rewritten atomically at each change of status."""

import datetime
import hashlib
import json
import os
from pathlib import Path

from .._version import __version__
from ..data.readers._files import read_text, shipped_file
from ..serialization import atomic_write_bytes
from .interrupt import STOP_SIGNALS, exit_status
from .runlock import is_held

RUN_FILE = "run.json"
_BUILT_IN = {"digits": "digits.npz", "text": "macbeth.txt.gz"}
_CHUNK = 1 << 20


def _hash_file(digest, path):
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)


def data_fingerprint(config):
    """'sha256:<hex>' of the data the config trains on: the shipped file of a built-in set, the
    bytes of a file, or every file under a folder (relative paths and contents, sorted).
    None when the data cannot be read (the error comes from loading it)."""
    digest = hashlib.sha256()
    if config.data in _BUILT_IN:
        digest.update(shipped_file(_BUILT_IN[config.data]))
        return "sha256:" + digest.hexdigest()
    path = Path(config.data_path or "").expanduser()
    try:
        if path.is_file():
            _hash_file(digest, path)
        elif path.is_dir():
            for file in _files_under(path):
                relative = file.relative_to(path)
                if any(part.startswith(".") for part in relative.parts):
                    continue
                digest.update(str(relative).encode() + b"\0")
                _hash_file(digest, file)
        else:
            return None
    except OSError:
        return None
    return "sha256:" + digest.hexdigest()


def _files_under(folder):
    """Every file under ``folder``, sorted, through linked folders (as image folders are read),
    each real folder once."""
    found, seen = [], set()
    for directory, subfolders, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(directory)
        if real in seen:
            subfolders[:] = []
            continue
        seen.add(real)
        found += [Path(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]
    return sorted(found)


def _now():
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def current_status(run_path, record):
    """The run's status now: run.json's, except that a run recorded as running whose lock no
    process holds was killed outright (SIGKILL, out of memory, a power cut) before it could
    record how it ended: 'killed' (it resumes from its newest checkpoint)."""
    status = record.get("status")
    if status == "running" and is_held(Path(run_path)) is False:
        return "killed"
    return status


def read_record(run_path):
    """The run.json of a run directory as a dict ({} when absent or unreadable). A damaged or
    edited file is read for what it still says: entries of the wrong type (a status that is no
    text, a best without a numeric value, ...) are left out, never trusted."""
    try:
        record = json.loads(read_text(Path(run_path) / RUN_FILE))  # bounded: no pipe blocks
    except (OSError, ValueError):
        return {}
    if not isinstance(record, dict):
        return {}
    return {key: value for key, value in record.items() if _well_typed(key, value)}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_text(value):
    return isinstance(value, str)


# what each run.json entry the code reads must be; other entries are kept as they are
_ENTRY_CHECKS = {
    **{key: _is_text for key in ("status", "fingerprint", "created", "updated", "model",
                                 "chainrule_version", "data", "data_name", "error")},
    "data_path": lambda v: v is None or _is_text(v),
    "data_from_run": _is_text,
    "resumable": lambda v: isinstance(v, bool),
    "epochs": _is_number,
    "best": lambda v: isinstance(v, dict) and _is_text(v.get("metric"))
    and _is_number(v.get("value")),
    "test": lambda v: isinstance(v, dict) and all(_is_text(k) and (_is_number(x) or x is None)
                                                  for k, x in v.items()),
    "earlier_fingerprints": lambda v: isinstance(v, list) and all(map(_is_text, v)),
}


def _well_typed(key, value):
    check = _ENTRY_CHECKS.get(key)
    return check is None or check(value)


def _write(run_path, record):
    atomic_write_bytes(Path(run_path) / RUN_FILE,
                       (json.dumps(record, indent=2, sort_keys=True) + "\n").encode())


def start(run, config, task, fingerprint=None):
    """Record a run starting (or resuming): status 'running'. ``fingerprint`` is the data's,
    when already computed; a resumed run whose data changed keeps the earlier ones."""
    record = read_record(run.path) or {"created": _now()}
    fingerprint = fingerprint or data_fingerprint(config)
    earlier = record.get("fingerprint")
    if earlier and fingerprint and earlier != fingerprint:
        record["earlier_fingerprints"] = record.get("earlier_fingerprints", []) + [earlier]
    record.update(status="running", updated=_now(), chainrule_version=__version__,
                  model=config.model, data=config.data, data_path=config.data_path,
                  data_name=task.name, fingerprint=fingerprint)
    if config.data_path:  # so that a run moved together with its data still finds it
        record["data_from_run"] = os.path.relpath(os.path.abspath(config.data_path),
                                                  os.path.abspath(run.path))
    record.pop("error", None)
    _write(run.path, record)
    return record


def find_moved_data(run_path, config):
    """Where the data of the run in ``run_path`` is now when it is no longer at the path its
    configuration names but lies where it lay from the run directory (the run and its data
    moved or were copied together); None otherwise. ``config.data_path`` is set to it."""
    if not config.data_path or os.path.exists(os.path.expanduser(config.data_path)):
        return None
    relative = read_record(run_path).get("data_from_run")
    if relative is None:
        return None
    moved = os.path.normpath(os.path.join(os.path.abspath(run_path), relative))
    if not os.path.exists(moved):
        return None
    config.data_path = moved
    return moved


class DataChangedError(ValueError):
    """The data of a run is not the data it trained on (its fingerprint differs)."""


def fingerprints(run_path, config):
    """(recorded, current): the fingerprint run.json recorded for the run in ``run_path`` and
    that of the data ``config`` names now; either is None when unknown (a run from before
    run.json, data that cannot be read)."""
    return read_record(run_path).get("fingerprint"), data_fingerprint(config)


def changed(recorded, current):
    """Whether two fingerprints say the data changed (unknown ones say nothing)."""
    return bool(recorded and current and recorded != current)


def describe_change(config, recorded, current):
    """One sentence on a data change, for messages."""
    where = config.data_path or f"the built-in {config.data} data"
    recorded, current = (f.removeprefix("sha256:")[:12] for f in (recorded, current))
    return (f"the data has changed since the run trained on it: {where} has fingerprint "
            f"{current} now, {recorded} then")


def summary(run, metric):
    """Epochs trained, the best value of ``metric`` and the test metrics, from metrics.jsonl."""
    records = run.read_metrics()
    epochs = [r for r in records if r.get("kind") == "epoch"]
    tests = [r for r in records if r.get("kind") == "test"]
    values = [(r[metric], r.get("epoch")) for r in epochs if _is_number(r.get(metric))]
    summary = {"epochs": len(epochs)}
    if values:
        pick = max if metric.endswith("accuracy") else min
        value, epoch = pick(values, key=lambda pair: pair[0])
        summary["best"] = {"metric": metric, "value": value, "epoch": epoch}
    if tests:
        summary["test"] = {k: v for k, v in tests[-1].items() if k.startswith("test_")}
    return summary


def track(run, config, action):
    """Run ``action()`` (the fit and report; returns an exit status) and record how it ended:
    0 finished, 130 or 143 interrupted (Ctrl-C, SIGTERM), an exception failed (and it is
    raised again)."""
    try:
        status = action()
    except BaseException as error:
        _finish(run, config, "interrupted" if isinstance(error, KeyboardInterrupt) else "failed",
                f"{type(error).__name__}: {error}", resumable=_write_failure(error))
        raise
    stopped = {exit_status(number) for number in STOP_SIGNALS}
    _finish(run, config, "finished" if status == 0 else
            "interrupted" if status in stopped else "failed")
    return status


def _write_failure(error):
    """Whether a run failed writing a file (a full disk, no permission): its checkpoints before
    it hold, so it resumes once it can write. A read error is the data's, not a write's."""
    from ..data.readers._files import CannotReadError

    return isinstance(error, OSError) and not isinstance(error, (FileNotFoundError,
                                                                 CannotReadError))


def _finish(run, config, status, error=None, resumable=False):
    record = read_record(run.path)
    record.update(status=status, updated=_now(), **summary(run, config.early_stopping_metric))
    record.pop("resumable", None)
    if error:
        record["error"] = error
    if resumable:
        record["resumable"] = True
    _write(run.path, record)
