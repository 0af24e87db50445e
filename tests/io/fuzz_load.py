"""A fuzz target over ``chainrule.load``: random mutations of valid files, none of which may
raise anything but CheckpointError.

Mutations work on bytes (flipped bits, set, cut, added, moved bytes; a changed header length)
and on meaning (a field of the header or a node of the object tree replaced by a random JSON
value). Half of the mutated files are sealed again with a correct checksum, so that the checks
behind the checksum are exercised, not only the checksum. The test suite runs a fixed number of
cases (tests/io/test_fuzz.py); ``python bench/fuzz_load.py --seconds 600`` runs it for longer.
"""

import json
import random
import struct
import time

import numpy as np

import chainrule as cr
from chainrule.io import container
from chainrule.serialization import CheckpointError, deserialize

from .forge import forge, saved, split


def seed_files():
    """Valid files of every kind ``save`` writes: tensors of each dtype, 0-d and empty ones,
    tuples, dicts with number keys, special floats, an optimizer's state."""
    model = cr.nn.Linear(3, 2)
    optimizer = cr.optim.Adam(model.parameters(), lr=1e-3)
    model(cr.randn(4, 3)).sum().backward()
    optimizer.step()
    return [
        saved({"weights": cr.randn(3, 4), "step": 7, "lr": 0.1, "name": "run",
               "flags": [True, None], "shape": (2, 3), "ints": cr.arange(5),
               "mask": cr.tensor([True, False]), "inf": float("inf"),
               "array": np.arange(3, dtype=np.int16), "scalar": cr.tensor(3.0),
               "empty": cr.zeros(0, 3), "half": cr.ones(2, dtype=cr.float16),
               "brain": cr.ones(3, dtype=cr.bfloat16),
               "state": {0: {"momentum": cr.zeros(2, dtype=cr.float64)}, 1: {}}}),
        saved({"model": model.state_dict(), "optimizer": optimizer.state_dict()}),
        saved([1, "two", (3.0,), {"k": None}]),
        saved({}),
    ]


# -- random JSON ------------------------------------------------------------------------------
_ATOMS = [0, 1, -1, 7, 2 ** 31, 2 ** 63, -(2 ** 63), 10 ** 30, 0.5, -0.0, 1e308, float("nan"),
          float("inf"), True, False, None, "", "t0", "t1", "t99", "F32", "BOOL", "x" * 300,
          "__tensor__", "__dict__", "nan", "1e5", "BF16", "U64"]
_MARKERS = ["__tensor__", "__ndarray__", "__float__", "__tuple__", "__dict__", "requires_grad"]


def random_json(rng, depth=0):
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice(_ATOMS)
    if roll < 0.65:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if roll < 0.9:
        keys = rng.sample(_MARKERS, rng.randrange(1, 3))
        return {key: random_json(rng, depth + 1) for key in keys}
    if roll < 0.95:
        return {"__dict__": [[random_json(rng, depth + 1), random_json(rng, depth + 1)]]}
    nested = 1
    for _ in range(rng.choice([50, 99, 101, 200, 900])):  # json.dumps stops near 1000
        nested = [nested]
    return nested


def _replace_random_node(node, rng):
    """``node`` with one randomly chosen descendant (or itself) replaced by random JSON."""
    if rng.random() < 0.25 or not isinstance(node, (list, dict)) or not node:
        return random_json(rng)
    if isinstance(node, list):
        index = rng.randrange(len(node))
        return node[:index] + [_replace_random_node(node[index], rng)] + node[index + 1:]
    key = rng.choice(sorted(node, key=str))
    changed = dict(node)
    changed[key] = _replace_random_node(node[key], rng)
    return changed


# -- mutations --------------------------------------------------------------------------------
def flip_bits(payload, rng):
    data = bytearray(payload)
    for _ in range(rng.choice([1, 1, 2, 8])):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def set_bytes(payload, rng):
    data = bytearray(payload)
    for _ in range(rng.randrange(1, 5)):
        data[rng.randrange(len(data))] = rng.choice([0, 0xFF, 0x80, 0x7B, 0x22, 0x5B, 0x2D,
                                                     rng.randrange(256)])
    return bytes(data)


