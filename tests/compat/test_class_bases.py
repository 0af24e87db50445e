"""chainrule's classes derive from one another as PyTorch's do, so ``isinstance`` checks in
programs pick the same modules (table: ``bench/record_class_bases.py``)."""

import importlib
import json
from pathlib import Path

import pytest

TABLE = json.loads((Path(__file__).parent / "torch_class_bases.json").read_text())


def ours(key):
    """chainrule's class at PyTorch's path (``nn.modules.batchnorm._BatchNorm``), or None."""
    module_path, _, name = key.rpartition(".")
    try:
        module = importlib.import_module(f"chainrule.{module_path}")
    except ImportError:
        return None
    found = getattr(module, name, None)
    return found if isinstance(found, type) else None


PRESENT = {key: cls for key in TABLE if (cls := ours(key)) is not None}


def test_the_table_covers_the_classes_programs_check():
    for key in ("nn.modules.batchnorm._BatchNorm", "nn.modules.batchnorm._NormBase",
                "nn.modules.conv._ConvNd", "nn.modules.padding.ConstantPad2d",
                "optim.lr_scheduler.LambdaLR"):
        assert key in PRESENT
    assert len(PRESENT) > 200


@pytest.mark.parametrize("key", sorted(PRESENT))
def test_derives_from_the_same_classes_as_in_pytorch(key):
    cls = PRESENT[key]
    expected = set(TABLE[key]) & PRESENT.keys()
    derived = {other for other, base in PRESENT.items() if other != key and issubclass(cls, base)}
    assert derived == expected, (f"{key}: extra bases {sorted(derived - expected)}, "
                                 f"missing {sorted(expected - derived)}")


def test_instance_norms_are_not_batch_norms_and_zero_pads_are_constant_pads():
    from chainrule import nn
    from chainrule.nn.modules.batchnorm import _BatchNorm, _NormBase

    assert not isinstance(nn.InstanceNorm2d(3), _BatchNorm)
    assert isinstance(nn.InstanceNorm2d(3), _NormBase) and isinstance(nn.BatchNorm2d(3), _NormBase)
    assert isinstance(nn.ZeroPad2d(1), nn.ConstantPad2d)
    assert not isinstance(nn.ReflectionPad2d(1), nn.ReflectionPad1d)
    lazy = nn.LazyBatchNorm2d()
    assert not isinstance(lazy, nn.BatchNorm2d)  # until its first input, as in PyTorch
    lazy(__import__("chainrule").ones(2, 3, 2, 2))
    assert type(lazy) is nn.BatchNorm2d
