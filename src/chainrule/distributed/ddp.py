"""``DistributedDataParallel``: one model replica per rank, gradients averaged across ranks.

At wrap time rank 0's parameters and buffers are copied to every rank. During backward each
parameter's post-accumulate-grad hook copies its gradient into a flat *bucket*; when every
gradient of a bucket has arrived, that bucket's non-blocking all-reduce starts, while the rest of
backward is still computing. Buckets hold the parameters in reverse registration order (the
order backward reaches them) and are started strictly in that order on every rank, because MPI
matches collectives by order. When the last parameter is ready -- the end of backward for this
model -- every bucket is waited on and each ``.grad`` becomes the average over the ranks, so the
optimizer step that follows sees the same gradient everywhere.
"""

import contextlib
import zlib

import numpy as np

from ..autograd import grad_mode
from ..nn import Module
from ..tensor import Tensor
from . import comm

__all__ = ["DistributedDataParallel"]

DEFAULT_BUCKET_MB = 25  # PyTorch's bucket_cap_mb default


class _Bucket:
    """A flat buffer for the gradients of consecutive parameters of one dtype."""

    def __init__(self, indices, params):
        self.indices = indices
        self.slices = {}
        start = 0
        for index in indices:
            size = params[index]._data.size
            self.slices[index] = slice(start, start + size)
            start += size
        self.buffer = np.empty(start, dtype=params[indices[0]]._data.dtype)
        self.pending = len(indices)
        self.request = None


