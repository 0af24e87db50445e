"""nn.utils.rnn: packing and padding (PyTorch's documented layout), and recurrent layers on
packed batches, checked against running every sequence alone (independent truth)."""

import numpy as np
import pytest

import chainrule as torch
from chainrule.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)


def test_documented_layout():
    a, b, c = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0]), torch.tensor([6.0])
    packed = pack_sequence([a, b, c])
    assert packed.data.tolist() == [1.0, 4.0, 6.0, 2.0, 5.0, 3.0]
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.sorted_indices is None
    padded = pad_sequence([b, a, c], batch_first=True)
    assert padded.tolist() == [[4.0, 5.0, 0.0], [1.0, 2.0, 3.0], [6.0, 0.0, 0.0]]
    assert pad_sequence([b, c], padding_value=9.0, padding_side="left").tolist() == [
        [4.0, 9.0], [5.0, 6.0]]
    unsorted = pack_padded_sequence(padded, [2, 3, 1], batch_first=True, enforce_sorted=False)
    assert unsorted.data.tolist() == [1.0, 4.0, 6.0, 2.0, 5.0, 3.0]
    assert unsorted.sorted_indices.tolist() == [1, 0, 2]
    back, lengths = pad_packed_sequence(unsorted, batch_first=True, padding_value=-1.0)
    assert back.tolist() == [[4.0, 5.0, -1.0], [1.0, 2.0, 3.0], [6.0, -1.0, -1.0]]
    assert lengths.tolist() == [2, 3, 1]
    assert [s.tolist() for s in unpack_sequence(unsorted)] == [[4.0, 5.0], [1.0, 2.0, 3.0],
                                                                [6.0]]
    assert [s.tolist() for s in unpad_sequence(padded, [2, 3, 1], batch_first=True)] == [
        [4.0, 5.0], [1.0, 2.0, 3.0], [6.0]]
    with pytest.raises(RuntimeError, match="enforce_sorted"):
        pack_padded_sequence(padded, [2, 3, 1], batch_first=True)


@pytest.mark.parametrize("layer", [
    lambda: torch.nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=torch.float64),
    lambda: torch.nn.GRU(3, 4, bidirectional=True, batch_first=True, dtype=torch.float64),
    lambda: torch.nn.RNN(3, 4, dtype=torch.float64),
])
def test_packed_batch_equals_each_sequence_alone(layer):
    torch.manual_seed(0)
    rnn = layer()
    lengths = [2, 5, 3]
    sequences = [torch.randn(n, 3, dtype=torch.float64, requires_grad=True) for n in lengths]
    padded = pad_sequence(sequences, batch_first=rnn.batch_first)
    packed = pack_padded_sequence(padded, lengths, batch_first=rnn.batch_first,
                                  enforce_sorted=False)
    out, state = rnn(packed)
    assert isinstance(out, PackedSequence)
    out_padded, out_lengths = pad_packed_sequence(out, batch_first=rnn.batch_first)
    assert out_lengths.tolist() == lengths
    h_n = state[0] if isinstance(state, tuple) else state
    for i, seq in enumerate(sequences):
        alone_in = seq.unsqueeze(0) if rnn.batch_first else seq.unsqueeze(1)
        alone_out, alone_state = rnn(alone_in)
        alone_h = alone_state[0] if isinstance(alone_state, tuple) else alone_state
        got = out_padded[i] if rnn.batch_first else out_padded[:, i]
        np.testing.assert_allclose(got[:lengths[i]].detach().numpy(),
                                   alone_out.squeeze(0 if rnn.batch_first else 1).detach()
                                   .numpy(), rtol=1e-12)
        assert np.all(got[lengths[i]:].detach().numpy() == 0)
        np.testing.assert_allclose(h_n[:, i].detach().numpy(), alone_h[:, 0].detach().numpy(),
                                   rtol=1e-12)
    h_n.sum().backward()
    assert all(s.grad is not None and s.grad.shape == s.shape for s in sequences)
