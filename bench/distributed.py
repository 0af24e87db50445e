"""Measure, under mpiexec -n 2, how a DistributedDataParallel step of each bench model splits
into computation and communication, and how much of the communication backward hides.

    OMP_NUM_THREADS=1 mpiexec -n 2 python bench/distributed.py [steps [bucket_cap_mb]]

Per model: the plain step (both ranks computing at once, no communication), the same
all-reduces alone (the buckets' sizes, back to back), and the DDP step. Exposed communication
is DDP step - plain step; the overlap is the part of the all-reduce time that did not show.
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workloads  # noqa: E402

import chainrule  # noqa: E402
from chainrule import distributed as dist  # noqa: E402

dist.init()
MPI = dist.comm.mpi()
world = MPI.COMM_WORLD
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
bucket_cap_mb = float(sys.argv[2]) if len(sys.argv) > 2 else 25.0


def timed(fn, repeat):
    fn()
    world.Barrier()
    times = []
    for _ in range(repeat):
        world.Barrier()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    worst = np.array([min(times)])  # the least disturbed repeat: the machine may be shared
    world.Allreduce(MPI.IN_PLACE, worst, op=MPI.MAX)  # a step takes as long as its slowest rank
    return float(worst[0])


def parts(step):
    cells = dict(zip(step.__code__.co_freevars, (c.cell_contents for c in step.__closure__)))
    return cells["model"], cells["optimizer"], cells["loss_fn"], cells["inputs"], cells["targets"]


def measure(name):
    """(gradient bytes, buckets, compute s, all-reduce s, DDP step s) of one bench model."""
    model, optimizer, loss_fn, inputs, targets = parts(getattr(workloads, name)(chainrule))
    ddp = dist.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb)

    def step(net):
        optimizer.zero_grad()
        loss_fn(net(inputs), targets).backward()
        optimizer.step()

    def allreduce_only():
        requests = [world.Iallreduce(MPI.IN_PLACE, b.buffer, op=MPI.SUM) for b in ddp._buckets]
        MPI.Request.Waitall(requests)

    repeat = steps if name != "cnn" else max(3, steps // 4)
    compute = timed(lambda: step(model), repeat)
    comm = timed(allreduce_only, repeat)
    ddp_step = timed(lambda: step(ddp), repeat)
    return sum(b.buffer.nbytes for b in ddp._buckets), len(ddp._buckets), compute, comm, ddp_step


rows = []
for name in ["tiny", "mlp", "cnn", "lstm", "gpt"]:
    grad_bytes, buckets, compute, comm, step = measure(name)
    exposed = max(step - compute, 0.0)
    overlap = 1 - min(exposed / comm, 1.0) if comm > 0 else 0.0
    rows.append((name, grad_bytes, buckets, compute, comm, step, exposed, overlap))

if world.Get_rank() == 0:
    print("| model | gradient | buckets | compute ms | all-reduce ms | DDP step ms | "
          "exposed comm ms | overlap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, size, buckets, compute, comm, step, exposed, overlap in rows:
        print(f"| {name} | {size / 2**20:.2f} MiB | {buckets} | {compute * 1e3:.2f} | "
              f"{comm * 1e3:.2f} | {step * 1e3:.2f} | {exposed * 1e3:.2f} | {overlap:.0%} |")
