"""Training: the fit loop, run directories, checkpoints, reports, and model presets."""

from .checkpoint import latest_checkpoint, read_checkpoint, save_checkpoint
from .config import Config, ConfigError
from .loop import NonFiniteLossError, Trainer
from .rundir import RunDirectory
