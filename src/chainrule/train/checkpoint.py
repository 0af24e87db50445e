"""Training checkpoints: everything needed to continue a run bit for bit.

A checkpoint holds the model, optimizer and scheduler states, the random number generators'
states, the position in the data order (epoch, batch), the step, the metric history, the
configuration, and format/library versions. Files are written atomically; the last N and the
best are kept.

What is on disk decides, after any crash:
- the newest step checkpoint that passes every check is the one a run resumes from; damaged,
  foreign or unreadable ones are reported and skipped, never used;
- the best checkpoint is the one the newest usable step checkpoint names (``state["best"]``,
  the epoch whose end it was written at). ``best.safetensors`` is a copy of it, written just
  after the step checkpoint; when a crash fell between the two writes, it is stale, and
  ``best_checkpoint`` notices and takes the step checkpoint instead (and a resumed run copies
  it over, ``restore_best_copy``).
A resumed run sets aside (renames) the step checkpoints it had to skip."""

import dataclasses
import re
from pathlib import Path

from .._version import __version__
from ..io.errors import CheckpointError
from ..io.files import atomic_write, atomic_write_bytes, read_regular_file
from ..serialization import deserialize, serialize
from .config import Config
from .state_checks import checked_settings

FORMAT_VERSION = 1
BEST_NAME = "best.safetensors"
_STEP_FILE = re.compile(r"step-(\d+)\.safetensors$")


@dataclasses.dataclass
class Checkpoint:
    """A checkpoint file read and checked: its path, its state and its validated settings."""

    path: Path
    state: dict
    config: Config

    @property
    def position(self):
        return self.state["position"]


def save_checkpoint(run, state, step, keep_last, is_best=False, reached=None, sync=None):
    """Write ``state`` as checkpoints/step-N, then (when it is the best so far) as
    checkpoints/best, then drop all but the newest ``keep_last`` step checkpoints.
    ``reached(phase)``, if given, is called at the "checkpoint" and "best" phases (the test
    hook of train/faults.py). With ``sync`` (a train/durable.BackgroundSync), the files are
    fsynced on its thread, and the older ones are dropped only once the previous checkpoint's
    files are durable; the caller waits for ``sync`` before calling the checkpoint saved."""
    reached = reached or (lambda phase: None)
    state = dict(state, format_version=FORMAT_VERSION, chainrule_version=__version__)
    parts = serialize(state)
    path = run.checkpoints / f"step-{step:09d}.safetensors"
    durable = sync is None
    atomic_write(path, parts, before_commit=lambda: reached("checkpoint"), durable=durable)
    written = [path]
    if is_best:
        reached("best")
        written.append(run.checkpoints / BEST_NAME)
        atomic_write(written[-1], parts, durable=durable)
    if sync is not None:
        sync.start(written, run.checkpoints)  # after the previous checkpoint's are on disk
    older = step_checkpoints(run)[:-keep_last]
    if sync is not None and older and keep_last < 2:
        sync.wait()  # the one about to go is the only durable one: the new one first
    for old in older:
        if old.is_file() or old.is_symlink():  # a directory in its place is not ours to delete
            old.unlink(missing_ok=True)
    return path


def step_checkpoints(run):
    """The step checkpoints of a run, oldest first."""
    found = [p for p in run.checkpoints.glob("step-*.safetensors") if _STEP_FILE.search(p.name)]
    return sorted(found, key=lambda p: int(_STEP_FILE.search(p.name).group(1)))


def read_checkpoint(path):
    """Load a checkpoint file and check that it is one chainrule can continue from: a
    Checkpoint, or CheckpointError naming the file."""
    path = Path(path)
    try:
        payload = read_regular_file(path)
    except FileNotFoundError:
        raise CheckpointError(path, "does not exist (it was removed while being read)") from None
    return parse_checkpoint(payload, path)


def parse_checkpoint(payload, path):
    """``read_checkpoint`` of a file's bytes, ``payload``."""
    state = deserialize(payload, str(path))
    return Checkpoint(path, state, checked_settings(path, state, FORMAT_VERSION))


def usable_checkpoints(run, skipped):
    """The run's step checkpoints that pass the file checks, newest first;
    ``skipped(path, problem)`` hears about each one that does not."""
    for path in reversed(step_checkpoints(run)):
        try:
            yield read_checkpoint(path)
        except CheckpointError as error:
            skipped(path, error.problem)


def set_aside(path):
    """Rename an unusable checkpoint out of the way (kept for inspection, never read again);
    returns its new path."""
    target, number = path.with_name(path.name + ".damaged"), 1
    while target.exists() or target.is_symlink():
        number += 1
        target = path.with_name(f"{path.name}.damaged-{number}")
    path.rename(target)
    return target


def no_usable_checkpoint(run):
    if step_checkpoints(run):
        return CheckpointError(run.checkpoints, "holds no usable checkpoint (see above why)")
    return CheckpointError(
        run.checkpoints, "holds no checkpoint yet: the run stopped before its first one was "
        f"written. Start it again with: chainrule train --config {run.config_path}"
    )


def best_checkpoint(run, newest, report):
    """The best checkpoint that the newest usable one, ``newest``, names, or None when it names
    none (no epoch finished, or no metric to rank them by)."""
    best = newest.state.get("best")
    if best is None:
        return None
    epoch = best[1]
    expected = {"epoch": epoch, "batch": 0, "step": newest.state["history"][epoch - 1]["step"]}
    candidates = [run.checkpoints / BEST_NAME,
                  run.checkpoints / f"step-{expected['step']:09d}.safetensors"]
    for path in candidates:
        if path == newest.path:
            found = newest
        elif path.exists():
            try:
                found = read_checkpoint(path)
            except CheckpointError as error:
                report(f"skipping {path.name}: {error.problem}")
                continue
        else:
            continue
        if found.position == expected:
            return found
        report(f"{path.name} is not the checkpoint of epoch {epoch}, which {newest.path.name} "
               "records as the best (an interrupted write or a resumed run left it behind)")
    report(f"the best checkpoint (end of epoch {epoch}) is no longer on disk")
    return None


def restore_best_copy(run, best):
    """Make checkpoints/best a copy of ``best`` when a crash left it stale."""
    target = run.checkpoints / BEST_NAME
    if best is not None and best.path != target:
        atomic_write_bytes(target, read_regular_file(best.path))
        return True
    return False
