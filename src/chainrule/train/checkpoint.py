"""Training checkpoints: everything needed to continue a run bit for bit.

A checkpoint holds the model, optimizer and scheduler states, the random number generators'
states, the position in the data order (epoch, batch), the step, the metric history, the
configuration, and format/library versions. Files are written atomically; the last N and the
best are kept."""

import re

from .._version import __version__
from ..serialization import CheckpointError, load, save

FORMAT_VERSION = 1
_STEP_FILE = re.compile(r"step-(\d+)\.safetensors$")


def save_checkpoint(run, state, step, keep_last, is_best=False):
    """Write ``state`` as checkpoints/step-N, drop all but the newest ``keep_last``, and copy it
    to checkpoints/best when it is the best so far."""
    state = dict(state, format_version=FORMAT_VERSION, chainrule_version=__version__)
    path = run.checkpoints / f"step-{step:09d}.safetensors"
    save(state, path)
    if is_best:
        save(state, run.checkpoints / "best.safetensors")
    for old in step_checkpoints(run)[:-keep_last]:
        old.unlink(missing_ok=True)
    return path


def step_checkpoints(run):
    """The step checkpoints of a run, oldest first."""
    found = [p for p in run.checkpoints.glob("step-*.safetensors") if _STEP_FILE.search(p.name)]
    return sorted(found, key=lambda p: int(_STEP_FILE.search(p.name).group(1)))


def read_checkpoint(path):
    """Load a checkpoint file and check that it is one chainrule can continue from."""
    state = load(path)
    if not isinstance(state, dict) or "format_version" not in state:
        raise CheckpointError(path, "is a chainrule file but not a training checkpoint")
    if state["format_version"] > FORMAT_VERSION:
        raise CheckpointError(
            path, f"has checkpoint format {state['format_version']}, newer than this chainrule "
            f"({__version__}) understands ({FORMAT_VERSION}); upgrade chainrule"
        )
    return state


def latest_checkpoint(run):
    """The newest readable step checkpoint of a run (older ones are tried if it is damaged)."""
    errors = []
    for path in reversed(step_checkpoints(run)):
        try:
            return path, read_checkpoint(path)
        except CheckpointError as error:
            errors.append(str(error))
    detail = ("; ".join(errors)) if errors else "it has none yet"
    raise CheckpointError(run.checkpoints, f"holds no usable checkpoint: {detail}")
