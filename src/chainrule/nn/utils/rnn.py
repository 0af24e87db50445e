"""``torch.nn.utils.rnn``: variable-length sequences for the recurrent layers.

A ``PackedSequence`` holds the steps of a batch of sequences of different lengths, time step by
time step, longest sequences first (``batch_sizes[t]`` sequences are still running at step
``t``). ``RNN``, ``LSTM`` and ``GRU`` accept one: each sequence then stops at its own length, so
``h_n`` is the state after its last real step, not after padding. Packing and padding are index
operations, so gradients flow through them."""

from collections import namedtuple

import numpy as np

from ... import creation
from ...ops.join import cat, stack
from ...tensor import Tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pack_sequence",
           "pad_packed_sequence", "pad_sequence", "unpack_sequence", "unpad_sequence"]

_wrap = Tensor._from_array


class PackedSequence(namedtuple("PackedSequence",
                                ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as PyTorch's."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, *self[1:])

    def cpu(self):
        return self

    def double(self):
        return type(self)(self.data.double(), *self[1:])

    def float(self):
        return type(self)(self.data.float(), *self[1:])

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None)."""
    if permutation is None:
        return None
    order = np.asarray(permutation._data if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return _wrap(inverse.astype(np.int64))


def _lengths_array(lengths):
    array = np.asarray(lengths._data if isinstance(lengths, Tensor) else lengths)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise RuntimeError(f"lengths must be a 1-D sequence of integers, got {lengths!r}")
    if array.size and array.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    return array.astype(np.int64)


def _pack(time_major, lengths, sorted_indices):
    """The data rows of a PackedSequence from a (T, B, ...) tensor."""
    order = np.arange(lengths.size) if sorted_indices is None else sorted_indices._data
    sorted_lengths = lengths[order]
    batch_sizes = np.array([(sorted_lengths > t).sum() for t in range(sorted_lengths[0])],
                           dtype=np.int64)
    batch = time_major.shape[1]
    rows = np.concatenate([t * batch + order[:size] for t, size in enumerate(batch_sizes)])
    flat = time_major.reshape(-1, *time_major.shape[2:])
    return flat[_wrap(rows)], _wrap(batch_sizes)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences of the
    given lengths. With ``enforce_sorted`` the lengths must be decreasing; otherwise they are
    sorted here and the permutation is kept in the result."""
    lengths = _lengths_array(lengths)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
    else:
        sorted_indices = _wrap(np.argsort(-lengths, kind="stable").astype(np.int64))
    time_major = input.transpose(0, 1) if batch_first else input
    if lengths.size != time_major.shape[1]:
        raise ValueError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                         f"{lengths.size} (batch_size={time_major.shape[1]})")
    if lengths.size and lengths.max() > time_major.shape[0]:
        raise RuntimeError(f"a length ({lengths.max()}) exceeds the padded length "
                           f"{time_major.shape[0]}")
    data, batch_sizes = _pack(time_major, lengths, sorted_indices)
    return PackedSequence(data, batch_sizes, sorted_indices)


def _lengths_of(sequence):
    """Each sequence's length, in the original batch order."""
    batch_sizes = sequence.batch_sizes._data
    sorted_lengths = np.array([(batch_sizes > j).sum() for j in range(batch_sizes[0])],
                              dtype=np.int64)
    if sequence.unsorted_indices is None:
        return sorted_lengths
    return sorted_lengths[sequence.unsorted_indices._data]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: ``(padded, lengths)``, in the original batch order."""
    batch_sizes = sequence.batch_sizes._data
    steps, batch = len(batch_sizes), int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least {steps}, but got "
                             f"total_length={total_length}")
        steps = total_length
    order = (np.arange(batch) if sequence.sorted_indices is None
             else sequence.sorted_indices._data)
    data = sequence.data
    pad_row = len(data)
    source = np.full(steps * batch, pad_row, dtype=np.int64)  # padded position -> data row
    row = 0
    for t, size in enumerate(batch_sizes):
        source[t * batch + order[:size]] = np.arange(row, row + size)
        row += size
    filler = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype)
    padded = cat([data, filler])[_wrap(source)].reshape(steps, batch, *data.shape[1:])
    lengths = _wrap(_lengths_of(sequence))
    return (padded.transpose(0, 1) if batch_first else padded), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shape (L_i, *) into (L_max, B, *) (or (B, L_max, *)), padding with
    ``padding_value`` on the ``padding_side``."""
    if padding_side not in ("right", "left"):
        raise ValueError(f"padding_side must be 'left' or 'right', got {padding_side!r}")
    sequences = list(sequences)
    longest = max(len(s) for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - len(s)
        if missing:
            filler = creation.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype)
            s = cat([s, filler]) if padding_side == "right" else cat([filler, s])
        padded.append(s)
    return stack(padded, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors of shape (L_i, *)."""
    lengths = [len(s) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch."""
    batch_major = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch_major[i, :int(length)] for i, length in enumerate(_lengths_array(lengths))]


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def run_packed(rnn, packed, hx, run):
    """A recurrent layer on a PackedSequence: the sequences of each length run together through
    ``run(input, hx)`` (the layer's own forward on a padded batch), so each stops at its own
    length. Returns ``(PackedSequence output, h_n)``, h_n in the original batch order (for an
    LSTM, ``(h_n, c_n)``)."""
    padded, lengths = pad_packed_sequence(packed)  # (T, B, F), original order
    if rnn.batch_first:
        padded = padded.transpose(0, 1)
    steps = padded.shape[1 if rnn.batch_first else 0]
    outputs, states, order = [], [], []
    for length in sorted(set(lengths.tolist()), reverse=True):
        members = np.flatnonzero(lengths._data == length)
        index = _wrap(members.astype(np.int64))
        batch_dim = 0 if rnn.batch_first else 1
        sub = padded.index_select(batch_dim, index).narrow(1 - batch_dim, 0, length)
        sub_hx = None if hx is None else (
            tuple(h.index_select(1, index) for h in hx) if isinstance(hx, tuple)
            else hx.index_select(1, index))
        out, state = run(sub, sub_hx)
        if length < steps:
            shape = list(out.shape)
            shape[1 - batch_dim] = steps - length
            out = cat([out, out.new_zeros(shape)], dim=1 - batch_dim)
        outputs.append(out)
        states.append(state)
        order.append(members)
    restore = invert_permutation(np.concatenate(order))
    batch_dim = 0 if rnn.batch_first else 1
    output = cat(outputs, dim=batch_dim).index_select(batch_dim, restore)
    if isinstance(states[0], tuple):
        state = tuple(cat([s[i] for s in states], dim=1).index_select(1, restore)
                      for i in range(len(states[0])))
    else:
        state = cat(states, dim=1).index_select(1, restore)
    time_major = output.transpose(0, 1) if rnn.batch_first else output
    data, _ = _pack(time_major, lengths._data, packed.sorted_indices)
    return PackedSequence(data, packed.batch_sizes, packed.sorted_indices,
                          packed.unsorted_indices), state
