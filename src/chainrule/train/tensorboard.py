"""Optional TensorBoard logging of a run's step and epoch records, through tensorboardX (a
maintained event-file writer that needs no TensorFlow or PyTorch)."""

INSTALL_HINT = "TensorBoard logging needs tensorboardX: pip install 'chainrule[tensorboard]'"


class TensorBoardLogger:
    """A trainer hook writing every number of each step and epoch record as a scalar, into
    ``RUN_DIR/tensorboard`` (view with ``tensorboard --logdir RUN_DIR``)."""

    def __init__(self, run_path):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        self.writer = SummaryWriter(str(run_path / "tensorboard"))

    def _write(self, prefix, record):
        for key, value in record.items():
            if key not in ("kind", "step", "epoch", "time") and isinstance(value, (int, float)):
                self.writer.add_scalar(f"{prefix}/{key}", value, record["step"])

    def on_step(self, trainer, record):
        if trainer.step % trainer.config.log_every == 0:
            self._write("step", record)

    def on_epoch(self, trainer, record):
        self._write("epoch", record)
        self.writer.flush()

    def close(self):
        self.writer.close()
