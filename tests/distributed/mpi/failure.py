"""Run under mpiexec -n 2: rank 1 fails mid-training ("raise" or "exit"); rank 0 must not hang."""

import os
import sys

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn

dist.init(timeout=float(sys.argv[2]) if len(sys.argv) > 2 else 10)
rank = dist.rank()
model = dist.DistributedDataParallel(nn.Linear(4, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 4), torch.randn(8, 2)
for step in range(1000):
    if rank == 1 and step == 5:
        if sys.argv[1] == "raise":
            raise ValueError("rank 1 fails on purpose at step 5")
        if sys.argv[1] == "quit":
            sys.exit(0)  # leaves quietly: the others wait until their timeout
        os._exit(3)  # dies without a word, as a killed process would
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
print(f"rank {rank} finished all steps, which it should not have", flush=True)
