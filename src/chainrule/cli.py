"""The ``chainrule`` command: ``train``, ``eval``, ``sample``, ``export``, ``diagnose``,
``predict``, ``runs`` and ``explain``."""

import argparse
import sys
import traceback

from .train.config import (
    DATASETS,
    METRICS,
    MODELS,
    OPTIMIZERS,
    SCHEDULES,
    Config,
    ConfigError,
    from_dict,
    read_toml,
)
from .train.data_settings import DATA_FLAGS, DATA_SWITCHES

# (flag, config field, type, help); defaults live in train.config.Config
TRAIN_FLAGS = [
    ("--model", "model", str, f"model preset: {', '.join(MODELS)} (default: mlp; tables "
                              "tabular, image folders cnn)"),
    ("--data", "data", str, f"data set: {', '.join(DATASETS)} (default digits, built in)"),
    ("--data-path", "data_path", str,
     "directory of MNIST/Fashion-MNIST/CIFAR-10 files, the text file for --data file, the "
     "CSV/Parquet file for --data table or series, the folder for --data images"),
    ("--epochs", "epochs", int, "number of epochs (default: the preset's, e.g. mlp 40)"),
    ("--batch-size", "batch_size", int, "samples per batch (default 32)"),
    ("--steps-per-epoch", "steps_per_epoch", int,
     "language models: batches of random windows per epoch (default 200)"),
    ("--optimizer", "optimizer", str,
     f"{', '.join(OPTIMIZERS)} (default: the preset's, e.g. mlp adamw)"),
    ("--lr", "lr", float, "peak learning rate (default: the preset's, e.g. mlp 3e-3)"),
    ("--momentum", "momentum", float, "momentum for sgd and rmsprop (default 0.9)"),
    ("--weight-decay", "weight_decay", float, "weight decay (default: the preset's)"),
    ("--schedule", "schedule", str,
     f"learning-rate schedule per step: {', '.join(SCHEDULES)} (default cosine)"),
    ("--warmup-steps", "warmup_steps", int, "linear warm-up steps before the schedule"),
    ("--label-smoothing", "label_smoothing", float,
     "image classifiers: label smoothing of the training loss (mlp default 0.1)"),
    ("--grad-clip", "grad_clip", float, "clip the gradient norm to this (default 1.0; 0 = off)"),
    ("--patience", "patience", int, "stop after this many epochs without improvement"),
    ("--early-stopping-metric", "early_stopping_metric", str,
     f"metric watched for early stopping and the best checkpoint: {', '.join(METRICS)}"),
    ("--seed", "seed", int, "random seed (default 0): same seed, same run, bit for bit"),
    ("--hidden-size", "hidden_size", int, "width of the preset's hidden layers"),
    ("--num-layers", "num_layers", int, "number of hidden layers / LSTM layers / blocks"),
    ("--block-size", "block_size", int, "language models: context length in characters"),
    ("--num-heads", "num_heads", int, "gpt: attention heads"),
    ("--dropout", "dropout", float, "dropout probability"),
    ("--out", "out", str, "directory that receives the run directory (default runs)"),
    ("--name", "name", str, "run directory name (default MODEL-DATA-seedN)"),
    ("--checkpoint-every", "checkpoint_every", int,
     "also checkpoint every N steps inside an epoch (default 100)"),
    ("--keep-last", "keep_last", int, "step checkpoints to keep besides the best (default 2)"),
    ("--log-every", "log_every", int, "write a step record to metrics.jsonl every N steps"),
    ("--diagnose-every", "diagnose_every", int,
     "gradient diagnostics: sample per-layer statistics every N steps (default 50)"),
] + DATA_FLAGS


