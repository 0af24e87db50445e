"""The fit loop: batches, loss, backward, clipping, optimizer and schedule steps, evaluation,
early stopping, metrics and checkpoints -- resumable at any step, bit for bit."""

import itertools
import math
import time

import numpy as np

from .. import get_rng_state, no_grad, set_rng_state
from ..nn.utils import clip_grad_norm_
from .checkpoint import save_checkpoint
from .optimizers import build_optimizer, build_scheduler
from .parallel import SingleProcess


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped before the bad update."""


class Trainer:
    """Trains ``model`` on ``task`` as ``config`` says, writing into ``run``.

    Under data parallelism (``parallel``, see train/parallel.py) every rank runs this loop on
    its share of each global batch; only the main rank logs, prints and writes checkpoints, and
    checkpoints hold the unwrapped model, so they resume on any number of ranks."""

    def __init__(self, config, run, task, model, console, parallel=None):
        self.config, self.run, self.task, self.console = config, run, task, console
        self.parallel = parallel or SingleProcess()
        self.model = model  # the module itself: evaluation, state dicts, diagnostics
        self.trained = self.parallel.wrap_model(model)  # what a training step calls
        self.batches_per_epoch = task.batches_per_epoch(config.batch_size)
        self.total_steps = config.epochs * self.batches_per_epoch
        self.optimizer = build_optimizer(config, model)
        self.scheduler = build_scheduler(config, self.optimizer, self.total_steps)
        self.step = 0
        self.epoch = 0
        self.batch = 0  # batches of the current epoch already trained on
        self.history = []  # one record per finished epoch
        self.best = None  # (value, epoch) of the early-stopping metric
        self.bad_epochs = 0
        self.epoch_losses = []  # losses of the current epoch so far (kept across a resume)
        # objects with optional on_step(trainer, record), on_epoch(...), on_nonfinite_loss(...)
        self.hooks = []

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self):
        return {
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": get_rng_state(),
            "position": {"epoch": self.epoch, "batch": self.batch, "step": self.step},
            "history": self.history,
            "best": list(self.best) if self.best else None,
            "bad_epochs": self.bad_epochs,
            "epoch_losses": list(self.epoch_losses),
            "metric_lines": self.run.metric_lines(),
            "task": self.task.metadata(),
        }

    def load_state(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        set_rng_state(state["rng"])
        position = state["position"]
        self.epoch, self.batch, self.step = position["epoch"], position["batch"], position["step"]
        self.history = list(state["history"])
        self.best = tuple(state["best"]) if state["best"] else None
        self.bad_epochs = state["bad_epochs"]
        self.epoch_losses = list(state["epoch_losses"])
        if self.parallel.is_main:
            self.run.truncate_metrics(state["metric_lines"])

    def checkpoint(self, is_best=False):
        if self.parallel.is_main:
            save_checkpoint(self.run, self.state(), self.step, self.config.keep_last, is_best)

    def log(self, record):
        if self.parallel.is_main:
            self.run.log(record)

    # -- training --------------------------------------------------------------------------------
    def train_step(self, inputs, targets):
        self.trained.train()
        inputs, targets, weight = self.parallel.shard_batch(inputs, targets)
        loss = self.task.loss(self.trained(inputs), targets)
        # every rank must take the same decision, so the check reads the global mean loss
        value = self.parallel.average({"loss": loss.item()}, count=len(inputs))["loss"]
        if not math.isfinite(value):
            for hook in self.hooks:  # e.g. diagnostics: where the value was born
                if hasattr(hook, "on_nonfinite_loss"):
                    hook.on_nonfinite_loss(self, loss)
            raise NonFiniteLossError(
                f"the loss became {value} at step {self.step + 1} (epoch {self.epoch + 1}, batch "
                f"{self.batch + 1}); no update was applied. Usual causes: a learning rate too "
                f"high (now {self.current_lr():.3g}), no gradient clipping, or a log/division of "
                "zero in the model. Try a lower --lr or --grad-clip 1.0; `chainrule diagnose` "
                "with the same settings reports the first layer whose values go non-finite."
            )
        self.optimizer.zero_grad()
        (loss * weight if weight != 1.0 else loss).backward()
        max_norm = self.config.grad_clip if self.config.grad_clip else math.inf
        grad_norm = float(clip_grad_norm_(self.model.parameters(), max_norm))
        self.optimizer.step()
        self.scheduler.step()
        return value, grad_norm

    def current_lr(self):
        return self.optimizer.param_groups[0]["lr"]

    def evaluate(self, split):
        self.model.eval()
        with no_grad():
            return self.task.evaluate(self.model, split, self.config.batch_size)

    def fit(self):
        """Train until the last epoch or early stopping; returns the epoch history."""
        # NumPy's overflow warnings would only repeat, less clearly, what the non-finite loss
        # check and the diagnostics report
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._fit()

    def _fit(self):
        config = self.config
        while self.epoch < config.epochs:
            batches = self.task.epoch_batches(self.epoch, config.seed, config.batch_size)
            progress = self.console.epoch_bar(self.epoch, config.epochs, len(batches), self.batch)
            started, samples = time.perf_counter(), 0
            # a resumed epoch skips the batches it already trained on
            for inputs, targets in itertools.islice(batches, self.batch, None):
                lr = self.current_lr()
                loss, grad_norm = self.train_step(inputs, targets)
                self.step += 1
                self.batch += 1
                samples += len(inputs)  # the global batch, over all ranks
                self.epoch_losses.append(loss)
                rate = samples / max(time.perf_counter() - started, 1e-9)
                record = {"kind": "step", "step": self.step, "epoch": self.epoch + 1,
                          "loss": loss, "lr": lr, "grad_norm": grad_norm,
                          "samples_per_s": round(rate, 1)}
                progress.update(loss=loss, lr=lr, rate=rate)
                for hook in self.hooks:
                    if hasattr(hook, "on_step"):
                        hook.on_step(self, record)
                if self.step % config.log_every == 0:
                    self.log(record)
                if self.step % config.checkpoint_every == 0 and self.batch < len(batches):
                    self.checkpoint()
            progress.close()
            train_loss = float(np.mean(self.epoch_losses)) if self.epoch_losses else math.nan
            self.epoch_losses = []
            stop = self.finish_epoch(train_loss, samples / max(time.perf_counter() - started, 1e-9))
            if stop:
                break
        return self.history

    def finish_epoch(self, train_loss, rate):
        """Evaluate, log, checkpoint and decide on early stopping; True means stop."""
        metrics = self.evaluate("val")
        self.epoch += 1
        self.batch = 0
        record = {"kind": "epoch", "step": self.step, "epoch": self.epoch,
                  "train_loss": float(train_loss), "lr": self.current_lr(),
                  "samples_per_s": round(rate, 1)}
        record.update({f"val_{k}": v for k, v in metrics.items()})
        self.history.append(record)
        self.log(record)
        for hook in self.hooks:
            if hasattr(hook, "on_epoch"):
                hook.on_epoch(self, record)
        self.console.epoch_summary(record, self.config.epochs)
        improved = self.update_best(record)
        stop = self.config.patience is not None and self.bad_epochs >= self.config.patience
        self.checkpoint(is_best=improved)
        if stop:
            self.console.print(
                f"early stopping: {self.config.early_stopping_metric} has not improved for "
                f"{self.bad_epochs} epochs (best {self.best[0]:.4f} at epoch {self.best[1]})"
            )
        return stop

    def update_best(self, record):
        metric = self.config.early_stopping_metric
        value = record.get(metric)
        if value is None:
            return False
        better = (lambda a, b: a > b) if metric.endswith("accuracy") else (lambda a, b: a < b)
        if self.best is None or better(value, self.best[0]):
            self.best = (value, self.epoch)
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False
