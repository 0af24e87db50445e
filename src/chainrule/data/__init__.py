"""Data loading, as ``torch.utils.data``: datasets, samplers, the DataLoader, collation, and
readers for the built-in digits and Shakespeare and for MNIST, Fashion-MNIST and CIFAR-10.

Also importable as ``chainrule.utils.data``.
"""

from . import collate, dataloader, dataset, readers, sampler
from .collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .readers import (
    CIFAR10,
    MNIST,
    CharDataset,
    Digits,
    FashionMNIST,
    TextDataset,
    load_digits,
    load_shakespeare,
    read_cifar_batch,
    read_idx,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler",
    "CIFAR10",
    "ChainDataset",
    "CharDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "Digits",
    "FashionMNIST",
    "IterableDataset",
    "MNIST",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "TextDataset",
    "WeightedRandomSampler",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "load_digits",
    "load_shakespeare",
    "random_split",
    "read_cifar_batch",
    "read_idx",
]
