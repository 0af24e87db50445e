"""``get_unsafe_globals_in_checkpoint``: the globals a ``torch.save`` file names that loading
would refuse, found by reading its pickle's opcodes (nothing is unpickled or called).

As PyTorch's function does, this reads the pickle statically: GLOBAL names, and STACK_GLOBAL
names pushed as strings (directly or through the memo). A name computed while unpickling
would not show; ``load`` refuses it all the same.
"""

import pickletools

from .errors import CheckpointError
from .torch_file import _Archive, is_zip
from .torch_names import allowed_global

_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING",
            "BINSTRING", "STRING"}
_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_GET = {"GET", "BINGET", "LONG_BINGET"}


def unsafe_globals(payload, name):
    """Sorted ``module.name`` of each global in the file's pickle that is neither on the
    built-in allowlist nor added with ``add_safe_globals``."""
    if not is_zip(payload):
        raise CheckpointError(name, "Expected input to be a checkpoint returned by torch.save "
                              "(the zip layout)")
    archive = _Archive(payload, name)
    data = archive.read(f"{archive.record}/data.pkl").tobytes()
    return sorted({full for module, global_name in globals_in(data, name)
                   for full, obj in [allowed_global(module, global_name)] if obj is None})


def globals_in(data, name):
    """(module, name) of each global a pickle names, read from its opcodes."""
    found, recent, memo = [], [], {}
    try:
        for opcode, argument, _ in pickletools.genops(data):
            kind = opcode.name
            if kind == "GLOBAL":
                module, _, global_name = argument.partition(" ")
                found.append((module, global_name))
            elif kind == "STACK_GLOBAL":
                if len(recent) >= 2 and all(isinstance(v, str) for v in recent[-2:]):
                    found.append((recent[-2], recent[-1]))
            elif kind == "MEMOIZE":
                memo[len(memo)] = recent[-1] if recent else None
            elif kind in _PUT:
                memo[argument] = recent[-1] if recent else None
            elif kind in _GET:
                recent.append(memo.get(argument))
            elif kind in _STRINGS:
                recent.append(argument if isinstance(argument, str) else None)
            elif kind not in ("FRAME", "PROTO"):
                recent.append(None)
            del recent[:-2]
    except Exception as error:  # noqa: BLE001 - pickletools raises several kinds on bad bytes
        raise CheckpointError(name, f"its pickle is damaged: {error}") from None
    return found
