"""Run under mpiexec -n N: train STEPS global batches with setup_for_training's helpers.

    resume.py full OUT         all steps, rank 0 saves the parameters to OUT
    resume.py first CKPT       half the steps, then rank 0 alone writes the checkpoint CKPT
    resume.py rest CKPT OUT    load CKPT (on any number of ranks), train the other half
"""

import os
import sys

import numpy as np

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn

STEPS, BATCH = 10, 6  # 6 rows split 3+3 on two ranks, 6 on one

context = dist.setup_for_training(timeout=20)
torch.manual_seed(0)
model = context.wrap_model(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double())
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
rng = np.random.default_rng(3)
data = [(torch.from_numpy(rng.standard_normal((BATCH, 4))),
         torch.from_numpy(rng.standard_normal((BATCH, 2)))) for _ in range(STEPS)]
mode, path = sys.argv[1], sys.argv[2]
start, stop = {"full": (0, STEPS), "first": (0, STEPS // 2), "rest": (STEPS // 2, STEPS)}[mode]
plain = model.module if context.distributed else model
if mode == "rest":
    state = torch.load(path)
    plain.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    assert state["step"] == start
for step in range(start, stop):
    x, y, weight = context.shard_batch(*data[step])
    optimizer.zero_grad()
    loss = nn.functional.mse_loss(model(x), y)
    (loss * weight).backward()
    optimizer.step()
    metrics = context.average({"loss": loss.item()}, count=len(x))
target = sys.argv[3] if mode == "rest" else path
if context.is_main:
    if mode == "first":
        torch.save({"model": plain.state_dict(), "optimizer": optimizer.state_dict(),
                    "step": stop}, target)
    else:
        torch.save(plain.state_dict(), target)
context.barrier()
assert os.path.exists(target)
print(f"rank {context.rank}/{context.world_size} {mode}: loss {metrics['loss']:.6f}", flush=True)
