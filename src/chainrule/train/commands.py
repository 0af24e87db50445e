"""What ``chainrule train``, ``eval`` and ``sample`` do, from a resolved configuration."""

import os
import sys
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..creation import from_numpy
from ..data.readers._files import CannotReadError
from ..diagnostics import TrainingDiagnostics
from ..diagnostics.plot_helpers import helping
from ..io.errors import CheckpointError
from ..io.files import memory_limit
from ..random import Generator, manual_seed
from . import explain_report, interrupt, run_record
from .checkpoint import (
    BEST_NAME,
    best_checkpoint,
    no_usable_checkpoint,
    read_checkpoint,
    restore_best_copy,
    set_aside,
    usable_checkpoints,
)
from .config import ConfigError
from .console import Console
from .data import load_task, task_from_metadata
from .data_settings import OWN_DATA
from .flag_advice import FlagAdvice, setting_notes
from .loop import NonFiniteLossError, Trainer, TrainingInterrupted
from .output_files import checked_output_path, write_output
from .parallel import SingleProcess
from .presets import build_model, parameter_count
from .report import write_report
from .report_helpers import ReportHelpers
from .rundir import RunDirectory
from .state_checks import check_model_fits
from .tensorboard import TensorBoardLogger


class TrainingError(RuntimeError):
    """Training stopped on a problem in the run itself (a non-finite loss)."""


def _setup(config, task_metadata=None):
    """Seed, load the data and build the model; the task of a saved run keeps the vocabulary
    its model was trained on (``task_metadata``)."""
    manual_seed(config.seed)
    task = load_task(config) if task_metadata is None else task_from_metadata(config,
                                                                               task_metadata)
    _check_fits_in_memory(config, task)
    model = build_model(config, task)
    return task, model


def _check_fits_in_memory(config, task):
    # weights, gradients and two optimizer moments, in float32: a floor, not an estimate
    needed = parameter_count(config, task) * 4 * 4
    limit = memory_limit()
    if limit is not None and needed > limit:
        raise ConfigError(
            f"a {config.model} with these sizes needs at least {needed / 2**30:,.1f} GiB for its "
            f"parameters and their optimizer state, more than this machine's "
            f"{limit / 2**30:,.1f} GiB; use a smaller --hidden-size or --num-layers"
        )


def train(config, parallel=None):
    """Train from scratch as ``config`` says; print and return the exit status.

    ``parallel`` is the data-parallel context when launched under mpiexec (see
    train/parallel.py); only its main rank creates and writes the run directory."""
    parallel = parallel or SingleProcess()
    task, model = _setup(config)
    # the run keeps where its data is from any directory: `eval` and `--resume` run from
    # elsewhere than the training (the messages above keep the path as the user typed it)
    if config.data_path:
        config.data_path = os.path.abspath(os.path.expanduser(config.data_path))
    name = config.name or f"{config.model}-{config.data}-seed{config.seed}"
    path = None
    if parallel.is_main:
        path = str(RunDirectory.create(config.out, name).path)
    run = RunDirectory(parallel.broadcast_object(path))
    console = Console(quiet=config.quiet, rank0=parallel.is_main)
    main = parallel.is_main
    with run.locked(main):
        with run.removed_on_failure(main):  # until the first checkpoint, a failure undoes it
            if main:
                run.write_config(config.to_dict())
            console.print(f"run directory: {run.path}")
            ranks = f" on {parallel.world_size} ranks" if parallel.distributed else ""
            console.print(f"model {config.model}: {sum(p.numel() for p in model.parameters()):,} "
                          f"parameters; data {task.name}{ranks}")
            for note in getattr(task, "notes", ()):
                console.print(note)
            trainer = _with_diagnostics(Trainer(config, run, task, model, console, parallel))
            trainer.checkpoint()
        return _fit_tracked(trainer)


