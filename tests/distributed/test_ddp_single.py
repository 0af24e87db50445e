"""DistributedDataParallel in a world of one process (no mpiexec): it must act as the module."""

import importlib.util
import sys

import numpy as np
import pytest

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn

needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                               reason="needs mpi4py: pip install 'chainrule[mpi]'")


def net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()


@needs_mpi
def test_training_steps_match_the_plain_module():
    dist.init()
    wrapped, plain = dist.DistributedDataParallel(net(), bucket_cap_mb=5e-5), net()
    assert len(wrapped._buckets) == 4  # one parameter per bucket at this cap
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (wrapped, plain)]
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    for _ in range(3):
        for model, opt in zip((wrapped, plain), opts):
            opt.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    for p, q in zip(wrapped.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@needs_mpi
def test_state_dict_keys_and_module_attribute():
    dist.init()
    inner = net()
    wrapped = dist.DistributedDataParallel(inner)
    assert wrapped.module is inner
    assert list(wrapped.state_dict()) == ["module." + k for k in inner.state_dict()]


class HeadOnly(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(3, 1)
        self.spare = nn.Linear(3, 1)

    def forward(self, x):
        return self.head(x)


@needs_mpi
def test_a_parameter_used_outside_forward_is_an_error():
    dist.init()
    wrapped = dist.DistributedDataParallel(HeadOnly(), find_unused_parameters=True)
    out = wrapped(torch.randn(2, 3))
    outside = wrapped.module.spare.weight.sum()  # in the loss, not in the module's forward
    with pytest.raises(RuntimeError, match="spare.weight was marked ready twice"):
        (out.sum() + outside).backward()


@needs_mpi
def test_backward_through_the_bare_module_stays_local():
    dist.init()
    wrapped = dist.DistributedDataParallel(net())
    x = torch.randn(2, 3, dtype=torch.float64)
    wrapped(x).sum().backward()
    wrapped.module(x).sum().backward()  # not through the wrapper: no reduction, no error
    wrapped.zero_grad()
    wrapped(x).sum().backward()  # the next synchronised iteration works
    assert all(p.grad is not None for p in wrapped.parameters())


@needs_mpi
def test_wrapping_needs_init_and_sensible_options():
    dist.destroy_process_group()
    with pytest.raises(RuntimeError, match=r"call chainrule.distributed.init\(\) first"):
        dist.DistributedDataParallel(net())
    dist.init()
    with pytest.raises(ValueError, match="not both"):
        dist.DistributedDataParallel(net(), bucket_cap_mb=1, bucket_size_mb=1)
    with pytest.raises(ValueError, match="device_ids"):
        dist.DistributedDataParallel(net(), device_ids=[0])


@needs_mpi
def test_collectives_in_a_world_of_one():
    dist.init()
    assert (dist.rank(), dist.world_size(), dist.is_initialized()) == (0, 1, True)
    t = torch.tensor([1.0, 2.0])
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    dist.broadcast(t, src=0)
    dist.barrier()
    assert t.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="contiguous, writable"):
        dist.all_reduce(torch.ones(3, 2).t())


def test_without_mpi4py_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # makes `import mpi4py` fail
    monkeypatch.setattr(dist.comm, "_state", dict(dist.comm._state, initialized=False))
    assert not dist.is_available()
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[mpi\]'"):
        dist.init()
    monkeypatch.delenv("PMI_SIZE", raising=False)
    context = dist.setup_for_training()  # run alone: a world of one, no MPI needed
    assert (context.rank, context.world_size, context.is_main) == (0, 1, True)
    model = net()
    assert context.wrap_model(model) is model
