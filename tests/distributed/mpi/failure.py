"""Run under mpiexec -n 2: rank 1 fails at step 5; rank 0 must not hang.

raise: rank 1 raises (the excepthook aborts every rank); exit: rank 1 dies without a word, as a
killed process would (mpiexec ends the launch); quit: rank 1 leaves cleanly, and rank 0 must
give up at its wait limit. The limit is long (a slow machine never reaches it in a healthy
step); in "quit" the ranks first meet at a barrier at step 5, the event after which rank 1
leaves, and only then does rank 0 shorten its limit: what ends rank 0 is rank 1's absence, not
a slow step before it."""

import os
import sys

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn

how = sys.argv[1]
dist.init(timeout=60)
rank = dist.rank()
model = dist.DistributedDataParallel(nn.Linear(4, 2))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(8, 4), torch.randn(8, 2)
for step in range(1000):
    if step == 5:
        if how == "quit":
            dist.barrier()  # both ranks are here: rank 1 leaves right after
            if rank == 0:
                dist.init(timeout=0.5)  # from now on a wait can only end with rank 1 gone
        if rank == 1:
            if how == "raise":
                raise ValueError("rank 1 fails on purpose at step 5")
            if how == "quit":
                sys.exit(0)  # leaves quietly: the others wait until their limit
            os._exit(3)  # dies without a word, as a killed process would
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()
print(f"rank {rank} finished all steps, which it should not have", flush=True)
