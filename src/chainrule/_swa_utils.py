"""``torch.optim.swa_utils``: stochastic weight averaging and exponential moving averages of
a model's weights (``AveragedModel``), the SWA learning-rate schedule (``SWALR``) and the
batch-norm statistics pass for the averaged model (``update_bn``), with PyTorch's rules.

It needs both ``nn.Module`` and optim's schedulers, and optim may not import nn, so it lives
above both; ``chainrule/__init__.py`` registers it as ``chainrule.optim.swa_utils``."""

import copy
import itertools
import math

import numpy as np

from .autograd.grad_mode import no_grad
from .nn.modules.batchnorm import _BatchNorm
from .nn.modules.module import Module
from .optim.lr_scheduler import LRScheduler, _per_group
from .tensor import Tensor

__all__ = ["AveragedModel", "SWALR", "get_ema_avg_fn", "get_ema_multi_avg_fn",
           "get_swa_avg_fn", "get_swa_multi_avg_fn", "update_bn"]


def get_ema_multi_avg_fn(decay=0.999):
    """In place over lists: averaged <- decay * averaged + (1 - decay) * current."""
    def ema_update(ema_param_list, current_param_list, num_averaged):
        for ema, current in zip(ema_param_list, current_param_list):
            ema.mul_(decay).add_(current, alpha=1 - decay)

    return ema_update


def get_swa_multi_avg_fn():
    """In place over lists: averaged <- averaged + (current - averaged) / (n + 1)."""
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = float(num_averaged.item() if isinstance(num_averaged, Tensor) else num_averaged)
        for averaged, current in zip(averaged_param_list, current_param_list):
            averaged.add_((current - averaged) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` whose weights are the running average of ``model``'s, updated by
    ``update_parameters(model)`` (an equal-weight average by default; pass
    ``multi_avg_fn=get_ema_multi_avg_fn(0.999)`` for an exponential one)."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", Tensor._from_array(np.zeros((), dtype=np.int64)))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        own = (itertools.chain(self.module.parameters(), self.module.buffers())
               if self.use_buffers else self.parameters())
        theirs = (itertools.chain(model.parameters(), model.buffers())
                  if self.use_buffers else model.parameters())
        own = [p for p in own if p is not self.n_averaged]
        theirs = [p.detach() for p in theirs]
        with no_grad():
            if int(self.n_averaged.item()) == 0:
                for p_avg, p_model in zip(own, theirs):
                    p_avg.copy_(p_model)
            elif self.avg_fn is not None:
                for p_avg, p_model in zip(own, theirs):
                    p_avg.copy_(self.avg_fn(p_avg.detach(), p_model, self.n_averaged))
            else:
                update = self.multi_avg_fn or get_swa_multi_avg_fn()
                floating = [(a, m) for a, m in zip(own, theirs) if a.is_floating_point()]
                update([a.detach() for a, _ in floating], [m for _, m in floating],
                       self.n_averaged)
        if not self.use_buffers:
            # the buffers (batch-norm statistics) follow the model: update_bn recomputes them
            for b_swa, b_model in zip(self.module.buffers(), model.buffers()):
                b_swa.detach().copy_(b_model.detach())
        self.n_averaged.add_(1)


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the batch-norm running statistics of ``model`` with one pass over
    ``loader`` (cumulative averages, as PyTorch's)."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps ("cos" or
    "linear"), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        for swa, group in zip(_per_group("swa_lr", optimizer, swa_lr),
                              optimizer.param_groups):
            group["swa_lr"] = swa
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must by one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_strategy = anneal_strategy
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t):
        if self.anneal_strategy == "linear":
            return t
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        self._warn_if_called_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
                    for group in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [group["swa_lr"] * alpha + lr * (1 - alpha)
                for group, lr in zip(self.optimizer.param_groups, prev_lrs)]