def _train_parser(subparsers):
    parser = subparsers.add_parser(
        "train", help="train a preset model (default: an MLP on the built-in digits)",
        description="Train a model. With no arguments: an MLP on the built-in 8x8 digits.",
    )
    parser.add_argument("--config", metavar="FILE.toml",
                        help="TOML file of settings (keys as the flags, with _ or -)")
    parser.add_argument("--resume", metavar="RUN_DIR",
                        help="continue the run in RUN_DIR from its latest checkpoint")
    parser.add_argument("--allow-changed-data", action="store_true",
                        help="with --resume: continue even though the data's fingerprint "
                             "differs from the one the run recorded (refused otherwise)")
    for flag, field, kind, text in TRAIN_FLAGS:
        parser.add_argument(flag, dest=field, type=kind, default=None, help=text)
    for flag, field, text in DATA_SWITCHES:
        parser.add_argument(flag, dest=field, action="store_true", default=None, help=text)
    parser.add_argument("--quiet", action="store_true", default=None,
                        help="plain line output instead of progress bars")
    parser.add_argument("--no-diagnose", dest="diagnose", action="store_false", default=None,
                        help="turn off the gradient diagnostics (on by default, cheap)")
    parser.add_argument("--tensorboard", action="store_true", default=None,
                        help="also log to RUN_DIR/tensorboard (needs chainrule[tensorboard])")
    return parser


def build_config(args):
    """Defaults, then the TOML file, then the flags given on the command line. An error in a
    setting that came from the file names the file."""
    values = read_toml(args.config) if args.config else {}
    source = f"config file {args.config}"
    config = from_dict(values, source=source)
    given = _settings_given(args)
    for field in given:
        setattr(config, field, getattr(args, field))
    try:
        return config.validate()
    except ConfigError as error:
        if error.setting in values and error.setting not in given:
            raise ConfigError(f"{source}: {error}", setting=error.setting) from None
        raise


def _settings_given(args):
    """The config fields that the command line sets."""
    fields = [field for _, field, _, _ in TRAIN_FLAGS] + [field for _, field, _ in DATA_SWITCHES]
    fields += ["quiet", "diagnose", "tensorboard"]
    return [field for field in fields if getattr(args, field, None) is not None]


def check_resume_flags(args):
    """``--resume`` continues a run exactly as it was configured: flags that would change it
    are refused rather than silently ignored (``--quiet`` only changes the display)."""
    changed = [f"--{field.replace('_', '-')}" for field in _settings_given(args)
               if field != "quiet"]
    changed = ["--no-diagnose" if flag == "--diagnose" else flag for flag in changed]
    if args.config:
        changed.insert(0, "--config")
    if changed:
        raise ConfigError(
            f"--resume continues a run with the settings it was started with (RUN/config.toml); "
            f"{', '.join(changed)} would change it. To train with other settings, start a new "
            "run (chainrule train --config RUN/config.toml plus the flags to change)."
        )


def make_parser():
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: train neural networks with a backpropagation engine on NumPy.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    _train_parser(subparsers)
    evaluate = subparsers.add_parser(
        "eval", help="print the test metrics of a run or checkpoint",
        description="Evaluate a run's best checkpoint (or a given checkpoint file) on the test "
                    "split of its data set.",
    )
    evaluate.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    sample = subparsers.add_parser(
        "sample", help="generate text from a trained language model",
        description="Generate characters from an lstm or gpt run.",
    )
    sample.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    sample.add_argument("--prompt", default="\n", help="text to start from (default a newline)")
    sample.add_argument("--length", type=int, default=300, help="characters to generate")
    sample.add_argument("--temperature", type=float, default=0.8,
                        help="softmax temperature: lower is more conservative (default 0.8)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed")
    export = subparsers.add_parser(
        "export", help="write a run's model as ONNX (needs chainrule[onnx])",
        description="Export the best checkpoint of a run (or a checkpoint file) to ONNX, with "
                    "a dynamic batch axis.",
    )
    export.add_argument("target", metavar="RUN_OR_CHECKPOINT")
    export.add_argument("--out", help="the .onnx file to write (default RUN_DIR/model.onnx)")
    export.add_argument("--opset", type=int, default=None, help="ONNX opset (default 17)")
    from .train import diagnose

    diagnose.add_parser(subparsers, TRAIN_FLAGS)
    _own_data_parsers(subparsers)
    return parser


