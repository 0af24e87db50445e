"""What ``chainrule train``, ``eval`` and ``sample`` do, from a resolved configuration."""

import sys
from pathlib import Path

import numpy as np

from .. import Generator, from_numpy, manual_seed, no_grad
from ..diagnostics import TrainingDiagnostics
from ..serialization import CheckpointError
from . import explain_report, run_record
from .checkpoint import latest_checkpoint, read_checkpoint
from .config import from_dict
from .console import Console
from .data import load_task, task_from_metadata
from .loop import NonFiniteLossError, Trainer
from .parallel import SingleProcess
from .presets import build_model
from .report import write_report
from .rundir import RunDirectory
from .tensorboard import TensorBoardLogger


class TrainingError(RuntimeError):
    """Training stopped on a problem in the run itself (non-finite loss, bad checkpoint)."""


def _setup(config):
    manual_seed(config.seed)
    task = load_task(config)
    model = build_model(config, task)
    return task, model


def train(config, parallel=None):
    """Train from scratch as ``config`` says; print and return the exit status.

    ``parallel`` is the data-parallel context when launched under mpiexec (see
    train/parallel.py); only its main rank creates and writes the run directory."""
    parallel = parallel or SingleProcess()
    task, model = _setup(config)
    name = config.name or f"{config.model}-{config.data}-seed{config.seed}"
    path = None
    if parallel.is_main:
        run = RunDirectory.create(config.out, name)
        run.write_config(config.to_dict())
        path = str(run.path)
    run = RunDirectory(parallel.broadcast_object(path))
    console = Console(quiet=config.quiet, rank0=parallel.is_main)
    console.print(f"run directory: {run.path}")
    ranks = f" on {parallel.world_size} ranks" if parallel.distributed else ""
    console.print(f"model {config.model}: {sum(p.numel() for p in model.parameters()):,} "
                  f"parameters; data {task.name}{ranks}")
    for note in getattr(task, "notes", ()):
        console.print(note)
    trainer = Trainer(config, run, task, model, console, parallel)
    return _fit_tracked(_with_diagnostics(trainer))


def resume(run_dir, quiet=False, parallel=None):
    """Continue the run in ``run_dir`` from its newest readable checkpoint (on any number of
    ranks)."""
    parallel = parallel or SingleProcess()
    run = RunDirectory.open_existing(run_dir)
    try:
        path, state = latest_checkpoint(run)
    except CheckpointError as error:
        raise TrainingError(str(error)) from None
    config = from_dict(state["config"], source=str(path))
    config.quiet = quiet or config.quiet
    task, model = _setup(config)
    console = Console(quiet=config.quiet, rank0=parallel.is_main)
    trainer = Trainer(config, run, task, model, console, parallel)
    trainer.load_state(state)
    _with_diagnostics(trainer)
    trainer.console.print(
        f"resuming {run.path} from {path.name}: epoch {trainer.epoch + 1}, batch "
        f"{trainer.batch}, step {trainer.step}"
    )
    return _fit_tracked(trainer)


def _with_diagnostics(trainer):
    """Monitor backpropagation during the run (``--no-diagnose`` turns it off), and log to
    TensorBoard when asked."""
    if trainer.config.tensorboard and trainer.parallel.is_main:
        trainer.hooks.append(TensorBoardLogger(trainer.run.path))
    if trainer.config.diagnose and trainer.parallel.is_main:
        hook = TrainingDiagnostics(every=trainer.config.diagnose_every)
        hook.attach(trainer.model, start_step=trainer.step)
        trainer.hooks.append(hook)
    return trainer


def _fit_tracked(trainer):
    """Fit and report, with the run's status recorded in run.json (see run_record.py)."""
    if not trainer.parallel.is_main:
        return _fit_and_report(trainer)
    run_record.start(trainer.run, trainer.config, trainer.task)
    return run_record.track(trainer.run, trainer.config, lambda: _fit_and_report(trainer))


def _task_sections(trainer):
    """The task's own report sections (own data: preprocessing, per-class metrics, plots)."""
    if not hasattr(trainer.task, "report_sections"):
        return []
    trainer.model.eval()
    with no_grad():
        return ["\n".join(trainer.task.report_sections(trainer.model, trainer.run.path))]


def _fit_and_report(trainer):
    diagnostics = [h for h in trainer.hooks if isinstance(h, TrainingDiagnostics)]
    try:
        trainer.fit()
    except NonFiniteLossError as error:
        raise TrainingError(str(error)) from None
    except KeyboardInterrupt:
        trainer.checkpoint()
        trainer.console.print(
            f"\ninterrupted: checkpoint saved; continue with: chainrule train --resume "
            f"{trainer.run.path}"
        )
        return 130
    finally:
        for hook in trainer.hooks:
            if hasattr(hook, "close"):
                hook.close()
    test = trainer.evaluate("test")
    if not trainer.parallel.is_main:
        return 0
    trainer.run.log({"kind": "test", "step": trainer.step, **{f"test_{k}": v
                                                               for k, v in test.items()}})
    sections = _task_sections(trainer)
    sections += explain_report.sections(trainer.task, trainer.model, trainer.run.path)
    sections += [s for hook in diagnostics for s in hook.report_sections(trainer.run.path)]
    report = write_report(trainer.run, trainer.config, {f"test_{k}": v for k, v in test.items()},
                          sections)
    console = trainer.console
    for hook in diagnostics:
        console.print(hook.final_table())
    console.print("test " + "  ".join(f"{k} {v:.4f}" for k, v in test.items()))
    console.print(f"report: {report}")
    return 0


def checkpoint_for(target):
    """A run directory means its best checkpoint (else its latest); a file is itself."""
    target = Path(target)
    if target.is_dir():
        run = RunDirectory.open_existing(target)
        best = run.checkpoints / "best.safetensors"
        if best.exists():
            return best, read_checkpoint(best)
        return latest_checkpoint(run)
    if not target.exists():
        raise FileNotFoundError(f"{target} is neither a run directory nor a checkpoint file")
    return target, read_checkpoint(target)


def _restore(target):
    try:
        path, state = checkpoint_for(target)
    except CheckpointError as error:
        raise TrainingError(str(error)) from None
    config = from_dict(state["config"], source=str(path))
    task = task_from_metadata(config, state["task"])
    manual_seed(config.seed)
    model = build_model(config, task)
    model.load_state_dict(state["model"])
    model.eval()
    return path, config, task, model


def evaluate(target):
    """Print the test metrics of a run's best checkpoint, or of a checkpoint file."""
    path, config, task, model = _restore(target)
    with no_grad():
        metrics = task.evaluate(model, "test", config.batch_size)
    print(f"{path}: model {config.model} on {task.name}")
    print("test " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
    return 0


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
