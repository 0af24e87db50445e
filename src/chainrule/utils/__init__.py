"""``torch.utils`` under PyTorch's paths: ``chainrule.utils.data`` (the data package, with the
distributed sampler), ``chainrule.utils.checkpoint`` and, with the tensorboard extra,
``chainrule.utils.tensorboard``. This package only re-exports, so it sits above every layer it
names."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
