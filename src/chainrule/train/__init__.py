"""Training: the fit loop, run directories, checkpoints, reports, and model presets."""

from .checkpoint import read_checkpoint, save_checkpoint, usable_checkpoints
from .config import Config, ConfigError
from .loop import NonFiniteLossError, Trainer
from .rundir import RunDirectory
