"""Character-level text datasets for language models, and the built-in Shakespeare play."""

import gzip
from pathlib import Path

import numpy as np

from ...tensor import Tensor
from ..dataset import Dataset
from ._files import read_text, shipped_file

__all__ = ["CharDataset", "TextDataset", "load_shakespeare"]

_wrap = Tensor._from_array


def load_shakespeare():
    """The text of Shakespeare's *Macbeth* (public domain, Project Gutenberg), shipped inside."""
    return gzip.decompress(shipped_file("macbeth.txt.gz")).decode("utf-8")


class CharDataset(Dataset):
    """Windows of ``block_size`` characters as int64 tensors, each with its next characters.

    Sample ``i`` is ``(x, y)`` with ``x = text[i : i + block_size]`` and
    ``y = text[i + 1 : i + block_size + 1]``, encoded with a character vocabulary (the sorted
    unique characters of ``text`` unless ``vocab`` is given).

    >>> ds = CharDataset(load_shakespeare(), block_size=64)
    >>> ds.decode(ds[0][0])[:7]
    'MACBETH'
    """

    def __init__(self, text, block_size, vocab=None):
        if not isinstance(text, str):
            raise TypeError(
                f"CharDataset takes the text as a str, got {type(text).__name__}; for a file use "
                "TextDataset(path, block_size)"
            )
        if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size <= 0:
            raise ValueError(f"CharDataset: block_size must be a positive int, got {block_size!r}")
        if len(text) <= block_size:
            raise ValueError(
                f"CharDataset: the text has {len(text)} characters; it needs more than "
                f"block_size={block_size} to give even one sample"
            )
        self.vocab = sorted(set(text)) if vocab is None else list(vocab)
        self.stoi = {char: i for i, char in enumerate(self.vocab)}
        self.itos = dict(enumerate(self.vocab))
        self.block_size = block_size
        self.text = text
        self._ids = np.asarray(self.encode(text), dtype=np.int64)

    @property
    def vocab_size(self):
        return len(self.vocab)

    def encode(self, text):
        """The list of ids of the characters of ``text``."""
        try:
            return [self.stoi[char] for char in text]
        except KeyError as error:
            raise KeyError(
                f"character {error.args[0]!r} is not in this dataset's vocabulary of "
                f"{self.vocab_size} characters"
            ) from None

    def decode(self, ids):
        """The text for a sequence of ids (a list, array or tensor)."""
        if isinstance(ids, Tensor):
            ids = ids._data
        ids = np.asarray(ids).reshape(-1).tolist()
        try:
            return "".join(self.itos[i] for i in ids)
        except KeyError as error:
            raise KeyError(
                f"id {error.args[0]} is out of range for a vocabulary of {self.vocab_size}"
            ) from None

    def __len__(self):
        return len(self._ids) - self.block_size

    def __getitem__(self, index):
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} samples")
        window = self._ids[index:index + self.block_size + 1]
        return _wrap(window[:-1].copy()), _wrap(window[1:].copy())

    def _collated_batch(self, indices):
        """The DataLoader's fast path: all windows of the batch gathered at once."""
        starts = np.asarray(indices, dtype=np.int64)
        if starts.size and (starts.min() < -len(self) or starts.max() >= len(self)):
            return None  # let __getitem__ raise its error
        starts = np.where(starts < 0, starts + len(self), starts)
        windows = self._ids[starts[:, None] + np.arange(self.block_size + 1)]
        return [_wrap(windows[:, :-1].copy()), _wrap(windows[:, 1:].copy())]

    def split(self, val_fraction=0.1):
        """(train, val): the text cut once, the last ``val_fraction`` for validation.

        A cut rather than a random split of windows, so no validation character was seen in
        training. Both parts share this dataset's vocabulary and block size.
        """
        if not 0 < val_fraction < 1:
            raise ValueError(f"split: val_fraction must be in (0, 1), got {val_fraction}")
        cut = int(round(len(self.text) * (1 - val_fraction)))
        return (CharDataset(self.text[:cut], self.block_size, vocab=self.vocab),
                CharDataset(self.text[cut:], self.block_size, vocab=self.vocab))


class TextDataset(CharDataset):
    """A ``CharDataset`` over the text of a file."""

    def __init__(self, path, block_size, encoding="utf-8", vocab=None):
        path = Path(path).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"TextDataset: no text file at {path}")
        try:
            text = read_text(path, encoding)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path}: not valid {encoding} text ({error.reason} at byte {error.start}); "
                "pass the right encoding=..."
            ) from None
        super().__init__(text, block_size, vocab=vocab)
        self.path = path
