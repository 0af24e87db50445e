"""Run under mpiexec -n 2: a parameter used on rank 0 only, and one used by no rank."""

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(3, 3)
        self.rank0_only = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x, use_branch):
        h = self.trunk(x)
        return self.rank0_only(h) if use_branch else h


dist.init(timeout=10)
rank = dist.rank()
torch.manual_seed(0)
model = dist.DistributedDataParallel(Branchy(), find_unused_parameters=True)
x = torch.ones(2, 3) * (rank + 1)
for _ in range(3):  # several iterations: the state must reset between them
    model.zero_grad()
    model(x, use_branch=rank == 0).sum().backward()
    assert model.module.never.weight.grad is None, "a parameter no rank used got a gradient"
    grad = model.module.rank0_only.weight.grad.clone()
    expected = grad.clone()
    dist.broadcast(expected, src=0)  # rank 0 holds the average; rank 1 must hold the same
    assert float((grad - expected).abs().max()) == 0.0
print(f"rank {rank} unused: ok", flush=True)

# Without find_unused_parameters, an unused parameter is reported at the next forward.
strict = dist.DistributedDataParallel(Branchy())
strict(x, use_branch=True).sum().backward()  # `never` gets no gradient on either rank
try:
    strict(x, use_branch=True)
except RuntimeError as error:
    assert "never.weight" in str(error) and "find_unused_parameters=True" in str(error)
    print(f"rank {rank} strict: ok", flush=True)
else:
    raise AssertionError("the unfinished reduction was not reported")
