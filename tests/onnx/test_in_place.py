"""Writes in place inside ``forward`` export as the values they make: ``out += identity``
(ResNet), ``nn.ReLU(inplace=True)``, ``masked_fill_``, ``x[key] = v`` and ``x[key] += v``
with any key ``x[key]`` reads, ``fill_``/``copy_``; a write the exporter does not follow (into
a tensor through a view other than ``x[key]``) is refused rather than exported wrong."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.onnx import UnsupportedOperatorError

from .ort import assert_runtime_matches, session

pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


def images(n):
    return RNG.standard_normal((n, 3, 6, 6)).astype(np.float32)


class BasicBlock(nn.Module):
    """torchvision's ResNet block: in-place ReLU and ``out += identity``."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)
        self.relu = nn.ReLU(inplace=True)
        self.conv2, self.bn2 = nn.Conv2d(3, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class InPlaceMethods(nn.Module):
    def forward(self, x):
        h = x * 1
        h.mul_(2)
        h -= 0.5
        F.relu_(h)
        h.masked_fill_(h > 3, 0.0)
        h.clamp_(max=2.5)
        h /= cr.full((1, 3, 1, 1), 2.0, dtype=cr.float64)  # computed in float64, kept float32
        x.add_(1)  # the input itself
        return h, x


class ItemWrites(nn.Module):
    def forward(self, x):
        y = x * 1
        y[:, 0] += 1  # through the view y[:, 0]
        y[:, 1:, 2] *= 2
        z = y * 1
        z[z > 1] = 0.5
        z[:, :, cr.tensor([0, 3])] = z[:, :, 1:3]
        z[..., -1] = cr.arange(x.shape[-2], dtype=cr.float32)
        w = z.clone()
        w.fill_(3.0)
        w[1:].zero_()
        w.copy_(z[:, :1])
        return y, z, w


@pytest.mark.parametrize("model", [BasicBlock(), InPlaceMethods(), ItemWrites()],
                         ids=["resnet_block", "methods", "item_writes"])
def test_writes_in_place_export_as_their_values(model):
    model.eval()
    run = session(model, images(2), {"x": {0: "batch"}})
    assert_runtime_matches(model, run, images(3))


class WriteThroughReshape(nn.Module):
    def forward(self, x):
        y = x * 1
        y.view(y.shape[0], -1).relu_()  # changes y through a view the exporter does not follow
        return y


def test_a_write_through_a_view_it_does_not_follow_is_refused():
    with pytest.raises(UnsupportedOperatorError, match="changed in place by a write the "
                                                       "exporter does not follow"):
        session(WriteThroughReshape(), images(2), {"x": {0: "batch"}})
