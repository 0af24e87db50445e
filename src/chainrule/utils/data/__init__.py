"""``torch.utils.data``: :mod:`chainrule.data` under PyTorch's path, with PyTorch's submodules
(``.dataloader``, ``.dataset``, ``.sampler``, ``.distributed``) as the same module objects."""

from ... import data as _data
from ..._module_paths import alias_submodules
from ...data import *  # noqa: F403
from ...data import __all__ as _data_names
from ...distributed import sampler as distributed
from ...distributed.sampler import DistributedSampler

alias_submodules(__name__, dataloader=_data.dataloader, dataset=_data.dataset,
                 sampler=_data.sampler, distributed=distributed, collate=_data.collate,
                 readers=_data.readers)

__all__ = [*_data_names, "DistributedSampler"]
