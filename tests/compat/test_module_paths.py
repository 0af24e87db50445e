"""PyTorch's module paths resolve with ``torch`` aliased to chainrule: every class or function
that chainrule has is importable from each module PyTorch defines it in (the table is recorded
from PyTorch 2.13 by bench/api_coverage.py), and the paths programs use most are checked by name."""

import importlib
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import chainrule

from .torch_alias import torch_is_chainrule

PATHS = json.loads((Path(__file__).parent / "torch_module_paths.json").read_text())


def _canonical(path):
    """Where chainrule keeps the names of PyTorch module ``path`` (e.g. torch.nn.modules.conv:
    chainrule.nn; torch.optim.adam: chainrule.optim; torch.utils.data.sampler:
    chainrule.utils.data)."""
    parts = path.split(".")[1:-1]
    if parts[:2] == ["nn", "modules"]:
        parts = ["nn"]
    return importlib.import_module(".".join(["chainrule", *parts]))


# Names PyTorch gives two different objects: the module there has its own, not the canonical one
# (torch.nn.utils.parametrizations.weight_norm is a parametrization, not the hook-based
# torch.nn.utils.weight_norm; spectral_norm likewise)
DIFFERENT_OBJECT_THERE = {("torch.nn.utils.parametrizations", "weight_norm"),
                          ("torch.nn.utils.parametrizations", "spectral_norm")}


def test_every_name_chainrule_has_is_at_pytorchs_path():
    problems = []
    for path, names in sorted(PATHS.items()):
        home = _canonical(path)
        present = [n for n in names if hasattr(home, n)
                   and not isinstance(getattr(home, n), types.ModuleType)]
        if not present:
            continue
        ours = "chainrule" + path[len("torch"):]
        try:
            module = importlib.import_module(ours)
        except ImportError as error:
            problems.append(f"{ours} cannot be imported ({error}); it should give "
                            f"{', '.join(present)}")
            continue
        for name in present:
            if (path, name) in DIFFERENT_OBJECT_THERE:
                if not callable(getattr(module, name, None)):
                    problems.append(f"{ours} lacks its own {name}")
            elif getattr(module, name, None) is not getattr(home, name):
                problems.append(f"{ours} lacks {name} (chainrule has it as "
                                f"{home.__name__}.{name}): re-export it there")
    assert not problems, "\n".join(problems)


COMMON_IMPORTS = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.backends.cudnn as cudnn
import torch.utils.data
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import Tensor
from torch.autograd import Variable
from torch.cuda.amp import GradScaler, autocast
from torch.nn import Parameter
from torch.nn.parallel import DataParallel, DistributedDataParallel
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.nn.utils import clip_grad_norm_
from torch.optim import lr_scheduler
from torch.optim.lr_scheduler import StepLR, LambdaLR
from torch.utils.data import DataLoader, Dataset, TensorDataset, random_split
from torch.utils.data.dataloader import DataLoader as DataLoader2, default_collate
from torch.utils.data.dataset import Dataset as Dataset2, Subset
from torch.utils.data.distributed import DistributedSampler
from torch.utils.data.sampler import RandomSampler, SequentialSampler, BatchSampler
from torch.utils.checkpoint import checkpoint
from torch.nn.modules.loss import _Loss
from torch.nn.modules.utils import _pair
from torch.serialization import add_safe_globals, safe_globals
from torch.optim.swa_utils import AveragedModel, SWALR
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.testing import assert_close
import torch.onnx
import torch.linalg
"""


def test_the_imports_programs_begin_with():
    with torch_is_chainrule():
        scope = {}
        exec(COMMON_IMPORTS, scope)  # noqa: S102 - the test is running these import lines
        torch = scope["torch"]
        assert torch is chainrule and scope["F"] is chainrule.nn.functional
        assert scope["DataLoader2"] is scope["DataLoader"] is chainrule.data.DataLoader
        assert scope["DDP"] is chainrule.distributed.DistributedDataParallel
        assert scope["DistributedSampler"] is chainrule.distributed.DistributedSampler
        assert scope["_pair"](3) == (3, 3)
        assert importlib.import_module("torch.nn.parallel.distributed") is (
            chainrule.distributed.ddp)
        with pytest.raises(ModuleNotFoundError, match="torch.nope"):
            importlib.import_module("torch.nope")
    assert "torch" not in sys.modules


def test_no_second_copy_of_chainrule_is_loaded_under_the_torch_name():
    # a harness that only sets sys.modules["torch"] gets the same modules, not fresh copies
    before = set(sys.modules)
    with torch_is_chainrule():
        sys.modules.pop("torch.nn", None)
        import torch.nn.modules.conv  # noqa: F401 - the import is what is tested
        assert sys.modules["torch.nn.modules.conv"] is chainrule.nn.modules.conv
    assert not {n for n in set(sys.modules) - before if n.startswith("chainrule.")}


def test_data_parallel_runs_the_module_as_on_a_cpu_only_pytorch():
    net = chainrule.nn.Linear(3, 2)
    model = chainrule.nn.DataParallel(net)
    x = chainrule.randn(4, 3)
    np.testing.assert_array_equal(model(x).detach().numpy(), net(x).detach().numpy())
    assert model.module is net and list(model.state_dict()) == ["module.weight", "module.bias"]
    with pytest.raises(AssertionError, match="chainrule computes on the CPU"):
        chainrule.nn.DataParallel(net, device_ids=[0])


def test_checkpoint_gives_the_same_values_and_gradients():
    from chainrule.utils.checkpoint import checkpoint

    w = chainrule.randn(3, 3, requires_grad=True)
    x = chainrule.randn(2, 3)
    checkpoint(lambda a: (a @ w).tanh(), x, use_reentrant=False).sum().backward()
    grad = w.grad.clone()
    w.grad = None
    (x @ w).tanh().sum().backward()
    np.testing.assert_array_equal(grad.numpy(), w.grad.numpy())


def test_tensorboard_writer_takes_tensors(tmp_path):
    from chainrule.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path))
    writer.add_scalar("loss", chainrule.tensor(0.5), 1)
    writer.add_histogram("w", chainrule.randn(10), 1)
    with pytest.warns(UserWarning, match="graph is not written"):
        writer.add_graph(chainrule.nn.Linear(2, 2), chainrule.ones(1, 2))
    writer.close()
    assert any(p.name.startswith("events.out.tfevents") for p in tmp_path.iterdir())


def test_tensorboard_without_its_extra_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    monkeypatch.delitem(sys.modules, "chainrule.utils.tensorboard", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[tensorboard\]'"):
        importlib.import_module("chainrule.utils.tensorboard")
