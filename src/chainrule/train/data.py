"""Turning the config's data set choice into a task (arrays, split, loss, metrics)."""

from pathlib import Path

import numpy as np

from .. import data as datasets
from ..data.readers._files import read_bytes
from ..data.readers.table import decode_text
from .data_settings import OWN_DATA
from .tasks import CharLanguageModel, ImageClassification


def _image_arrays(dataset, max_value):
    images = dataset.data.numpy().astype(np.float32) / np.float32(max_value)
    return images, dataset.targets.numpy().astype(np.int64)


def _image_task(config):
    if config.data == "digits":
        return ImageClassification("built-in digits (8x8)", datasets.load_digits("train"),
                                   datasets.load_digits("test"), num_classes=10,
                                   label_smoothing=config.label_smoothing)
    reader = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST,
              "cifar10": datasets.CIFAR10}[config.data]
    root = Path(config.data_path).expanduser()
    train = _image_arrays(reader(root, train=True), 255)
    test = _image_arrays(reader(root, train=False), 255)
    return ImageClassification(f"{config.data} ({root})", train, test, num_classes=10,
                               label_smoothing=config.label_smoothing)


def _text(config):
    """The text of ``--data text`` or ``--data file``, its name, and notes on reading it."""
    if config.data == "text":
        return "built-in Shakespeare (Macbeth)", datasets.load_shakespeare(), []
    path = Path(config.data_path).expanduser()
    if path.is_dir():
        raise ValueError(f"--data-path {path} is a folder; --data file reads one text file: "
                         f"join its files into one first (e.g. cat {path}/*.txt > all.txt)")
    if not path.exists():
        raise FileNotFoundError(f"--data-path {path} does not exist")
    text, note = read_plain_text(path)
    return str(path), text, [note] if note else []


def read_plain_text(path):
    """A text file's text and a note on its encoding (or None), read as the table reader reads
    (gzip, UTF-16, Windows-1252 with a note) with universal newlines, as Python's text mode
    gives them: a CRLF file teaches no '\r', and a CRLF prompt file needs none."""
    text, note = decode_text(path, read_bytes(path), "a text file",
                             "--data file reads a plain text file")
    return text.replace("\r\n", "\n").replace("\r", "\n"), note


def _own_data_task(config, metadata):
    from .image_folder_task import load_image_folder_task
    from .series_task import load_series_task
    from .table_task import load_table_task

    load = {"table": load_table_task, "images": load_image_folder_task,
            "series": load_series_task}[config.data]
    return load(config, metadata)


def load_task(config, vocab=None, metadata=None):
    """The task for a config: image classification, character language modelling, or own data
    (a table, an image folder, a series; ``metadata`` brings its saved preprocessing)."""
    if config.data in OWN_DATA:
        return _own_data_task(config, metadata)
    if config.model in ("mlp", "cnn"):
        return _image_task(config)
    name, text, notes = _text(config)
    task = CharLanguageModel(name, text, config.block_size, config.steps_per_epoch, vocab=vocab)
    task.notes = notes
    return task


def task_from_metadata(config, metadata):
    """The task of a saved run, with the vocabulary the model was trained on."""
    if metadata["kind"] == "text":
        return load_task(config, vocab=metadata["vocab"])
    return load_task(config, metadata=metadata if config.data in OWN_DATA else None)
