"""``AdaptiveLogSoftmaxWithLoss``: the efficient softmax of Grave et al. for large vocabularies:
frequent classes in a head, rare ones in tail clusters behind one head entry each."""

from collections import namedtuple

import numpy as np

from ...ops.join import cat
from ...tensor import Tensor
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """log p(class | x) = head log-softmax for classes below ``cutoffs[0]``; for a class in
    cluster i, head log-probability of the cluster plus the log-softmax of the cluster's
    tail (a two-layer projection whose width shrinks by ``div_value`` per cluster).

    ``forward(input, target)`` returns ``(output, loss)``: each target's log-probability and
    the mean negative log-likelihood; ``log_prob`` and ``predict`` give every class's."""

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs)
                or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        factory = dict(device=device, dtype=dtype)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **factory)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **factory),
                                        Linear(hidden, size, bias=False, **factory)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                layer.reset_parameters()

    def forward(self, input_, target_):
        batched = target_.dim() > 0
        if batched and (input_.dim() != 2 or input_.shape[0] != target_.shape[0]):
            raise RuntimeError("Input and target should have the same size in the batch "
                               "dimension, and input should be 2D (batch, in_features)")
        if not batched and input_.dim() != 1:
            raise RuntimeError("1D target tensor expects 1D input tensors, but found inputs "
                               f"with size {tuple(input_.shape)}")
        input = input_ if batched else input_.unsqueeze(0)
        target = (target_ if batched else target_.unsqueeze(0)).numpy().astype(np.int64)
        if target.size and (target.min() < 0 or target.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min()}, {target.max()}] were found. ")
        batch = target.shape[0]
        head_index = target.copy()  # head entry per row: its class, or its cluster's entry
        output = input.new_zeros(batch)
        for i in range(1, len(self.cutoffs)):
            low, high = self.cutoffs[i - 1], self.cutoffs[i]
            rows = np.flatnonzero((target >= low) & (target < high))
            if not len(rows):
                continue
            head_index[rows] = self.shortlist_size + i - 1
            index = Tensor._from_array(rows)
            logprob = F.log_softmax(self.tail[i - 1](input.index_select(0, index)), dim=1)
            local = logprob.gather(1, Tensor._from_array(target[rows, None] - low)).squeeze(1)
            output = output.index_add(0, index, local)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        chosen = head_logprob.gather(1, Tensor._from_array(head_index[:, None])).squeeze(1)
        output = output + chosen
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](input), dim=1)
            parts.append(cluster + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """log p(c | x) for every class c: (N, n_classes), or (n_classes,) unbatched."""
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input):
        """The most likely class of each row: log_prob(input).argmax(dim=1)."""
        return self.log_prob(input).argmax(dim=-1)
