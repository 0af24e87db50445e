"""``torch.multiprocessing``: Python's multiprocessing (chainrule tensors are NumPy arrays, which
pickle to other processes like any object), plus PyTorch's ``spawn``.

In a script (each process calls ``train(rank, config)``)::

    chainrule.multiprocessing.spawn(train, args=(config,), nprocs=2)
"""

import multiprocessing as _mp
from multiprocessing import *  # noqa: F403

__all__ = [*_mp.__all__, "ProcessRaisedException", "get_all_sharing_strategies",
           "get_sharing_strategy", "set_sharing_strategy", "spawn", "start_processes"]

_sharing = {"strategy": "file_system"}


def get_all_sharing_strategies():
    return {"file_system"}


def get_sharing_strategy():
    return _sharing["strategy"]


def set_sharing_strategy(new_strategy):
    if new_strategy not in get_all_sharing_strategies():
        raise ValueError(f"unknown sharing strategy {new_strategy!r}; use 'file_system'")
    _sharing["strategy"] = new_strategy


class ProcessRaisedException(Exception):
    """A spawned process ended with an error (its exit code is in the message)."""


class ProcessContext:
    """The processes of one ``spawn``; ``join()`` waits for them and raises if one failed."""

    def __init__(self, processes):
        self.processes = processes

    def pids(self):
        return [p.pid for p in self.processes]

    def join(self, timeout=None):
        for process in self.processes:
            process.join(timeout)
        failed = [(rank, p.exitcode) for rank, p in enumerate(self.processes)
                  if p.exitcode not in (0, None)]
        if failed:
            for process in self.processes:
                if process.is_alive():
                    process.terminate()
            rank, code = failed[0]
            raise ProcessRaisedException(f"process {rank} terminated with exit code {code}")
        return all(p.exitcode is not None for p in self.processes)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(rank, *args)`` in ``nprocs`` new processes (rank 0 .. nprocs - 1)."""
    context = _mp.get_context(start_method)
    processes = []
    for rank in range(nprocs):
        process = context.Process(target=fn, args=(rank, *args), daemon=daemon)
        process.start()
        processes.append(process)
    result = ProcessContext(processes)
    if not join:
        return result
    while not result.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """As ``torch.multiprocessing.spawn``: ``fn(rank, *args)`` in ``nprocs`` processes."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)
