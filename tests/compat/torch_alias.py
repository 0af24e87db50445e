"""The test harness's ``import torch``: chainrule under PyTorch's name, undone afterwards."""

import contextlib
import copy
import sys
import types

import chainrule
from chainrule import _settings, as_torch


@contextlib.contextmanager
def torch_is_chainrule():
    """Inside the block ``import torch`` (and any ``torch.X.Y``) gives chainrule; after it,
    the torch names are removed from ``sys.modules`` again."""
    saved = {name: module for name, module in sys.modules.items()
             if name == "torch" or name.startswith("torch.")}
    switches = _switch_state()
    saved_path = list(sys.path)  # (install puts the spawned children's torch folder on it)
    as_torch.install()
    try:
        yield
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n == "torch" or n.startswith("torch.")]:
            del sys.modules[name]
        sys.modules.update(saved)
        _restore_switches(switches)


def _switch_state():
    """The process-wide switches programs set (torch.backends.*, determinism, precision)."""
    state = {}
    for name in dir(chainrule.backends):
        module = getattr(chainrule.backends, name)
        if isinstance(module, types.ModuleType):
            state[module] = {k: copy.copy(v) for k, v in vars(module).items()
                             if isinstance(v, (bool, int, float, str)) and not k.startswith("__")}
    state["matmul"] = dict(vars(chainrule.backends.cuda.matmul))
    state["settings"] = dict(_settings._state)
    return state


def _restore_switches(state):
    chainrule.backends.cuda.matmul.__dict__.update(state.pop("matmul"))
    _settings._state.update(state.pop("settings"))
    for module, values in state.items():
        vars(module).update(values)