def _leaves_reached(outputs):
    """Ids of the leaf tensors the autograd graph of ``outputs`` leads to."""
    stack, seen, leaves = [], set(), set()

    def add(value):
        if isinstance(value, Tensor):
            if value.grad_fn is not None:
                stack.append(value.grad_fn)
            elif value.requires_grad:
                leaves.add(id(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(item)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)

    add(outputs)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for edge in node.next_edges:
            if type(edge) is tuple:
                stack.append(edge[0])
            elif edge is not None:
                leaves.add(id(edge))
    return leaves


class DistributedDataParallel(Module):
    """Wraps ``module`` so that backward averages its gradients over all ranks.

    In a script run with ``mpiexec -n 2 python train.py``::

        chainrule.distributed.init()
        model = DistributedDataParallel(Net(), bucket_cap_mb=25)
        loss_fn(model(x), y).backward()   # .grad is now the mean over the ranks
        optimizer.step()

    Every parameter must get a gradient in every iteration, unless
    ``find_unused_parameters=True`` (then the autograd graph of the output is searched after
    each forward, and parameters outside it count as ready with a zero gradient). In both modes
    every output that depends on parameters must take part in the loss. ``bucket_size_mb`` is
    another name for ``bucket_cap_mb``.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, *, bucket_size_mb=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an nn.Module, got {type(module)}")
        if device_ids is not None or output_device is not None:
            raise ValueError("device_ids and output_device are for GPUs; chainrule runs on the "
                             "CPU with one process per rank: leave them out")
        if process_group is not None:
            raise ValueError("only the world group exists: leave process_group out")
        if bucket_cap_mb is not None and bucket_size_mb is not None:
            raise ValueError("give bucket_cap_mb or bucket_size_mb (the same thing), not both")
        cap_mb = bucket_cap_mb if bucket_cap_mb is not None else bucket_size_mb
        cap_mb = DEFAULT_BUCKET_MB if cap_mb is None else cap_mb
        if not cap_mb > 0:
            raise ValueError(f"bucket_cap_mb must be positive, got {cap_mb}")
        self._comm = comm._world()
        self.module = module
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        named = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        self._names = [name for name, _ in named]
        self._params = [p for _, p in named]
        self._check_same_model()
        with grad_mode.no_grad():
            self._broadcast_arrays([p for p in module.parameters()] + list(module.buffers()))
        self._buckets = self._build_buckets(int(cap_mb * 1024 * 1024))
        self._bucket_of = {i: b for b in self._buckets for i in b.indices}
        self._handles = [p.register_post_accumulate_grad_hook(self._hook_for(i))
                         for i, p in enumerate(self._params)]
        self._reset()

    # -- wrap time -------------------------------------------------------------------------------
    def _check_same_model(self):
        """Every rank must wrap the same architecture, or the buckets would not match."""
        layout = repr([(n, tuple(p.shape), str(p.dtype)) for n, p in
                       zip(self._names, self._params)])
        signature = np.array([zlib.crc32(layout.encode())], dtype=np.int64)
        low, high = signature.copy(), signature.copy()
        MPI = comm.mpi()
        self._comm.Allreduce(MPI.IN_PLACE, low, op=MPI.MIN)
        self._comm.Allreduce(MPI.IN_PLACE, high, op=MPI.MAX)
        if low[0] != high[0]:
            raise RuntimeError(
                f"DistributedDataParallel: rank {self._comm.Get_rank()}'s model has different "
                "parameters (names, shapes or dtypes) than another rank's; every rank must build "
                "the same model before wrapping it"
            )

    def _broadcast_arrays(self, tensors):
        """Copy rank 0's values into ``tensors`` on every rank (one message per dtype)."""
        by_dtype = {}
        for t in tensors:
            by_dtype.setdefault(t._data.dtype, []).append(t)
        for group in by_dtype.values():
            flat = np.concatenate([t._data.ravel() for t in group])
            comm.wait(self._comm.Ibcast(flat, root=0), "the broadcast of rank 0's model state")
            start = 0
            for t in group:
                size = t._data.size
                t._data[...] = flat[start:start + size].reshape(t._data.shape)
                t._bump_version()
                start += size

    def _build_buckets(self, cap_bytes):
        buckets, current, size, dtype = [], [], 0, None
        for index in reversed(range(len(self._params))):
            array = self._params[index]._data
            if current and (size + array.nbytes > cap_bytes or array.dtype != dtype):
                buckets.append(_Bucket(current, self._params))
                current, size = [], 0
            current.append(index)
            size += array.nbytes
            dtype = array.dtype
        if current:
            buckets.append(_Bucket(current, self._params))
        return buckets

    # -- each iteration --------------------------------------------------------------------------
    def _reset(self):
        self._ready = [False] * len(self._params)
        self._pending = len(self._params)
        for bucket in self._buckets:
            bucket.pending, bucket.request = len(bucket.indices), None
        self._next_bucket = 0
        self._armed = False
        self._unused = []
        self._local_used = None

    def forward(self, *inputs, **kwargs):
        if self._armed and self._pending < len(self._params):
            missing = [n for n, ready in zip(self._names, self._ready) if not ready]
            raise RuntimeError(
                "DistributedDataParallel: the previous iteration's gradient reduction did not "
                "finish before this forward: these parameters got no gradient in its backward: "
                f"{', '.join(missing[:10])}{' ...' if len(missing) > 10 else ''}. Pass "
                "find_unused_parameters=True when some parameters are not used in every "
                "iteration, and make every output that depends on parameters part of the loss"
            )
        self._reset()
        if self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                self._broadcast_arrays(buffers)
        output = self.module(*inputs, **kwargs)
        if self.require_backward_grad_sync and grad_mode.is_grad_enabled() and self._params:
            self._armed = True
            if self.find_unused_parameters:
                reached = _leaves_reached(output)
                self._local_used = np.array([id(p) in reached for p in self._params], np.int32)
                self._unused = [i for i, used in enumerate(self._local_used) if not used]
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Backward passes of forwards run inside keep their gradients local (accumulating in
        ``.grad``); the first synchronised backward after it averages the sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def _hook_for(self, index):
        def hook(param):
            if self._armed:
                if self._unused:  # PyTorch marks them at the first hook, so forward-only is free
                    unused, self._unused = self._unused, []
                    for i in unused:
                        self._mark_ready(i)
                self._mark_ready(index)
        return hook

    def _mark_ready(self, index):
        if self._ready[index]:
            raise RuntimeError(
                f"DistributedDataParallel: parameter {self._names[index]} was marked ready twice "
                "in one iteration: it got a gradient although it is not in the graph of the "
                "forward's output (used outside the wrapped module's forward, e.g. in the loss?), "
                "or two backward passes of one forward each carried part of the gradients; use "
                "parameters inside forward only, and one backward per forward"
            )
        self._ready[index] = True
        bucket = self._bucket_of[index]
        grad = self._params[index]._grad
        target = bucket.buffer[bucket.slices[index]]
        if grad is None:
            target.fill(0)
        else:
            target[...] = grad._data.ravel()
        bucket.pending -= 1
        self._pending -= 1
        self._start_ready_buckets()
        if self._pending == 0:
            self._finish()

    def _start_ready_buckets(self):
        MPI = comm.mpi()
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if bucket.pending:
                break
            bucket.request = self._comm.Iallreduce(MPI.IN_PLACE, bucket.buffer, op=MPI.SUM)
            self._next_bucket += 1
        # Testing the started requests lets MPI move them along between backward's nodes.
        started = [b.request for b in self._buckets[:self._next_bucket] if b.request]
        if started:
            MPI.Request.Testall(started)

    def _finish(self):
        """All gradients are in their buckets: wait for the sums and write the averages."""
        used_anywhere = None
        if self._local_used is not None:
            used_anywhere = self._local_used.copy()
            MPI = comm.mpi()
            comm.wait(self._comm.Iallreduce(MPI.IN_PLACE, used_anywhere, op=MPI.MAX),
                      "the other ranks' list of used parameters")
        size = self._comm.Get_size()
        for bucket in self._buckets:
            comm.wait(bucket.request, "the gradient all-reduce of the other ranks")
            for index in bucket.indices:
                param = self._params[index]
                if used_anywhere is not None and not used_anywhere[index]:
                    continue  # no rank used it: its .grad stays as it was, as in PyTorch
                average = np.divide(bucket.buffer[bucket.slices[index]], size)
                # A new array, not an in-place write: the engine may still hold the old .grad
                # array as an input of nodes that have not run yet.
                param._grad = Tensor._from_array(average.reshape(param._data.shape))
        # Hooks that fire from now on (a backward through the bare module, or a second one
        # through this graph) are ignored, as in PyTorch: their gradients stay local.
        self._armed = False
