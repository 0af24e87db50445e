"""What a run prints: a tqdm bar per epoch on a terminal, plain lines otherwise."""

import os
import sys


def silence(stream):
    """Send what is still written to ``stream`` (whose reader left: ``| head``, a pager quit)
    to /dev/null, so that neither later prints nor Python's flush at exit fail on it."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor behind the stream
        pass


class _PlainProgress:
    def update(self, **values):
        pass

    def close(self):
        pass


class _BarProgress:
    def __init__(self, bar):
        self.bar = bar

    def update(self, loss, lr, rate):
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", samples_s=f"{rate:,.0f}",
                             refresh=False)

    def close(self):
        self.bar.close()


class Console:
    """Progress bars when ``stream`` is a terminal and not ``quiet``; else one line per epoch.
    ``rank0`` is False on the other ranks of a distributed run, which print nothing."""

    def __init__(self, quiet=False, stream=None, rank0=True):
        self.stream = stream or sys.stdout
        self.rank0 = rank0
        self.bars = rank0 and not quiet and self.stream.isatty()

    def print(self, text=""):
        if self.rank0:
            try:
                print(text, file=self.stream, flush=True)
            except BrokenPipeError:  # the reader left; the run goes on, its files say the rest
                silence(self.stream)

    def epoch_bar(self, epoch, epochs, total, done):
        if not self.bars:
            return _PlainProgress()
        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=done, desc=f"epoch {epoch + 1}/{epochs}",
                   file=self.stream, leave=False, dynamic_ncols=True, unit="batch")
        return _BarProgress(bar)

    def epoch_summary(self, record, epochs):
        parts = [f"epoch {record['epoch']}/{epochs}", f"train_loss {record['train_loss']:.4f}"]
        for key in ("val_loss", "val_accuracy", "val_perplexity", "val_roc_auc", "val_mae",
                    "val_last_value_mae"):
            if record.get(key) is not None:
                parts.append(f"{key} {record[key]:.4f}")
        parts.append(f"lr {record['lr']:.2e}")
        parts.append(f"{record['samples_per_s']:,.0f} samples/s")
        self.print("  ".join(parts))