def _own_data_parsers(subparsers):
    predict = subparsers.add_parser(
        "predict", help="predict with a trained run on new data",
        description="Apply a run's best model, with the preprocessing saved in it, to a table "
                    "(CSV/Parquet), an image or folder of images, a series (CSV/Parquet), or a "
                    "text prompt. Writes CSV with the predictions and class probabilities.",
    )
    predict.add_argument("run", metavar="RUN_DIR")
    predict.add_argument("input", metavar="INPUT",
                         help="the new data: a file or folder, or for text models the prompt")
    predict.add_argument("--out", metavar="FILE.csv",
                         help="write the predictions here (default: standard output)")
    _skip_flags(predict)
    runs = subparsers.add_parser(
        "runs", help="list runs, or compare two: chainrule runs [DIR] | runs compare A B",
        description="List the runs under DIR (default runs): model, data, data fingerprint, "
                    "best metric, status and date. `chainrule runs compare A B` shows the "
                    "settings that differ and the metrics side by side.",
    )
    runs.add_argument("args", nargs="*", metavar="DIR | compare A B")
    _explain_parser(subparsers)


def _skip_flags(parser):
    """--skip-bad-files and --skip-bad-rows, which predict and explain read new data with."""
    parser.add_argument("--skip-bad-files", action="store_true",
                        help="images: leave out files that are not readable images, with a "
                             "warning naming each (default: refuse them all by name)")
    parser.add_argument("--skip-bad-rows", action="store_true",
                        help="tables and series: leave out lines with more fields than the "
                             "header, with a warning naming them (default: refuse them)")


def _explain_parser(subparsers):
    from .train.explain_command import BASELINES, METHODS

    explain = subparsers.add_parser(
        "explain", help="explain a run's predictions: which inputs they depend on",
        description="Attribute a run's predictions on new data to the inputs: per-row column "
                    "attributions and a global ranking for tables, heatmaps for images, per "
                    "time step for series, per character for text. --check runs the sanity "
                    "checks instead (exit status 1 when one fails).",
    )
    explain.add_argument("run", metavar="RUN_DIR")
    explain.add_argument("input", metavar="INPUT",
                         help="the data to explain: a file or folder, or for text the prompt")
    explain.add_argument("--method", default="integrated-gradients",
                         help=f"{', '.join(METHODS)} (default integrated-gradients)")
    explain.add_argument("--target", metavar="CLASS",
                         help="the class to explain (name or index; default: the predicted "
                              "class), the step ahead for series, a character for text")
    explain.add_argument("--out", metavar="DIR",
                         help="where the files go (default RUN_DIR/explanations)")
    explain.add_argument("--check", action="store_true",
                         help="run the sanity checks (completeness, model randomisation)")
    explain.add_argument("--baseline", default="zeros",
                         help=f"integrated gradients' baseline: {', '.join(BASELINES)} "
                              "(default zeros: the training average of standardised inputs)")
    explain.add_argument("--steps", type=int, default=64,
                         help="integrated gradients' steps (default 64)")
    explain.add_argument("--layer", help="grad-cam: the layer (default the last convolution)")
    explain.add_argument("--limit", type=int, default=500,
                         help="explain at most this many rows, images or windows (default 500)")
    _skip_flags(explain)


def _data_parallel_context():
    """Under ``mpiexec -n N`` (N > 1), the MPI training context; otherwise None."""
    from .distributed.training import launched_world_size, setup_for_training

    return setup_for_training() if launched_world_size() > 1 else None


def _own_data_command(args):
    if args.command == "predict":
        from .train.predict import predict

        return predict(args.run, args.input, args.out, args.skip_bad_files, args.skip_bad_rows)
    from .train.runs import compare_runs, list_runs

    if args.args[:1] == ["compare"]:
        if len(args.args) != 3:
            raise ValueError("usage: chainrule runs compare RUN_A RUN_B")
        return compare_runs(*args.args[1:])
    if len(args.args) > 1:
        raise ValueError("usage: chainrule runs [DIR]  or  chainrule runs compare RUN_A RUN_B")
    return list_runs(args.args[0] if args.args else "runs")


