"""``DataParallel`` with no GPU to spread the batch over: as on a CPU-only PyTorch, the wrapped
module runs on the whole batch, and the wrapper keeps PyTorch's ``module.`` prefix in its
state dict. Use ``chainrule.distributed.DistributedDataParallel`` to train on several
processes."""

from ..._device import as_cpu
from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


def _check_devices(device_ids, output_device):
    for device in list(device_ids or []) + ([output_device] if output_device is not None else []):
        as_cpu(device if not isinstance(device, int) else f"cuda:{device}", "run DataParallel")


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``.

    >>> net = chainrule.nn.Linear(3, 2)
    >>> model = chainrule.nn.DataParallel(net)   # on the CPU, model(x) is net(x)
    >>> model.module is net
    True
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        _check_devices(device_ids, output_device)
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """The functional form: ``module(*inputs, **module_kwargs)`` on the CPU."""
    _check_devices(device_ids, output_device)
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