def cut(payload, rng):
    return payload[:rng.randrange(len(payload))]


def extend(payload, rng):
    return payload + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))


def move_bytes(payload, rng):
    start = rng.randrange(len(payload))
    stop = min(len(payload), start + rng.randrange(1, 64))
    where = rng.randrange(len(payload))
    if rng.random() < 0.5:  # delete the range and put it elsewhere
        rest = payload[:start] + payload[stop:]
        return rest[:where] + payload[start:stop] + rest[where:]
    return payload[:where] + payload[start:stop] + payload[where:]  # duplicate it


def header_length(payload, rng):
    length = struct.unpack("<Q", payload[:8])[0]
    value = rng.choice([0, 1, 2, length - 1, length + 1, length + 8, len(payload) - 8,
                        len(payload) - 7, 2 ** 63, 2 ** 64 - 1, rng.randrange(2 ** 32)])
    return struct.pack("<Q", max(0, min(value, 2 ** 64 - 1))) + payload[8:]


def header_field(payload, rng):
    header, data = split(payload)
    return forge(_replace_random_node(header, rng), data)


def tree_node(payload, rng):
    header, data = split(payload)
    structure = json.loads(header["__metadata__"]["structure"])
    header["__metadata__"]["structure"] = json.dumps(_replace_random_node(structure, rng))
    return forge(header, data)


def splice(payload, rng, others):
    other = rng.choice(others)
    return payload[:rng.randrange(len(payload))] + other[rng.randrange(len(other)):]


BYTE_MUTATIONS = [flip_bits, set_bytes, cut, extend, move_bytes, header_length]
MEANING_MUTATIONS = [header_field, tree_node]


def mutate(payload, rng, others):
    """A mutated copy of ``payload`` and the name of the mutation."""
    roll = rng.random()
    if roll < 0.45:
        mutation = rng.choice(MEANING_MUTATIONS)
        return mutation(payload, rng), mutation.__name__
    if roll < 0.5:
        return splice(payload, rng, others), "splice"
    mutation = rng.choice(BYTE_MUTATIONS)
    mutated = mutation(payload, rng)
    if len(mutated) > 8 + len(container._PREFIX) + 8 and rng.random() < 0.5:
        sealed = mutated[8:8 + len(container._PREFIX)] == container._PREFIX
        return (container.seal(mutated), mutation.__name__ + "+seal") if sealed else (
            mutated, mutation.__name__)
    return mutated, mutation.__name__


# -- the target -------------------------------------------------------------------------------
def run(iterations=None, seconds=None, seed=0):
    """Load ``iterations`` mutated files (or as many as fit in ``seconds``). Returns a report:
    outcome counts, the kinds of refusal (first words of the message) and every failure, i.e.
    every exception other than CheckpointError, as (mutation, error, payload)."""
    rng = random.Random(seed)
    seeds = seed_files()
    report = {"cases": 0, "loaded": 0, "refused": 0, "reasons": set(), "failures": []}
    deadline = time.monotonic() + seconds if seconds is not None else None
    while (iterations is None or report["cases"] < iterations) and (
            deadline is None or time.monotonic() < deadline):
        payload, mutation = mutate(rng.choice(seeds), rng, seeds)
        report["cases"] += 1
        try:  # a bytearray, as files are read, half the time: its tensors are views
            deserialize(bytearray(payload) if report["cases"] % 2 else payload, "fuzzed")
            report["loaded"] += 1
        except CheckpointError as error:
            report["refused"] += 1
            report["reasons"].add(_reason(error))
        except Exception as error:  # noqa: BLE001 - any other exception is what we hunt for
            report["failures"].append((mutation, repr(error), payload))
    return report


def _reason(error):
    """A refusal's kind: the words of its message up to the first value it quotes."""
    words = []
    for word in error.problem.split()[:6]:
        if any(mark in word for mark in "'\"[{(0123456789"):
            break
        words.append(word)
    return " ".join(words)
