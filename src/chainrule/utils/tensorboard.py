"""``torch.utils.tensorboard``: ``SummaryWriter``, through the tensorboardX package (the
``tensorboard`` extra: ``pip install 'chainrule[tensorboard]'``). Tensors may be passed wherever
PyTorch's writer takes them (``add_scalar("loss", loss, step)``, ``add_histogram("w", p)``).

Importing this module without tensorboardX raises ImportError, as PyTorch's does without
TensorBoard, so ``try: from torch.utils.tensorboard import SummaryWriter`` still works."""

import functools
import warnings

import numpy as np

from ..tensor import Tensor

try:
    import tensorboardX
except ImportError:
    raise ImportError(
        "torch.utils.tensorboard needs tensorboardX in chainrule: "
        "pip install 'chainrule[tensorboard]' (or pip install tensorboardX)"
    ) from None

__all__ = ["SummaryWriter"]


def _plain(value):
    """Tensors (also inside lists, tuples and dicts) as NumPy arrays, for tensorboardX."""
    if isinstance(value, Tensor):
        return np.asarray(value.detach().numpy())
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _taking_tensors(method):
    @functools.wraps(method)
    def write(self, *args, **kwargs):
        return method(self, *(_plain(a) for a in args), **{k: _plain(v) for k, v in
                                                               kwargs.items()})

    return write


class SummaryWriter(tensorboardX.SummaryWriter):
    """PyTorch's ``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10,
    flush_secs=120, filename_suffix='')``, writing TensorBoard event files."""

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Not written: PyTorch's writer traces the model with TorchScript, which chainrule's
        modules are not. Warns and goes on, so a script that logs its graph still runs."""
        warnings.warn(
            "SummaryWriter.add_graph: the model graph is not written (it needs a TorchScript "
            "trace); see chainrule.diagnostics.draw_graph(loss) for chainrule's own drawing",
            stacklevel=2)


# Every add_* method of the writer accepts chainrule tensors (converted to NumPy first).
for _name in dir(tensorboardX.SummaryWriter):
    if _name.startswith("add_") and _name != "add_graph":
        setattr(SummaryWriter, _name,
                _taking_tensors(getattr(tensorboardX.SummaryWriter, _name)))
