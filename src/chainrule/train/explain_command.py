"""``chainrule explain RUN_DIR INPUT``: which parts of new data a run's predictions depend on,
from the run directory alone (model and preprocessing come from its best checkpoint).

Tables give per-row attributions per column (CSV) and a global ranking (CSV, PNG); images a
heatmap beside each image (PNG); series attributions per time step (CSV, PNG); text prompts
coloured characters (HTML). ``--check`` runs the sanity checks of chainrule.explain.checks
instead and exits 1 when one fails."""

import sys
from functools import partial
from pathlib import Path

import numpy as np

from .. import explain
from ..creation import from_numpy
from ..data.readers.image_folder import unreadable_images
from ..data.readers.table import read_table
from ..explain import render
from ..explain.checks import completeness_error
from ..random import Generator
from .data import task_from_metadata
from .explain_subjects import ImageSubject, SeriesSubject, TableSubject, TextSubject
from .output_files import checked_output_folder
from .predict import image_paths, load_model, prompt_tokens, read_new_series

METHODS = ("integrated-gradients", "saliency", "gradient-x-input", "smoothgrad", "grad-cam",
           "attention")
BASELINES = ("zeros", "mean", "blur", "random")
REFERENCE_ROWS = 1000  # training inputs that the mean and random baselines are taken over
CHECKED_ROWS = 100  # inputs the sanity checks run on


def explain_run(run_dir, source, method="integrated-gradients", target=None, out=None,
                check=False, baseline="zeros", steps=64, layer=None, limit=500,
                skip_bad_files=False, skip_bad_rows=False):
    """Explain ``source`` with the model in ``run_dir``; print a summary, return the status.
    ``skip_bad_files`` and ``skip_bad_rows`` leave out what ``predict`` would with them."""
    if method not in METHODS:
        raise ValueError(f"unknown --method {method!r}; choose one of: {', '.join(METHODS)}")
    if baseline not in BASELINES:
        raise ValueError(f"unknown --baseline {baseline!r}; choose one of: {', '.join(BASELINES)}")
    if steps < 1 or limit < 1:
        raise ValueError("--steps and --limit must be at least 1")
    if out is not None and not check:  # before any work: a bad --out fails at once
        out = checked_output_folder(out, "--out")
    config, metadata, preprocessor, model = load_model(run_dir)
    subject = read_subject(config, metadata, preprocessor, model, source, limit,
                           skip_bad_files, skip_bad_rows)
    if baseline == "blur" and subject.kind in ("table", "text"):
        raise ValueError(f"--baseline blur smooths images and series; a {subject.kind} has no "
                         "neighbourhood to blur over: use zeros, mean or random")
    targets, explained = subject.targets(target)
    reference = None
    if baseline in ("mean", "random"):
        reference = training_reference(config, metadata, baseline, subject.inputs.shape[1:])
    options = dict(baseline=baseline, steps=steps, reference=reference, layer=layer)
    if check:
        return run_checks(subject, targets, method, options)
    if out is None:  # beside the checkpoints: in the run directory (or a checkpoint's folder)
        out = Path(run_dir) if Path(run_dir).is_dir() else Path(run_dir).parent
        out = out / "explanations"
    out = checked_output_folder(out, "--out")
    if method == "attention":
        written, lines = attention_pages(subject, out)
    else:
        attributions, notes = attribute(subject, method, targets, **options)
        written, lines = subject.write(out, method, attributions, explained)
        lines += notes
    for line in lines:
        print(line)
    for path in written:
        print(f"wrote {path}")
    return 0


def _note(text):
    print(text if text.startswith("warning:") else f"note: {text}", file=sys.stderr)


def _sample(count, limit, what):
    """Indices of at most ``limit`` of ``count`` inputs (a fixed random sample, in order)."""
    if count <= limit:
        return np.arange(count)
    _note(f"{count} {what}: explaining a random sample of {limit} (--limit)")
    return np.sort(np.random.default_rng(0).choice(count, limit, replace=False))


def read_subject(config, metadata, preprocessor, model, source, limit, skip_bad_files=False,
                 skip_bad_rows=False):
    """The inputs in ``source`` as the model sees them, with what is needed to write their
    explanation (see explain_subjects.py). The data is read as ``predict`` reads it, with its
    ``skip_bad_files`` and ``skip_bad_rows``."""
    kind = metadata["kind"]
    if kind == "table":
        table = read_table(source, skip_bad_rows, header=not config.no_header)
        inputs, notes = preprocessor.transform(table)
        for note in table.notes + notes:
            _note(note)
        rows = _sample(len(table), limit, "rows")
        return TableSubject(model, preprocessor, inputs[rows], [table.where(i) for i in rows])
    if kind in ("image", "images"):
        files = image_paths(source)
        files = [files[i] for i in _sample(len(files), limit, "images")]
        images, files = _readable(preprocessor, files, skip_bad_files)
        return ImageSubject(model, images, [str(f) for f in files],
                            preprocessor.classes, preprocessor.mean, preprocessor.scale)
    if kind == "series":
        series = read_new_series(config, preprocessor, source, skip_bad_rows)
        window = preprocessor.window
        ends = np.arange(window - 1, len(series))[-limit:]
        windows = series.values[ends[:, None] + np.arange(1 - window, 1)]
        inputs = preprocessor.inputs(series.values, ends, series.covariates)
        return SeriesSubject(model, preprocessor, inputs, windows,
                             [series.time_label(e) for e in ends])
    return TextSubject(model, prompt_tokens(metadata, source), metadata["vocab"])


