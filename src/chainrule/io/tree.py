"""The object a file holds, as a JSON tree whose leaves may name arrays.

``encode`` turns nested dicts, lists and tuples of tensors, arrays, numbers, strings, bools and
None (and the ``argparse.Namespace`` of a run's arguments, which scripts save beside the
weights) into JSON plus a dict of arrays; ``decode`` turns them back, checking every node, so that a
damaged or hand-made tree raises CheckpointError rather than whatever Python error it happens to
trip."""

import argparse

import numpy as np

from ..tensor import Tensor
from .errors import CheckpointError

MAX_DEPTH = 100  # far deeper than any state dict; a bound keeps decoding from recursing away
_MARKERS = ("__tensor__", "__ndarray__", "__float__", "__tuple__", "__dict__", "__nn_module__",
            "__namespace__")


def _contiguous(array):
    # np.ascontiguousarray would turn a 0-d array into shape (1,)
    return array if array.flags.c_contiguous else array.copy(order="C")


# -- encoding ---------------------------------------------------------------------------------
def _tensor_key(path, arrays):
    """A tensor's safetensors name: its dotted path in the object (a state dict's own keys, so
    that ``safetensors.torch.load_file`` gives PyTorch a loadable state dict), made unique."""
    key = ".".join(str(part) for part in path) or "tensor"
    candidate, number = key, 1
    while candidate in arrays:
        candidate, number = f"{key}#{number}", number + 1
    return candidate


def encode(obj, arrays, depth=0, path=()):
    """A JSON-able tree for ``obj``; tensors and arrays move into ``arrays`` under a key."""
    if depth > MAX_DEPTH:
        raise ValueError(f"chainrule.save stores objects nested at most {MAX_DEPTH} levels deep")
    if isinstance(obj, Tensor):
        if hasattr(type(obj), "materialize"):  # (nn.UninitializedParameter: no shape yet)
            where = ".".join(str(part) for part in path) or "the tensor"
            raise ValueError(
                f"chainrule.save: {where} is an uninitialized parameter of a lazy module "
                "(nn.LazyLinear, nn.LazyConv2d, ...), which has no values until its first "
                "call; run one batch through the model before saving it"
            )
        key = _tensor_key(path, arrays)
        arrays[key] = _contiguous(obj._data)
        return {"__tensor__": key, "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, np.ndarray):
        key = _tensor_key(path, arrays)
        arrays[key] = _contiguous(obj)
        return {"__ndarray__": key}
    if isinstance(obj, (bool, str, type(None))):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return {"__float__": repr(float(obj))}  # repr round-trips every float, inf and nan too
    if isinstance(obj, dict):
        return {"__dict__": [[encode(k, arrays, depth + 1, path + ("key",)),
                              encode(v, arrays, depth + 1, path + (k,))]
                             for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(v, arrays, depth + 1, path + (i,))
                              for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [encode(v, arrays, depth + 1, path + (i,)) for i, v in enumerate(obj)]
    if type(obj) is argparse.Namespace:
        return {"__namespace__": [[k, encode(v, arrays, depth + 1, path + (k,))]
                                  for k, v in vars(obj).items()]}
    from ..nn.modules.module import Module  # lazily: nn is imported after this layer's files

    if isinstance(obj, Module):
        from .module_tree import Encoder

        return Encoder(encode).module(obj, arrays, depth, path)
    raise TypeError(
        f"chainrule.save cannot store an object of type {type(obj).__name__}: it stores nested "
        "dicts, lists and tuples of tensors, arrays, numbers, strings, bools and None, "
        "argparse.Namespace and nn.Module objects. Save an optimizer's or scheduler's "
        "state_dict() instead."
    )


# -- decoding ---------------------------------------------------------------------------------
class _Decoder:
    def __init__(self, arrays, name):
        self.arrays, self.name = arrays, name

    def fail(self, problem):
        return CheckpointError(self.name, f"is corrupt: {problem}")

    def decode(self, node, depth=0):
        if depth > MAX_DEPTH:
            raise self.fail(f"its structure is nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if isinstance(node, (str, int, type(None))):  # bool is an int
            return node
        if isinstance(node, float):  # the encoder never writes one, but JSON has them
            return node
        if not isinstance(node, dict) or len(node) not in (1, 2) or not any(
                marker in node for marker in _MARKERS):
            raise self.fail(f"unknown entry in its structure: {_short(node)}")
        if "__tensor__" in node:
            return self.tensor(node)
        if "__nn_module__" in node:
            if set(node) != {"__nn_module__", "state"}:
                raise self.fail(f"unknown entry in its structure: {_short(node)}")
            from .module_tree import Decoder

            return Decoder(self.decode, self.name).module(node, depth)
        if len(node) != 1:
            raise self.fail(f"unknown entry in its structure: {_short(node)}")
        (marker, value), = node.items()
        if marker == "__ndarray__":
            return self.array(value)
        if marker == "__float__":
            return self.float(value)
        if not isinstance(value, list):
            raise self.fail(f"{marker} holds {_short(value)}, not a list")
        if marker == "__tuple__":
            return tuple(self.decode(v, depth + 1) for v in value)
        if marker == "__namespace__":
            return self.namespace(value, depth)
        return self.dict(value, depth)

    def namespace(self, pairs, depth):
        result = argparse.Namespace()
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                raise self.fail(f"an argparse.Namespace entry is {_short(pair)}, not a "
                                "[name, value] pair")
            setattr(result, pair[0], self.decode(pair[1], depth + 1))
        return result

    def array(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise self.fail(f"its structure refers to a tensor {_short(key)} it does not hold")
        return self.arrays[key]

    def tensor(self, node):
        if set(node) - {"__tensor__", "requires_grad"}:
            raise self.fail(f"unknown entry in its structure: {_short(node)}")
        requires_grad = node.get("requires_grad", False)
        if not isinstance(requires_grad, bool):
            raise self.fail(f"requires_grad is {_short(requires_grad)}, not true or false")
        tensor = Tensor._from_array(self.array(node["__tensor__"]))
        if requires_grad:
            if not tensor.dtype.is_floating_point:
                raise self.fail(f"a {tensor.dtype} tensor is marked as requiring gradients")
            tensor.requires_grad_()
        return tensor

    def float(self, text):
        try:
            if not isinstance(text, str) or len(text) > 40:
                raise ValueError
            return float(text)
        except ValueError:
            raise self.fail(f"{_short(text)} is not a number") from None

    def dict(self, pairs, depth):
        result = {}
        for pair in pairs:
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.fail(f"a dict entry is {_short(pair)}, not a [key, value] pair")
            key = self.decode(pair[0], depth + 1)
            try:
                hash(key)
            except TypeError:
                raise self.fail(f"a dict key is a {type(key).__name__}, which cannot be a key") \
                    from None
            result[key] = self.decode(pair[1], depth + 1)
        return result


def _short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def decode(structure, arrays, name):
    """The object that ``structure`` (parsed JSON) and ``arrays`` describe; CheckpointError
    naming ``name`` when they do not describe one."""
    return _Decoder(arrays, name).decode(structure)
