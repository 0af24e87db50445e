"""Run under mpiexec -n 2: DDP with batch B per rank == one process with batch 2B (float64)."""

import numpy as np

import chainrule as torch
from chainrule import distributed as dist
from chainrule import nn

B, STEPS = 4, 20


def build(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                         nn.Linear(16, 3)).double()


def batches():
    rng = np.random.default_rng(1)
    for _ in range(STEPS):
        x = rng.standard_normal((2 * B, 5))
        y = rng.integers(0, 3, size=2 * B)
        yield torch.from_numpy(x), torch.from_numpy(y)


def train(model, optimizer, part):
    loss_fn = nn.CrossEntropyLoss()
    for x, y in batches():
        x, y = part(x), part(y)
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()


def check(name, ddp_model, reference):
    worst = max(float((a - b).abs().max()) for a, b in
                zip(ddp_model.module.parameters(), reference.parameters()))
    print(f"rank {dist.rank()} {name}: max |difference| {worst:.3e}", flush=True)
    assert worst < 1e-10, f"{name}: DDP and the single process differ by {worst}"


dist.init(timeout=20)
rank, size = dist.rank(), dist.world_size()
assert size == 2, "run with mpiexec -n 2"

for name, make_optimizer in [("SGD", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
                             ("Adam", lambda p: torch.optim.Adam(p, lr=0.01))]:
    # each rank starts from different weights: the wrap must copy rank 0's everywhere
    model = dist.DistributedDataParallel(build(seed=rank), bucket_cap_mb=0.001)
    assert len(model._buckets) > 1, "the test should exercise several buckets"
    reference = build(seed=0)
    train(model, make_optimizer(model.parameters()), lambda t: t[rank * B:(rank + 1) * B])
    train(reference, make_optimizer(reference.parameters()), lambda t: t)
    check(name, model, reference)

# no_sync: two micro-batches accumulate locally, the second backward averages their sum
model = dist.DistributedDataParallel(build(seed=rank))
reference = build(seed=0)
loss_fn = nn.CrossEntropyLoss()
(x1, y1), (x2, y2) = list(batches())[:2]
mine = slice(rank * B, (rank + 1) * B)
with model.no_sync():
    loss_fn(model(x1[mine]), y1[mine]).backward()
unsynced = [p.grad.clone() for p in model.parameters()]
loss_fn(model(x2[mine]), y2[mine]).backward()
(loss_fn(reference(x1), y1) + loss_fn(reference(x2), y2)).backward()
for p, q in zip(model.parameters(), reference.parameters()):
    assert float((p.grad - q.grad).abs().max()) < 1e-12, "no_sync accumulation differs"
total = unsynced[0].clone()
dist.all_reduce(total)  # equals 2 x mine only if the ranks' gradients were (wrongly) averaged
assert float((total - 2 * unsynced[0]).abs().max()) > 1e-6, "no_sync should not have averaged"
print(f"rank {rank} no_sync: ok", flush=True)
