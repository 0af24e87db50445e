"""``chainrule predict RUN_DIR INPUT``: a run directory applied to new data, with nothing but
what its checkpoint holds (the model and its preprocessing: column statistics and categories,
image size and pixel statistics, series window and scale, text vocabulary).

Predictions are CSV (to ``--out`` or standard output); notes and, when the input carries the
true answers, the score go to standard error."""

import csv
import io
import sys
from pathlib import Path

import numpy as np

from ..autograd import no_grad
from ..creation import from_numpy
from ..data.preprocessing import ImagePreprocessor, SeriesPreprocessor, TablePreprocessor
from ..data.readers.image_folder import IMAGE_SUFFIXES, image_files, unreadable_images
from ..data.readers.series import read_series
from ..data.readers.table import read_table
from ..random import manual_seed
from .data import read_plain_text
from .metrics import regression_metrics, softmax
from .output_files import checked_output_path, write_output
from .presets import build_model
from .state_checks import check_model_fits
from .tasks import ImageClassification, model_outputs


class _Saved:
    """What a preset needs to build its network, from a checkpoint's task metadata."""

    def __init__(self, **sizes):
        self.__dict__.update(sizes)


def _image_preprocessor(metadata):
    if metadata["kind"] == "images":
        return ImagePreprocessor.from_state(metadata["preprocessing"])
    preprocessor = ImageClassification.saved_preprocessor(metadata)
    if preprocessor is None:
        raise ValueError("this checkpoint predates saved image statistics; train the run again "
                         "to predict with it")
    return preprocessor


def _preprocessor(metadata):
    kind = metadata["kind"]
    if kind == "table":
        return TablePreprocessor.from_state(metadata["preprocessing"])
    if kind == "series":
        return SeriesPreprocessor.from_state(metadata["preprocessing"])
    if kind in ("image", "images"):
        return _image_preprocessor(metadata)
    return None


def load_model(run_dir):
    """(config, task metadata, preprocessor, model in eval mode) of a run's best checkpoint."""
    from .commands import checkpoint_for

    # checked: settings, sizes, preprocessing; the training data is not read (but explain's
    # mean baseline finds it if it moved with the run)
    checkpoint = checkpoint_for(run_dir, quiet_about_data=True)
    config, state = checkpoint.config, checkpoint.state
    metadata = state["task"]
    preprocessor = _preprocessor(metadata)
    if metadata["kind"] == "text":
        spec = _Saved(vocab_size=len(metadata["vocab"]))
    elif metadata["kind"] == "image":
        spec = _Saved(input_shape=preprocessor.input_shape, num_classes=len(preprocessor.classes))
    else:
        spec = _Saved(preprocessor=preprocessor)
    manual_seed(config.seed)
    model = build_model(config, spec)
    check_model_fits(checkpoint.path, state, model)
    model.load_state_dict(state["model"])
    model.eval()
    return config, metadata, preprocessor, model


def predict(run_dir, source, out=None, skip_bad_files=False, skip_bad_rows=False):
    """Write predictions for ``source`` (a table, an image or folder of images, a series, or a
    text prompt) with the model in ``run_dir``; returns the exit status. ``skip_bad_files``
    leaves out image files that cannot be read, ``skip_bad_rows`` table lines with too many
    fields, each with a warning naming them."""
    if out is not None:  # before any work: a wrong --out is found at once
        out = checked_output_path(out, "--out", "predictions.csv")
    config, metadata, preprocessor, model = load_model(run_dir)
    kind = metadata["kind"]
    with no_grad():
        if kind == "table":
            header, rows = _table(preprocessor, model, source, skip_bad_rows,
                                      not config.no_header)
        elif kind in ("image", "images"):
            header, rows = _images(preprocessor, model, source, skip_bad_files)
        elif kind == "series":
            header, rows = _series(config, preprocessor, model, source, skip_bad_rows)
        else:
            header, rows = _text(metadata, model, source)
    _write(header, rows, out)
    return 0


def _note(text):
    print(text, file=sys.stderr)


def _probability_columns(classes):
    return [f"probability_{c}" for c in classes]


def _table(preprocessor, model, source, skip_bad_rows=False, header=True):
    table = read_table(source, skip_bad_rows, header)
    inputs, notes = preprocessor.transform(table)
    notes = table.notes + notes
    for note in notes:
        _note(f"note: {note}")
    outputs = model_outputs(model, inputs)
    labels = [table.where(i) for i in range(len(table))]
    if preprocessor.task == "regression":
        values = preprocessor.values(outputs[:, 0])
        if preprocessor.target in table:
            _score(lambda: _regression_score(preprocessor, table, values))
        return ["row", "prediction"], [[w, f"{v:.6g}"] for w, v in zip(labels, values)]
    probabilities = softmax(outputs)
    classes = preprocessor.classes
    picks = probabilities.argmax(axis=1)
    if preprocessor.target in table:
        _score(lambda: _accuracy(preprocessor, table, picks))
    rows = [[w, classes[k], *(f"{p:.6f}" for p in probs)]
            for w, k, probs in zip(labels, picks, probabilities)]
    return ["row", "prediction", *_probability_columns(classes)], rows


def _score(compute):
    """Print the score of rows that carry the true answer; a truth column that cannot be
    scored (a class the model does not know, text among numbers) only skips the score."""
    try:
        compute()
    except ValueError as error:
        _note(f"note: no score: {error}")


def _regression_score(preprocessor, table, values):
    truth = table.numeric(preprocessor.target)
    known = ~np.isnan(truth)
    if known.any():
        scores = regression_metrics(truth[known], values[known])
        _note(f"{int(known.sum())} rows have {preprocessor.target!r}: "
              + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()))