def resume(run_dir, quiet=False, parallel=None, allow_changed_data=False):
    """Continue the run in ``run_dir`` from its newest usable checkpoint (on any number of
    ranks); damaged ones are reported and skipped. Data whose fingerprint differs from the one
    the run recorded is refused unless ``allow_changed_data``."""
    parallel = parallel or SingleProcess()
    run = RunDirectory.open_existing(run_dir)
    run.check_files()
    console = Console(quiet=quiet, rank0=parallel.is_main)
    with run.locked(parallel.is_main):
        if parallel.is_main:
            for name in run.remove_temporaries():
                console.print(f"removed {name}, left by a write that was interrupted")
        trainer, checkpoint, skipped = _newest_usable(run, quiet, parallel, console)
        fingerprint = _unchanged_data(run, trainer, allow_changed_data)  # before any repair
        if parallel.is_main:
            for path in skipped:
                console.print(f"set aside {path.name} as {set_aside(path).name}")
            best = best_checkpoint(run, checkpoint, console.print)
            if restore_best_copy(run, best):
                console.print(f"restored {BEST_NAME} from {best.path.name}")
        trainer.console.print(
            f"resuming {run.path} from {checkpoint.path.name}: epoch {trainer.epoch + 1}, batch "
            f"{trainer.batch}, step {trainer.step}"
        )
        return _fit_tracked(_with_diagnostics(trainer), fingerprint)


def _unchanged_data(run, trainer, allowed):
    """The data's fingerprint, after checking it against the one the run recorded: changed data
    is refused (DataChangedError) unless ``allowed``, then only warned about."""
    recorded, current = run_record.fingerprints(run.path, trainer.config)
    if run_record.changed(recorded, current):
        change = run_record.describe_change(trainer.config, recorded, current)
        if not allowed:
            raise run_record.DataChangedError(
                f"{change}. Resuming would go on training on other data than the run started "
                f"on. Restore the data; or train a new run on it (chainrule train --config "
                f"{run.config_path}); or resume anyway with --allow-changed-data"
            )
        trainer.console.print(f"warning: {change}; resuming on it (--allow-changed-data)")
    return current


def _newest_usable(run, quiet, parallel, console):
    """A trainer loaded from the newest checkpoint that passes every check, that checkpoint,
    and the paths of the newer ones skipped."""
    skipped = []

    def skip(path, problem):
        console.print(f"skipping {path.name}: {problem}")
        skipped.append(path)

    for checkpoint in usable_checkpoints(run, skip):
        config = checkpoint.config
        config.quiet = quiet or config.quiet
        _follow_moved_data(run.path, config, console.print)
        task, model = _setup(config, checkpoint.state["task"])
        trainer = Trainer(config, run, task, model,
                          Console(quiet=config.quiet, rank0=parallel.is_main), parallel)
        try:
            trainer.load_state(checkpoint.state, checkpoint.path)
        except CheckpointError as error:
            skip(checkpoint.path, error.problem)
            continue
        return trainer, checkpoint, skipped
    raise no_usable_checkpoint(run)


def _with_diagnostics(trainer):
    """Monitor backpropagation during the run (``--no-diagnose`` turns it off), and log to
    TensorBoard when asked."""
    if trainer.config.tensorboard and trainer.parallel.is_main:
        trainer.hooks.append(TensorBoardLogger(trainer.run.path))
    if trainer.config.diagnose and trainer.parallel.is_main:
        hook = TrainingDiagnostics(every=trainer.config.diagnose_every,
                                   advice=FlagAdvice(trainer.config))
        hook.attach(trainer.model, start_step=trainer.step)
        for note in setting_notes(trainer.config):
            trainer.console.print(f"diagnostics: note: {note}")
        trainer.hooks.append(hook)
    return trainer


def _fit_tracked(trainer, fingerprint=None):
    """Fit and report, with the run's status recorded in run.json (see run_record.py)."""
    if not trainer.parallel.is_main:
        return _fit_and_report(trainer)
    run_record.start(trainer.run, trainer.config, trainer.task, fingerprint)
    return run_record.track(trainer.run, trainer.config, lambda: _fit_and_report(trainer))


