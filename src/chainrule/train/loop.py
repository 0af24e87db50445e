"""The fit loop: batches, loss, backward, clipping, optimizer and schedule steps, evaluation,
early stopping, metrics and checkpoints -- resumable at any step, bit for bit."""

import itertools
import math
import signal
import time

import numpy as np

from ..autograd import no_grad
from ..nn.utils import clip_grad_norm_, get_total_norm
from ..random import get_rng_state, set_rng_state
from .checkpoint import save_checkpoint
from .durable import BackgroundSync
from .faults import Faults
from .interrupt import StopRequest
from .optimizers import build_optimizer, build_scheduler
from .parallel import SingleProcess
from .state_checks import check_fits


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training stopped before the bad update."""


class TrainingInterrupted(Exception):
    """Ctrl-C or SIGTERM: the step in progress was finished and a checkpoint of it written;
    ``signum`` says which signal asked for the stop."""

    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


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
        self.saved_at = None  # the position of the newest checkpoint written or resumed from
        self.faults = Faults()  # the test hook of train/faults.py; inert unless asked for
        self.sync = BackgroundSync()  # checkpoints' fsyncs, off this thread (train/durable.py)

    # -- checkpoints ---------------------------------------------------------------------------
    def state(self):
        return {
            "config": self.config.to_dict(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": get_rng_state(),
            "position": self.position(),
            "history": self.history,
            "best": list(self.best) if self.best else None,
            "bad_epochs": self.bad_epochs,
            "epoch_losses": list(self.epoch_losses),
            "metric_lines": self.run.metric_lines(),
            "task": self.task.metadata(),
        }

    def position(self):
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step}

    def load_state(self, state, path="checkpoint"):
        """Continue from a checkpoint's ``state`` (read from ``path``), after checking that it
        fits this trainer's model, optimizer and schedule (CheckpointError if not)."""
        check_fits(path, state, self)
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
        self.saved_at = self.position()
        if self.parallel.is_main:
            self.run.truncate_metrics(state["metric_lines"])

    def checkpoint(self, is_best=False):
        """Write a checkpoint of the current position, unless it is already on disk."""
        if self.saved_at == self.position() and not is_best:
            return
        if self.parallel.is_main:
            step = self.step
            save_checkpoint(self.run, self.state(), step, self.config.keep_last, is_best,
                            reached=lambda phase: self.faults.reached(phase, step),
                            sync=self.sync)
        self.saved_at = self.position()

    def log(self, record):
        if self.parallel.is_main:
            self.run.log(record)

    # -- training --------------------------------------------------------------------------------
    def train_step(self, inputs, targets):
        self.trained.train()
        inputs, targets, weight = self.parallel.shard_batch(inputs, targets)
        self.faults.reached("forward", self.step + 1)
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
        self.faults.reached("backward", self.step + 1)
        (loss * weight if weight != 1.0 else loss).backward()
        if self.config.grad_clip:
            grad_norm = float(clip_grad_norm_(self.model.parameters(), self.config.grad_clip))
        else:  # NOTE: the norm alone (logged, and read by the diagnostics): the same value
            # as clip_grad_norm_ with an infinite bound, without its multiplying every gradient
            # by 1.0 (about 0.05 ms a step on the demo's MLP run with --grad-clip 0)
            grad_norm = float(get_total_norm([p.grad for p in self.model.parameters()
                                              if p.grad is not None]))
        self.optimizer.step()
        self.faults.reached("optimizer", self.step + 1)
        self.scheduler.step()
        return value, grad_norm

    def current_lr(self):
        return self.optimizer.param_groups[0]["lr"]

    def evaluate(self, split):
        self.model.eval()
        with no_grad():
            return self.task.evaluate(self.model, split, self.config.batch_size)

    def fit(self):
        """Train until the last epoch or early stopping; returns the epoch history.

        A checkpoint of the starting position is written first (so that a run killed at any
        later moment can resume). Ctrl-C and SIGTERM are handled as train/interrupt.py says:
        the step in progress completes, is saved, and TrainingInterrupted is raised. However
        it ends, the checkpoints written are durable (fsynced) when it returns."""
        # NumPy's overflow warnings would only repeat, less clearly, what the non-finite loss
        # check and the diagnostics report
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), \
                    StopRequest(self.console) as stop:
                self.checkpoint()
                return self._fit(stop)
        finally:
            self.sync.wait()

    def _fit(self, stop):
        while self.epoch < self.config.epochs:
            started = time.perf_counter()
            samples = self.train_epoch(stop)
            train_loss = float(np.mean(self.epoch_losses)) if self.epoch_losses else math.nan
            self.epoch_losses = []
            rate = samples / max(time.perf_counter() - started, 1e-9)
            if self.finish_epoch(train_loss, rate):
                break  # early stopping
            if self.epoch < self.config.epochs and self.stop_agreed(stop):
                raise TrainingInterrupted(stop.signal or signal.SIGINT)
        return self.history

    def train_epoch(self, stop):
        """Train on the current epoch's remaining batches; returns the samples seen. Between
        steps: the periodic checkpoint, and the stop that Ctrl-C or SIGTERM asked for."""
        config = self.config
        batches = self.task.epoch_batches(self.epoch, config.seed, config.batch_size)
        progress = self.console.epoch_bar(self.epoch, config.epochs, len(batches), self.batch)
        started, samples = time.perf_counter(), 0
        # a resumed epoch skips the batches it already trained on
        remaining = iter(itertools.islice(batches, self.batch, None))
        try:
            while self.batch < len(batches):
                self.faults.reached("data", self.step + 1)
                inputs, targets = next(remaining)
                lr = self.current_lr()
                loss, grad_norm = self.train_step(inputs, targets)
                self.step += 1
                self.batch += 1
                samples += len(inputs)  # the global batch, over all ranks
                self.epoch_losses.append(loss)
                rate = samples / max(time.perf_counter() - started, 1e-9)
                progress.update(loss=loss, lr=lr, rate=rate)
                self.after_step({"kind": "step", "step": self.step, "epoch": self.epoch + 1,
                                 "loss": loss, "lr": lr, "grad_norm": grad_norm,
                                 "samples_per_s": round(rate, 1)})
                if self.batch == len(batches):
                    break  # the epoch's end has its own checkpoint and stop (finish_epoch)
                if self.step % config.checkpoint_every == 0:
                    self.checkpoint()
                if self.stop_agreed(stop):
                    self.checkpoint()
                    raise TrainingInterrupted(stop.signal or signal.SIGINT)
        finally:
            progress.close()
        return samples

    def after_step(self, record):
        for hook in self.hooks:
            if hasattr(hook, "on_step"):
                hook.on_step(self, record)
        if self.step % self.config.log_every == 0:
            self.log(record)

    def stop_agreed(self, stop):
        """Whether a stop signal reached any rank: every rank must stop after the same step."""
        return self.parallel.average({"stop": float(stop.requested)})["stop"] > 0

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
