"""``torch.utils.data``'s spelling of :mod:`chainrule.data` (the same objects, re-exported)."""

from ..data import *  # noqa: F403
from ..data import __all__, collate, dataloader, dataset, readers, sampler  # noqa: F401