def _task_sections(trainer):
    """The task's own report sections (own data: preprocessing, per-class metrics, plots)."""
    if not hasattr(trainer.task, "report_sections"):
        return []
    trainer.model.eval()
    with no_grad():
        return ["\n".join(trainer.task.report_sections(trainer.model, trainer.run.path))]


def _fit_and_report(trainer):
    helpers = ReportHelpers(None if trainer.parallel.is_main else 0)
    trainer.hooks.append(helpers)
    try:
        return _fit_and_report_with(trainer, helpers)
    finally:
        helpers.end()


def _fit_and_report_with(trainer, helpers):
    diagnostics = [h for h in trainer.hooks if isinstance(h, TrainingDiagnostics)]
    resume_hint = f"continue with: chainrule train --resume {trainer.run.path}"
    try:
        trainer.fit()
    except NonFiniteLossError as error:
        raise TrainingError(str(error)) from None
    except TrainingInterrupted as stop:
        trainer.console.print(f"interrupted: step {trainer.step} finished and saved; "
                              f"{resume_hint}")
        return interrupt.exit_status(stop.signum)
    except KeyboardInterrupt as stop:
        trainer.console.print(f"\nstopped at once: the newest checkpoint is the last one saved; "
                              f"{resume_hint}")
        return interrupt.stop_status(stop)
    except OSError as error:  # a write failed (a full disk): the checkpoints before it hold
        if not isinstance(error, (FileNotFoundError, CannotReadError)):
            trainer.console.print(f"stopped: a file could not be written; once it can be (free "
                                  f"some space, or allow the write), {resume_hint}")
        raise
    finally:
        for hook in trainer.hooks:
            if hasattr(hook, "close"):
                hook.close()
    test = trainer.evaluate("test")
    if not trainer.parallel.is_main:
        return 0
    trainer.run.log({"kind": "test", "step": trainer.step, **{f"test_{k}": v
                                                               for k, v in test.items()}})
    # figures go to the plot helpers, if started, while the report goes on; all are written
    # when the block ends
    with helping(helpers.helpers):
        sections = _task_sections(trainer)
        sections += explain_report.sections(trainer.task, trainer.model, trainer.run.path)
        sections += [s for hook in diagnostics for s in hook.report_sections(trainer.run.path)]
        report = write_report(trainer.run, trainer.config,
                              {f"test_{k}": v for k, v in test.items()}, sections)
    console = trainer.console
    for hook in diagnostics:
        console.print(hook.final_table())
    console.print("test " + "  ".join(f"{k} {v:.4f}" for k, v in test.items()))
    console.print(f"report: {report}")
    return 0


def checkpoint_for(target, quiet_about_data=False):
    """A run directory means its best checkpoint (else its newest usable one); a file is
    itself. Checkpoints skipped on the way are reported on stderr, and so is data found moved
    with its run (unless ``quiet_about_data``: a command that does not read it)."""
    target = Path(target)
    if target.is_dir():
        run = RunDirectory.open_existing(target)
        newest = next(usable_checkpoints(run, _skipped), None)
        if newest is None:
            raise no_usable_checkpoint(run)
        checkpoint = best_checkpoint(run, newest, _warn) or newest
    elif not target.exists() and not target.is_symlink():
        raise FileNotFoundError(f"{target} is neither a run directory nor a checkpoint file")
    else:
        checkpoint = read_checkpoint(target)
    run_path = Path(checkpoint.path).parent.parent  # RUN/checkpoints/step-N.safetensors
    _follow_moved_data(run_path, checkpoint.config,
                       (lambda text: None) if quiet_about_data else _warn)
    return checkpoint


def _follow_moved_data(run_path, config, say):
    was = config.data_path
    if run_record.find_moved_data(run_path, config):
        say(f"the data is no longer at {was}; using {config.data_path}, where it lies from the "
            "run directory as it did in training (its fingerprint is checked)")


def _warn(text):
    print(f"warning: {text}", file=sys.stderr)


