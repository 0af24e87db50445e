"""Runs a corpus program the same way on PyTorch (bench/record_corpus.py) and on chainrule
(test_corpus.py), without editing it:

- every parameter gets a deterministic initial value (from NumPy, by the parameter's name and
  shape) the first time a module holding it is called, unless it was loaded with
  ``load_state_dict`` first, so both libraries start from the same weights;
- every ``.backward()`` on a one-element tensor records the loss's value;
- optionally the default dtype is float64 for the whole run.

``torch`` is the library module (real PyTorch, or chainrule while it stands in for torch)."""

import contextlib
import io
import os
import runpy
import sys
import warnings
from pathlib import Path

import numpy as np

PROGRAMS = Path(__file__).parent / "programs"


def initial_value(name, shape, rng):
    """A sane starting value: matrices and kernels uniform in +-1/sqrt(fan_in), biases small,
    other vectors (norm scales) near 1."""
    if len(shape) >= 2:
        bound = 1.0 / np.sqrt(float(np.prod(shape[1:])))
        return rng.uniform(-bound, bound, shape)
    if name.rsplit(".", 1)[-1].startswith("bias"):
        return rng.uniform(-0.1, 0.1, shape)
    return 1.0 + rng.uniform(-0.1, 0.1, shape)


@contextlib.contextmanager
def instrumented(torch, seed):
    """Patch ``Module.__call__`` (initial weights), ``Module.load_state_dict`` (loaded weights
    are kept) and ``Tensor.backward`` (loss record) for the duration; yields the list the losses
    are appended to."""
    losses, handled, rng = [], set(), np.random.default_rng(seed)
    module_class, tensor_class = torch.nn.Module, torch.Tensor
    original_call = module_class.__call__
    original_load = module_class.load_state_dict
    original_backward = tensor_class.backward

    def call(module, *args, **kwargs):
        fresh = [(n, p) for n, p in module.named_parameters() if id(p) not in handled]
        if fresh:
            with torch.no_grad():
                for name, param in fresh:
                    handled.add(id(param))
                    value = initial_value(name, tuple(param.shape), rng)
                    param.copy_(torch.from_numpy(value).to(param.dtype))
        return original_call(module, *args, **kwargs)

    def load_state_dict(module, *args, **kwargs):
        handled.update(id(p) for p in module.parameters())
        return original_load(module, *args, **kwargs)

    def backward(tensor, *args, **kwargs):
        if tensor.numel() == 1:
            losses.append(float(tensor.detach().double().item()))
        return original_backward(tensor, *args, **kwargs)

    module_class.__call__, module_class.load_state_dict = call, load_state_dict
    tensor_class.backward = backward
    try:
        yield losses
    finally:
        module_class.__call__, module_class.load_state_dict = original_call, original_load
        tensor_class.backward = original_backward


def run_program(torch, name, args, *, seed=0, float64=True, workdir):
    """Run ``programs/<name>.py`` as ``__main__`` with ``args`` in ``workdir``; returns the
    recorded losses and the program's printed output."""
    path = PROGRAMS / f"{name}.py"
    saved_argv, saved_cwd = sys.argv, os.getcwd()
    previous_dtype = torch.get_default_dtype()
    out = io.StringIO()
    sys.argv = [str(path), *args]
    os.chdir(workdir)
    try:
        if float64:
            torch.set_default_dtype(torch.float64)
        with instrumented(torch, seed) as losses, contextlib.redirect_stdout(out), \
                warnings.catch_warnings():
            # programs call deprecated APIs as real ones do (nn.utils.weight_norm,
            # torch.sparse.FloatTensor); the deprecation warnings are both libraries' own
            warnings.simplefilter("ignore", FutureWarning)
            warnings.filterwarnings("ignore", ".*is deprecated", UserWarning)
            runpy.run_path(str(path), run_name="__main__")
    finally:
        torch.set_default_dtype(previous_dtype)
        sys.argv = saved_argv
        os.chdir(saved_cwd)
    return losses, out.getvalue()