def main(argv=None):
    """Run one ``chainrule`` command; returns its exit status (README.md's table). SIGTERM
    stops a command as Ctrl-C does (train/interrupt.py), with status 143."""
    from .train.interrupt import raising_on_stop, stop_status

    try:
        with raising_on_stop():
            return _main(argv)
    except KeyboardInterrupt as error:  # a stop just before or after the command itself
        return stop_status(error)


def _main(argv):
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from .train import commands
    from .train.interrupt import stop_status

    try:
        if args.command == "train":
            if args.resume:
                check_resume_flags(args)
                return commands.resume(args.resume, quiet=bool(args.quiet),
                                       parallel=_data_parallel_context(),
                                       allow_changed_data=args.allow_changed_data)
            if args.allow_changed_data:
                raise ConfigError("--allow-changed-data applies to --resume only")
            config = build_config(args)
            return commands.train(config, _data_parallel_context())
        if args.command == "export":
            return commands.export_onnx(args.target, args.out, args.opset)
        if args.command == "eval":
            return commands.evaluate(args.target)
        if args.command in ("predict", "runs"):
            return _own_data_command(args)
        if args.command == "explain":
            from .train.explain_command import explain_run

            return explain_run(args.run, args.input, args.method, args.target, args.out,
                               args.check, args.baseline, args.steps, args.layer, args.limit,
                               args.skip_bad_files, args.skip_bad_rows)
        if args.command == "diagnose":
            from .train import diagnose

            return diagnose.run(build_config(args), args.steps, args.every, args.record_sites,
                                args.plots)
        return commands.sample(args.target, args.prompt, args.length, args.temperature,
                               args.seed)
    except KeyboardInterrupt as error:
        print(f"chainrule {args.command}: interrupted", file=sys.stderr)
        return stop_status(error)
    except BrokenPipeError:  # the reader of our output left (`| head`): nothing more to say
        return _output_closed()
    except Exception as error:
        status = exit_status(error)
        if status is None:  # a bug: its traceback shows, and its status is none of the others
            traceback.print_exc()
            print(f"chainrule {args.command}: internal error ({type(error).__name__}): this is "
                  "a bug in chainrule; please report it with the traceback above",
                  file=sys.stderr)
            return EXIT_INTERNAL_ERROR
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return status


def _output_closed():
    """Exit quietly, as a Unix filter does when its reader is gone."""
    from .train.console import silence

    silence(sys.stdout)
    return EXIT_OUTPUT_CLOSED


# The exit statuses, as README.md's table lists them.
EXIT_BAD_INPUT = 2  # settings, flags, data or an input file (a damaged checkpoint) are unusable
EXIT_NON_FINITE = 3  # the loss became NaN or infinite
EXIT_CANNOT_WRITE = 4  # a file could not be written (a full disk); every other OSError is a write
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2
EXIT_TERMINATED = 143  # SIGTERM (kill, systemd, Slurm, Docker): 128 + 15
EXIT_OUTPUT_CLOSED = 141  # standard output's reader left (`| head`): 128 + SIGPIPE, as Unix tools
EXIT_INTERNAL_ERROR = 70  # a bug in chainrule (sysexits.h's EX_SOFTWARE), with its traceback


def exit_status(error):
    """The exit status for an error, or None for one that is not expected (a bug)."""
    from .data.readers._files import CannotReadError
    from .io.errors import CheckpointError
    from .train.commands import TrainingError
    from .train.runlock import RunInUseError

    # an input that cannot be read is bad input, though an OSError: only writes are status 4
    bad_input = (ConfigError, CheckpointError, RunInUseError, FileNotFoundError, CannotReadError,
                 ValueError, ImportError)
    if isinstance(error, bad_input):
        return EXIT_BAD_INPUT
    if isinstance(error, TrainingError):
        return EXIT_NON_FINITE
    if isinstance(error, OSError):
        return EXIT_CANNOT_WRITE
    return None


__all__ = ["main", "make_parser", "build_config", "Config"]
