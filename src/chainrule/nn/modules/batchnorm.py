"""Batch normalisation: per-channel statistics of the batch in training, running statistics in
evaluation."""

from ... import _dtypes, creation
from ...autograd import grad_mode
from .. import functional as F
from ..parameter import optional_parameter
from .lazy import LazyNormMixin
from .module import Module

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d",
    "LazyBatchNorm2d", "LazyBatchNorm3d"]


class _NormBase(Module):
    """What batch and instance norm share (PyTorch's base of both, so that
    ``isinstance(m, _BatchNorm)`` leaves instance norms out, as there): the affine
    parameters and the running statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.register_parameter("weight", optional_parameter(affine, num_features, dtype, device))
        self.register_parameter("bias", optional_parameter(affine and bias, num_features, dtype,
                                                           device))
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", creation.tensor(0, dtype=_dtypes.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    _version = 2  # PyTorch's: version 2 added num_batches_tracked

    def _may_be_missing(self, name, version):
        # files from before num_batches_tracked (PyTorch < 0.4.1) and plain dicts without
        # PyTorch's version metadata load without it, as in PyTorch
        return name == "num_batches_tracked" and (version is None or version < 2)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            with grad_mode.no_grad():
                self.weight.fill_(1.0)
                if self.bias is not None:
                    self.bias.zero_()

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")



class _BatchNorm(_NormBase):
    """Shared by the batch-norm layers; subclasses say which input ranks they accept."""

    _input_ranks = ()

    def _check_input_dim(self, input):
        if input.dim() not in self._input_ranks:
            ranks = " or ".join(f"{r}D" for r in self._input_ranks)
            raise ValueError(
                f"{type(self).__name__}: expected {ranks} input, got {input.dim()}D input of "
                f"shape {tuple(input.shape)}"
            )

    def forward(self, input):
        self._check_input_dim(input)
        # momentum=None means a cumulative moving average: 1/n for the n-th batch
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_stats = self.training or (self.running_mean is None
                                            and self.running_var is None)
        keep_stats = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if keep_stats else None,
            self.running_var if keep_stats else None,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs, per channel C."""

    _input_ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs, per channel C."""

    _input_ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over (N, C, D, H, W) inputs, per channel C."""

    _input_ranks = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch norm over (N, C, *) inputs. PyTorch synchronises the statistics across the
    processes of a distributed job; chainrule computes them on each process's own batch (as
    PyTorch does without a process group), so under MPI data parallelism each rank
    normalises with its local batch statistics."""

    _input_ranks = None

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch-norm layer (at any depth) replaced by a SyncBatchNorm
        that shares its parameters and buffers."""
        output = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            output = cls(module.num_features, module.eps, module.momentum, module.affine,
                         module.track_running_stats, process_group)
            if module.affine:
                output.weight = module.weight
                output.bias = module.bias
            output.running_mean = module.running_mean
            output.running_var = module.running_var
            output.num_batches_tracked = module.num_batches_tracked
            output.training = module.training
        for name, child in module.named_children():
            output.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return output


class LazyBatchNorm1d(LazyNormMixin, _BatchNorm):
    """A ``BatchNorm1d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm1d
    _input_ranks = BatchNorm1d._input_ranks


class LazyBatchNorm2d(LazyNormMixin, _BatchNorm):
    """A ``BatchNorm2d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm2d
    _input_ranks = BatchNorm2d._input_ranks


class LazyBatchNorm3d(LazyNormMixin, _BatchNorm):
    """A ``BatchNorm3d`` whose ``num_features`` comes from its first input."""

    cls_to_become = BatchNorm3d
    _input_ranks = BatchNorm3d._input_ranks