def _readable(preprocessor, files, skip_bad_files):
    """The images of ``files`` that can be read, and those files; the others are an error
    naming them all, or with ``skip_bad_files`` left out with a warning naming each."""
    skipped = []
    images = preprocessor.read(files, skipped)
    if skipped and not skip_bad_files:
        raise unreadable_images(skipped, len(files))
    for path, reason in skipped:
        _note(f"warning: skipped {path}: not a readable image ({reason})")
    bad = {path for path, _ in skipped}
    files = [path for path in files if path not in bad]
    if not files:
        raise ValueError("none of the files is a readable image")
    return images, files


def training_reference(config, metadata, baseline, shape):
    """Up to REFERENCE_ROWS training inputs of the run (read again from its data), for the
    mean and random baselines; text: windows as long as the prompt."""
    try:
        task = task_from_metadata(config, metadata)
    except (OSError, ValueError) as error:
        raise ValueError(f"--baseline {baseline} needs the run's training data, which cannot be "
                         f"read ({error}); use --baseline zeros") from None
    train = task.splits["train"]
    rng = np.random.default_rng(0)
    if metadata["kind"] == "text":
        length = shape[0]
        starts = rng.integers(0, len(train) - length, size=REFERENCE_ROWS)
        return train[starts[:, None] + np.arange(length)]
    inputs = train[0]
    rows = rng.choice(len(inputs), min(len(inputs), REFERENCE_ROWS), replace=False)
    return inputs[np.sort(rows)]


def method_function(subject, method, baseline="zeros", steps=64, reference=None, layer=None):
    """The chainrule.explain function for ``method`` with the command's options bound."""
    common = dict(embeddings=subject.embeddings)
    if method == "integrated-gradients":
        return partial(explain.integrated_gradients, baseline=baseline, steps=steps,
                       reference=reference, **common)
    if method == "saliency":
        return partial(explain.saliency, **common)
    if method == "gradient-x-input":
        return partial(explain.gradient_x_input, **common)
    if method == "smoothgrad":
        return partial(explain.smoothgrad, generator=Generator().manual_seed(0), **common)
    if method == "grad-cam":
        if subject.kind != "images":
            raise ValueError("--method grad-cam needs an image model with convolutions (cnn)")
        return partial(explain.grad_cam, layer=layer)
    raise ValueError(f"--method {method} has no attributions; it is shown by itself")


def attribute(subject, method, targets, **options):
    """(attributions as an ndarray, notes): for integrated gradients the convergence delta."""
    x = from_numpy(subject.inputs)
    if method != "integrated-gradients":
        return method_function(subject, method, **options)(subject.model, x, targets).numpy(), []
    function = method_function(subject, method, **options)
    attributions, delta = function(subject.model, x, targets, return_convergence_delta=True)
    relative = completeness_error(attributions, delta)
    return attributions.numpy(), [
        f"integrated gradients ({options['steps']} steps, baseline {options['baseline']}): the "
        f"attributions sum to F(x) - F(baseline) within {100 * relative.max():.3g}% of their "
        "total size (--check runs the sanity checks)"]


def attention_pages(subject, out):
    """The attention of the prompt's last position to every character, per transformer layer
    (mean over heads), as coloured text."""
    if subject.kind != "text":
        raise ValueError("--method attention needs a transformer (gpt) run")
    weights = explain.attention_weights(subject.model, from_numpy(subject.inputs))
    chars = subject.text(0)
    examples = [(f"{name}: attention of the last position (mean over heads)", chars,
                 w.numpy()[0, :, -1, :].mean(axis=0)) for name, w in weights.items()]
    page = out / "attention.html"
    page.write_text(render.tokens_html(examples, "attention weights"), encoding="utf-8")
    strongest = [f"{name}: {chars[int(np.argmax(w))]!r} at {int(np.argmax(w))}"
                 for name, _, w in ((n, c, w) for n, c, w in examples)]
    return [page], ["most attended character per layer: " + "; ".join(strongest)]


def run_checks(subject, targets, method, options):
    """Completeness of integrated gradients and model randomisation of ``method`` on up to
    CHECKED_ROWS inputs; prints each, returns 0 when all pass, else 1."""
    if method == "attention":
        raise ValueError("--check applies to attribution methods, not attention weights")
    rows = slice(0, CHECKED_ROWS)
    x = from_numpy(subject.inputs[rows])
    chosen = None if targets is None else targets[rows]
    checks = [explain.completeness(
        subject.model, x, chosen, baseline=options["baseline"], steps=options["steps"],
        reference=options["reference"], embeddings=subject.embeddings)]
    function = method_function(subject, method, **options)
    function.__name__ = method
    checks.append(explain.model_randomisation(subject.model, x, chosen, method=function))
    for result in checks:
        print(result)
    return 0 if all(checks) else 1
