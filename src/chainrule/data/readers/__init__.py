"""Dataset readers: the built-in digits and Shakespeare, and MNIST, Fashion-MNIST, CIFAR-10 and
any text file from local files. Nothing is downloaded."""

from .cifar import CIFAR10, read_cifar_batch
from .digits import Digits, load_digits
from .idx import MNIST, FashionMNIST, read_idx
from .text import CharDataset, TextDataset, load_shakespeare

__all__ = [
    "CIFAR10",
    "CharDataset",
    "Digits",
    "FashionMNIST",
    "MNIST",
    "TextDataset",
    "load_digits",
    "load_shakespeare",
    "read_cifar_batch",
    "read_idx",
]