def _skipped(path, problem):
    _warn(f"skipping {path.name}: {problem}")


def _restore(target):
    checkpoint = checkpoint_for(target)
    task, model = _setup(checkpoint.config, checkpoint.state["task"])
    check_model_fits(checkpoint.path, checkpoint.state, model)
    model.load_state_dict(checkpoint.state["model"])
    model.eval()
    return checkpoint.path, checkpoint.config, task, model


def export_onnx(target, out=None, opset=None):
    """Write the model of a run (its best checkpoint) or of a checkpoint file as ONNX, with a
    dynamic batch axis (and, for text, a dynamic length up to the block size): the run's inputs
    (images, table rows, series windows, or tokens) in, the model's output out."""
    from ..onnx import UnsupportedOperatorError, export

    if out is not None:  # before any work: a wrong --out is found at once
        out = checked_output_path(out, "--out", "model.onnx")
    path, config, task, model = _restore(target)
    if task.kind == "text":
        example = np.arange(task.block_size, dtype=np.int64)[None] % task.vocab_size
    elif getattr(task, "input_shape", None) is not None:
        example = np.zeros((1, *task.input_shape), dtype=np.float32)
    else:  # the shape of one validation input
        example = np.asarray(task.splits["val"][0][:1], dtype=np.float32)
    out = Path(out) if out else (Path(target) if Path(target).is_dir() else path.parent) \
        / "model.onnx"
    axes = {0: "batch", 1: "length"} if task.kind == "text" else {0: "batch"}
    try:
        proto = export(model, (from_numpy(example),), None, input_names=["input"],
                       output_names=["output"], opset_version=opset,
                       dynamic_axes={"input": axes, "output": axes})
    except UnsupportedOperatorError as error:  # the model cannot be exported: bad input
        raise ValueError(str(error)) from None
    write_output(out, proto.SerializeToString())  # atomic: never a half-written model
    shape = ", ".join([*axes.values(), *map(str, example.shape[len(axes):])])
    print(f"{out}: model {config.model} from {path.name}; input ({shape}) {example.dtype}, "
          "output 'output'")
    return 0


def evaluate(target):
    """Print the test metrics of a run's best checkpoint, or of a checkpoint file (a warning
    first when the data is no longer the data the run trained on)."""
    path, config, task, model = _restore(target)
    _warn_if_data_changed(path, config)
    with no_grad():
        metrics = task.evaluate(model, "test", config.batch_size)
    print(f"{path}: model {config.model} on {task.name}")
    print("test " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0


def _warn_if_data_changed(checkpoint_path, config):
    run_path = Path(checkpoint_path).parent.parent  # RUN/checkpoints/step-N.safetensors
    recorded, current = run_record.fingerprints(run_path, config)
    if run_record.changed(recorded, current):
        _warn(f"{run_record.describe_change(config, recorded, current)}; the metrics below are "
              "of the data as it is now" + (", and its test split may hold rows the model "
                                            "trained on" if config.data in OWN_DATA else ""))


def sample(target, prompt, length, temperature, seed):
    """Print ``length`` characters generated after ``prompt``."""
    path, config, task, model = _restore(target)
    if task.kind != "text":
        raise ValueError(f"{path} holds a {config.model} image model; sampling needs lstm or gpt")
    if temperature <= 0:
        raise ValueError("--temperature must be positive")
    tokens = list(task.encode(prompt)) or [0]
    rng = Generator().manual_seed(seed).numpy
    out = sys.stdout
    out.write(prompt)
    with no_grad():
        for _ in range(length):
            context = from_numpy(np.array([tokens[-task.block_size:]], dtype=np.int64))
            logits = model(context)[0, -1].numpy().astype(np.float64) / temperature
            probabilities = np.exp(logits - logits.max())
            probabilities /= probabilities.sum()
            token = int(rng.choice(len(probabilities), p=probabilities))
            tokens.append(token)
            out.write(task.vocab[token])
    out.write("\n")
    out.flush()
    return 0
