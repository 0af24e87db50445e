"""Margin and embedding losses (ranking, hinge, soft margin, cosine embedding, multi-label and
multi-class margins, triplets), composed from differentiable tensor operations.

Each returns the per-sample loss reduced by ``reduction`` ('mean', 'sum' or 'none'); the
deprecated ``size_average``/``reduce`` arguments are honoured as in PyTorch."""

import numpy as np

from ...ops.activation import logsigmoid
from ...ops.loss import _reduction
from ...ops.registry import register
from ...tensor import Tensor
from .distance import pairwise_distance


def reduce_loss(loss, reduction):
    """The per-element ``loss`` as 'none', or its 'mean' or 'sum'."""
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _same_shapes(op, **tensors):
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len(set(shapes.values())) != 1:
        listed = ", ".join(f"{name} {shape}" for name, shape in shapes.items())
        raise RuntimeError(f"{op}: expected inputs of the same shape, got {listed}")


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin): x1 should rank above x2 where y = 1, below where -1."""
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    _same_shapes("margin_ranking_loss", input1=input1, input2=input2, target=target)
    return reduce_loss((-target * (input1 - input2) + margin).clamp(min=0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = _reduction("hinge_embedding_loss", size_average, reduce, reduction)
    zeros = input * 0
    below = (margin - input).clamp(min=0).where(target != 1, zeros)
    return reduce_loss(below + input.where(target != -1, zeros), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-y x)), the logistic loss for targets y in {1, -1}."""
    reduction = _reduction("soft_margin_loss", size_average, reduce, reduction)
    return reduce_loss(-logsigmoid(input * target), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; the cosine is
    x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12)) along the last dim, as in PyTorch."""
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    if input1.dim() not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(
            f"cosine_embedding_loss: expected two 1-D or 2-D inputs of the same shape, got "
            f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    dim = input1.dim() - 1
    products = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + 1e-12) * ((input2 * input2).sum(dim) + 1e-12)
    cos = products / squares.sqrt()
    zeros = cos * 0
    loss = (1 - cos).where(target == 1, zeros) + (cos - margin).clamp(min=0).where(
        target == -1, zeros)
    return reduce_loss(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), averaged over the classes (last dim),
    optionally weighted per class."""
    reduction = _reduction("multilabel_soft_margin_loss", size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    return reduce_loss(loss.sum(class_dim) / input.shape[class_dim], reduction)


def _class_targets(op, input, target):
    if not isinstance(target, Tensor) or target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: target must be an integer (Long) tensor; use target.long()")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"{op}: expected a 1-D (C) or 2-D (N, C) input, got shape "
                           f"{tuple(input.shape)}")


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x_j - x_i)), / C.
    Each row of ``target`` lists class indices and ends at the first -1."""
    reduction = _reduction("multilabel_margin_loss", size_average, reduce, reduction)
    _class_targets("multilabel_margin_loss", input, target)
    if tuple(target.shape) != tuple(input.shape):
        raise RuntimeError(f"multilabel_margin_loss: target shape {tuple(target.shape)} must "
                           f"equal input shape {tuple(input.shape)}")
    x = input if input.dim() == 2 else input.unsqueeze(0)
    labels = target._data.reshape(x.shape)
    classes = x.shape[1]
    counts = np.zeros(x.shape, dtype=x._data.dtype)  # how often each class is listed
    for row, listed in enumerate(labels):
        for label in listed:
            if label < 0:
                break
            if label >= classes:
                raise IndexError(f"multilabel_margin_loss: target {label} is out of range "
                                 f"for {classes} classes")
            counts[row, label] += 1
    others = (counts == 0).astype(counts.dtype)
    pairs = Tensor._from_array(counts[:, :, None] * others[:, None, :])
    margins = (1 - x.unsqueeze(2) + x.unsqueeze(1)).clamp(min=0)  # [n, j, i]
    loss = (margins * pairs).sum((1, 2)) / classes
    return reduce_loss(loss if input.dim() == 2 else loss.squeeze(0), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over i != y of max(0, margin - x_y + x_i)^p (times weight[y]), / C."""
    reduction = _reduction("multi_margin_loss", size_average, reduce, reduction)
    if p not in (1, 2):
        raise ValueError("multi_margin_loss: only p == 1 and p == 2 supported")
    _class_targets("multi_margin_loss", input, target)
    x = input if input.dim() == 2 else input.unsqueeze(0)
    labels = target._data.reshape(-1).astype(np.int64)
    classes = x.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise IndexError(f"multi_margin_loss: target values must be in [0, {classes}), got "
                         f"{labels.min()} to {labels.max()}")
    index = Tensor._from_array(labels[:, None])
    chosen = x.gather(1, index)
    others = np.ones(x.shape, dtype=x._data.dtype)
    others[np.arange(len(labels)), labels] = 0
    terms = (margin - chosen + x).clamp(min=0)
    if p == 2:
        terms = terms * terms
    if weight is not None:
        terms = terms * weight.gather(0, Tensor._from_array(labels)).unsqueeze(1)
    loss = (terms * Tensor._from_array(others)).sum(1) / classes
    return reduce_loss(loss if input.dim() == 2 else loss.squeeze(0), reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, margin + d(a, p) - d(a, n)) with d the p-norm pairwise distance; ``swap`` uses
    min(d(a, n), d(p, n)) as the negative distance."""
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    distance = lambda x, y: pairwise_distance(x, y, p, eps)  # noqa: E731
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """The triplet margin loss with any distance (default: the Euclidean pairwise distance)."""
    reduction = _reduction("triplet_margin_with_distance_loss", None, None, reduction)
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, "
                         f"got {margin} instead")
    distance = distance_function if distance_function is not None else pairwise_distance
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    dims = {anchor.dim(), positive.dim(), negative.dim()}
    if len(dims) != 1 or dims.pop() not in (1, 2):
        raise RuntimeError(
            "triplet_margin_loss: the anchor, positive and negative must all be 1-D (D) or all "
            f"2-D (N, D); got shapes {tuple(anchor.shape)}, {tuple(positive.shape)}, "
            f"{tuple(negative.shape)}")
    d_positive = distance(anchor, positive)
    d_negative = distance(anchor, negative)
    if swap:
        d_negative = d_negative.minimum(distance(positive, negative))
    return reduce_loss((margin + d_positive - d_negative).clamp(min=0), reduction)


register(margin_ranking_loss, top=False, method=False, functional=True)
register(hinge_embedding_loss, top=False, method=False, functional=True)
register(soft_margin_loss, top=False, method=False, functional=True)
register(cosine_embedding_loss, top=False, method=False, functional=True)
register(multilabel_soft_margin_loss, top=False, method=False, functional=True)
register(multilabel_margin_loss, top=False, method=False, functional=True)
register(multi_margin_loss, top=False, method=False, functional=True)
register(triplet_margin_loss, top=False, method=False, functional=True)
register(triplet_margin_with_distance_loss, top=False, method=False, functional=True)