def _accuracy(preprocessor, table, picks):
    truth, present = preprocessor.targets(table)
    if present.any():
        accuracy = float((picks[present] == truth[present]).mean())
        _note(f"{int(present.sum())} rows have {preprocessor.target!r}: accuracy "
              f"{accuracy:.4f}")


def image_paths(source):
    """The image files ``source`` names: itself, or the images under a folder."""
    source = Path(source).expanduser()
    if source.is_dir():
        files = image_files(source)
        if not files:
            raise ValueError(f"{source} has no images ({', '.join(IMAGE_SUFFIXES)})")
        return files
    if source.is_file() and source.suffix.lower() not in IMAGE_SUFFIXES:  # as training reads
        raise ValueError(f"{source} is not an image file ({', '.join(IMAGE_SUFFIXES)}); this "
                         "run's model classifies images: name an image or a folder of images")
    if source.is_file():
        return [source]
    if not source.exists():
        raise FileNotFoundError(f"{source} does not exist; name an image file or a folder of "
                                "images")
    raise FileNotFoundError(f"{source} is neither an image file nor a folder of images")


def _images(preprocessor, model, source, skip_bad_files=False):
    files = image_paths(source)
    source = Path(source).expanduser()
    classes = preprocessor.classes
    files, outputs = _image_outputs(preprocessor, model, files, skip_bad_files)
    probabilities = softmax(outputs)
    picks = probabilities.argmax(axis=1)
    known = [f.parent.name in classes for f in files]
    if files and all(known) and source.is_dir():
        truth = np.array([classes.index(f.parent.name) for f in files])
        _note(f"the folders name the classes: accuracy {float((picks == truth).mean()):.4f} on "
              f"{len(files)} images")
    rows = [[str(f), classes[k], *(f"{p:.6f}" for p in probs)]
            for f, k, probs in zip(files, picks, probabilities)]
    return ["file", "prediction", *_probability_columns(classes)], rows


def _image_outputs(preprocessor, model, files, skip_bad_files):
    """(the files read, the model's outputs for them), 256 images at a time. Files that are
    not readable images are an error naming them all, or with ``skip_bad_files`` left out
    with a warning naming each."""
    skipped, read, outputs = [], [], []
    for start in range(0, len(files), 256):
        chunk = files[start:start + 256]
        before = len(skipped)
        inputs = preprocessor.read(chunk, skipped)
        bad = {path for path, _ in skipped[before:]}
        read += [path for path in chunk if path not in bad]
        if len(inputs):
            outputs.append(model_outputs(model, inputs))
    if skipped and not skip_bad_files:
        raise unreadable_images(skipped, len(files))
    for path, reason in skipped:
        _note(f"warning: skipped {path}: not a readable image ({reason})")
    if not read:
        raise ValueError(f"none of the {len(files)} files is a readable image")
    return read, np.concatenate(outputs)


def read_new_series(config, preprocessor, source, skip_bad_rows=False):
    """The series in ``source``, read as the run's training series was (target, time and
    feature columns, time grid), its notes printed; an error when it is shorter than a
    window. ``skip_bad_rows`` leaves out lines with too many fields, with a warning."""
    read_as_numbers = [n for n in config.numeric or () if n in [config.target,
                                                                 *preprocessor.features]]
    grid = (preprocessor.step, preprocessor.unit) if config.time else None
    series = read_series(source, config.target, config.time, preprocessor.features,
                         numeric=read_as_numbers, grid=grid, skip_bad_rows=skip_bad_rows,
                         header=not config.no_header)
    for note in series.notes:
        _note(f"note: {note}")
    if len(series) < preprocessor.window:
        raise ValueError(f"{source} has {len(series)} steps of {config.target!r}; the model "
                         f"needs the last {preprocessor.window} (its --window)")
    return series


def _series(config, preprocessor, model, source, skip_bad_rows=False):
    series = read_new_series(config, preprocessor, source, skip_bad_rows)
    end = np.array([len(series) - 1])
    outputs = model_outputs(model, preprocessor.inputs(series.values, end, series.covariates))
    forecast = preprocessor.forecast(series.values, end, outputs)[0]
    rows = [[h, series.time_label(len(series) - 1 + h), f"{value:.6g}"]
            for h, value in enumerate(forecast, start=1)]
    return ["steps_ahead", "time", f"{config.target}_forecast"], rows


def prompt_tokens(metadata, source):
    """The last ``block_size`` characters of a prompt (the text of a file, or the argument) as
    a (1, length) int64 array of the model's character codes."""
    path = Path(source)
    prompt = read_plain_text(path)[0] if path.is_file() else source
    vocab = metadata["vocab"]
    index = {ch: i for i, ch in enumerate(vocab)}
    unknown = sorted(set(prompt) - set(index))
    if unknown or not prompt:
        raise ValueError(f"the prompt has characters the model does not know: {unknown}; it "
                         "knows those of its training text: leave them out or replace them"
                         if unknown else "the prompt is empty")
    return np.array([[index[ch] for ch in prompt[-metadata["block_size"]:]]], dtype=np.int64)


def _text(metadata, model, source):
    """The next-character distribution after a prompt (the text of a file, or the argument)."""
    vocab = metadata["vocab"]
    tokens = prompt_tokens(metadata, source)
    logits = model(from_numpy(tokens))[0, -1].numpy().astype(np.float64)[None]
    probabilities = softmax(logits)[0]
    top = np.argsort(-probabilities)[:10]
    return ["next_character", "probability"], [[repr(vocab[k])[1:-1], f"{probabilities[k]:.6f}"]
                                               for k in top]


def _write(header, rows, out):
    if out is None:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        sys.stdout.flush()
        return
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    write_output(out, text.getvalue().encode("utf-8"))
    _note(f"wrote {len(rows)} predictions to {out}")
