"""The run directory: resolved config, metrics.jsonl, checkpoints/ and the report."""

import contextlib
import json
import math
import shutil
import stat
import sys
import time
from pathlib import Path

from ..data.readers._files import CannotReadError, file_kind, read_bytes, reading
from ..io.files import remove_temporaries
from ..serialization import atomic_write_bytes
from .runlock import RunLock

# the files a run reads or appends to as it continues
_RUN_FILES = ("config.toml", "run.json", "metrics.jsonl", "lock", "report.md")


def _toml_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, list)):
        return json.dumps(value)  # a JSON string or list of strings is valid TOML
    return repr(value)


def to_toml(settings):
    """Flat settings as TOML text (None values are left out: TOML has no null)."""
    lines = [f"{key} = {_toml_value(v)}" for key, v in settings.items() if v is not None]
    return "\n".join(lines) + "\n"


class RunDirectory:
    """Owns the files of one run; every file it writes is written atomically or appended
    line by line, so a crash never leaves a torn file."""

    def __init__(self, path):
        self.path = Path(path)
        self.checkpoints = self.path / "checkpoints"
        self.metrics_path = self.path / "metrics.jsonl"
        self.config_path = self.path / "config.toml"

    @classmethod
    def create(cls, out, name):
        out = Path(out)
        path, suffix = out / name, 1
        existing = next(p for p in (out, *out.parents) if p.exists() or p == p.parent)
        if not existing.is_dir():
            raise ValueError(f"--out {out}: {existing} is a file, not a folder; --out names the "
                             "folder that receives run directories")
        try:
            out.mkdir(parents=True, exist_ok=True)
            while True:  # mkdir claims the name: of two runs started at once, each gets its own
                try:
                    path.mkdir()
                    break
                except FileExistsError:
                    suffix += 1
                    path = out / f"{name}-{suffix}"
        except OSError as error:
            raise OSError(error.errno, f"cannot create the run directory {path}: "
                          f"{error.strerror}; make {out} writable or choose another --out") \
                from None
        run = cls(path)
        run.checkpoints.mkdir()
        return run

    @classmethod
    def open_existing(cls, path):
        run = cls(path)
        if not run.path.is_dir():
            raise FileNotFoundError(f"run directory {run.path} does not exist")
        if not run.config_path.exists():
            raise FileNotFoundError(
                f"{run.path} is not a chainrule run directory (no config.toml in it)"
            )
        return run

    def check_files(self):
        """Before a run continues here: each file it reads or appends to is a regular file
        (a named pipe would block a read or write for ever, a folder fails it half-way), and
        checkpoints/ a folder. Else a ValueError naming the path and the fix."""
        for name in (*_RUN_FILES, "checkpoints"):
            path = self.path / name
            try:
                mode = path.stat().st_mode
            except FileNotFoundError:
                continue
            except OSError as error:
                raise CannotReadError(path, error) from None
            folder = name == "checkpoints"
            if (stat.S_ISDIR if folder else stat.S_ISREG)(mode):
                continue
            fix = ("restore the run's own config.toml" if name == "config.toml" else
                   f"move it out of {self.path}" + ("" if folder else
                                                    f" (chainrule writes a new {name})"))
            kind = "a file" if stat.S_ISREG(mode) else file_kind(mode)
            raise ValueError(f"{path} is {kind}, where the run keeps its "
                             f"{'checkpoint folder' if folder else 'file'}; {fix}")

    @contextlib.contextmanager
    def locked(self, really=True):
        """Hold the run's lock for the block (RunInUseError if another process holds it);
        ``really=False`` (the other ranks of a distributed run) does nothing."""
        lock = RunLock(self.path).acquire() if really else None
        try:
            yield self
        finally:
            if lock is not None:
                lock.release()

    @contextlib.contextmanager
    def removed_on_failure(self, really=True):
        """Delete the (new) run directory if the block fails: a run that could not start leaves
        no directory behind."""
        try:
            yield self
        except BaseException:
            if really:
                shutil.rmtree(self.path, ignore_errors=True)
            raise

    def remove_temporaries(self):
        """Delete the temporary files of writes that a killed process left (call it under the
        lock); returns their names."""
        return [name for directory in (self.path, self.checkpoints) if directory.is_dir()
                for name in remove_temporaries(directory)]

    def write_config(self, settings):
        atomic_write_bytes(self.config_path, to_toml(settings).encode())

    def log(self, record):
        """Append one JSON object to metrics.jsonl (non-finite numbers become null)."""
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                 for k, v in record.items()}
        clean.setdefault("time", round(time.time(), 3))
        with open(self.metrics_path, "a") as out:
            out.write(json.dumps(clean) + "\n")
            out.flush()

    def metric_lines(self):
        if not self.metrics_path.exists():
            return 0
        with reading(self.metrics_path), open(self.metrics_path, "rb") as f:
            return sum(1 for _ in f)

    def truncate_metrics(self, lines):
        """Drop records written after the checkpoint we resume from (they will be redone)."""
        if not self.metrics_path.exists():
            return
        with reading(self.metrics_path):
            kept = self.metrics_path.read_bytes().splitlines(keepends=True)[:lines]
        kept = [line for line in kept if line.endswith(b"\n")]  # a torn last line goes too
        atomic_write_bytes(self.metrics_path, b"".join(kept))

    def read_metrics(self):
        """The records of metrics.jsonl. A line that is no JSON object (a damaged or edited
        file) is left out with a warning naming the file and the line: the log serves reports
        and summaries, and one bad line must not stop a run or its resume."""
        if not self.metrics_path.exists():
            return []
        records, bad = [], []
        lines = read_bytes(self.metrics_path, gunzip=False).splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:  # not UTF-8 or not JSON
                record = None
            if isinstance(record, dict):
                records.append(record)
            else:
                bad.append(number)
        if bad and not getattr(self, "_warned_metrics", False):  # once per run directory
            self._warned_metrics = True
            print(f"warning: {self.metrics_path}: {len(bad)} line(s) are not metric records "
                  f"(first: line {bad[0]}); they are left out of the report and the summary",
                  file=sys.stderr)
        return records
