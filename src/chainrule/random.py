"""Seeded random number generation: same seed, same numbers, bit for bit."""

import contextlib
import hashlib
import warnings

import numpy as np

from .tensor import Tensor


class Generator:
    """A random number generator (PCG64) with PyTorch's seeding and state methods.

    >>> g = chainrule.Generator().manual_seed(0)
    >>> a = chainrule.rand(2, generator=g)
    >>> _ = g.manual_seed(0)
    >>> chainrule.equal(a, chainrule.rand(2, generator=g))   # the same seed, the same numbers
    True
    """

    def __init__(self, device="cpu"):
        self._initial_seed = 67280421310721  # PyTorch's default seed
        self.numpy = np.random.Generator(np.random.PCG64(self._initial_seed))

    def manual_seed(self, seed):
        seed = int(seed)
        if seed < 0:
            raise ValueError(f"a seed must be a non-negative integer, got {seed}")
        self._initial_seed = seed
        self.numpy = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self):
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._initial_seed

    def get_state(self):
        """The generator's full state as a uint8 tensor (for checkpoints)."""
        state = self.numpy.bit_generator.state
        packed = (
            state["state"]["state"].to_bytes(16, "little")
            + state["state"]["inc"].to_bytes(16, "little")
            + bytes([state["has_uint32"]])
            + int(state["uinteger"]).to_bytes(4, "little")
        )
        return Tensor._from_array(np.frombuffer(packed, dtype=np.uint8).copy())

    def set_state(self, new_state):
        data = bytes(np.asarray(new_state._data if isinstance(new_state, Tensor) else new_state,
                                dtype=np.uint8))
        if len(data) == _TORCH_CPU_STATE_BYTES:
            return self._set_torch_state(data)
        if len(data) != 37:
            raise ValueError(
                f"a generator state has 37 bytes, this one has {len(data)}: pass a state "
                "returned by get_state()"
            )
        self.numpy.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(data[:16], "little"),
                      "inc": int.from_bytes(data[16:32], "little")},
            "has_uint32": data[32],
            "uinteger": int.from_bytes(data[33:37], "little"),
        }
        return self


    def _set_torch_state(self, data):
        """A state of PyTorch's CPU generator (its Mersenne Twister, from a checkpoint that
        PyTorch wrote): chainrule draws with another algorithm, so it cannot continue
        PyTorch's stream; it continues reproducibly from a seed derived from that state (the
        same state gives the same numbers), and says so once."""
        global _warned_torch_state
        if not _warned_torch_state:
            _warned_torch_state = True
            warnings.warn("set_rng_state got a state of PyTorch's generator (from a checkpoint "
                          "PyTorch wrote): chainrule's generator is another algorithm, so the "
                          "numbers that follow are reproducible but not PyTorch's", stacklevel=3)
        seed = int.from_bytes(hashlib.sha256(data).digest()[:8], "little")
        self.numpy = np.random.Generator(np.random.PCG64(seed))
        return self


# PyTorch's CPUGeneratorImplState: the Mersenne Twister's words, its seed and the cached
# normal samples (torch.get_rng_state().numel() in PyTorch 1.x and 2.x)
_TORCH_CPU_STATE_BYTES = 5056
_warned_torch_state = False
default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator; returns it."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Draws inside the block leave the default generator's state as it was before it.
    ``devices`` and ``device_type`` name accelerators, which a CPU build has none of."""
    if not enabled:
        yield
        return
    state = default_generator.get_state()
    try:
        yield
    finally:
        default_generator.set_state(state)


# Called before the default generator's NumPy generator is handed out for a draw: the gradient
# diagnostics keep the state a training forward started from (to run it again) only when that
# forward draws, since reading the state costs more than most forwards' hooks together.
_draw_observers = []


def add_draw_observer(observer):
    """Call ``observer()`` before every draw from the default generator (every draw in chainrule
    gets its generator from ``numpy_generator``). Returns a function that removes it again."""
    _draw_observers.append(observer)
    return lambda: _draw_observers.remove(observer) if observer in _draw_observers else None


def numpy_generator(generator=None):
    """The NumPy generator behind ``generator`` (the default one when None)."""
    if generator is None or generator is default_generator:
        for observer in _draw_observers:
            observer()
        return default_generator.numpy
    return generator.numpy
