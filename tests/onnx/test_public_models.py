"""Models written the way public PyTorch programs write them, exported and run in ONNX
Runtime: the MNIST example's net (``F.max_pool2d`` in ``forward``), a MobileNet-style block
with squeeze-and-excitation (``expand_as``, ``relu6``, ``Hardswish``), a U-Net up block that
pads by size differences (``x1.size()[2] - x2.size()[2]``) with dynamic height and width, and
a DCGAN generator."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.onnx import UnsupportedOperatorError

from .ort import assert_runtime_matches, session

pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


class MnistNet(nn.Module):
    """pytorch/examples mnist/main.py: F.max_pool2d, dropout layers, flatten, log_softmax."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 8, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(8 * 5 * 5, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = cr.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


class SqueezeExcite(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, c // 2), nn.ReLU(inplace=True),
                                nn.Linear(c // 2, c), nn.Hardsigmoid())

    def forward(self, x):
        b, c, _, _ = x.size()
        y = F.adaptive_avg_pool2d(x, 1).view(b, c)
        y = self.fc(y).view(b, c, 1, 1)
        return x * y.expand_as(x)


class Mobile(nn.Module):
    def __init__(self):
        super().__init__()
        self.dw = nn.Conv2d(4, 4, 3, padding=1, groups=4)
        self.pw = nn.Conv2d(4, 8, 1)
        self.bn = nn.BatchNorm2d(8)
        self.se = SqueezeExcite(8)
        self.act = nn.Hardswish()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Dropout(0.2),
                                  nn.Linear(8, 3))

    def forward(self, x):
        return self.head(self.act(self.se(F.relu6(self.bn(self.pw(self.dw(x)))))))


class UNetUp(nn.Module):
    """The U-Net up step: upsample, pad to the skip connection's size, concatenate."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(4, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
        self.conv = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        x1 = x[:, :2]
        x2 = self.up(self.down(x))
        diffY = x1.size()[2] - x2.size()[2]
        diffX = x1.size()[3] - x2.size()[3]
        x2 = F.pad(x2, [diffX // 2, diffX - diffX // 2, diffY // 2, diffY - diffY // 2])
        return self.conv(cr.cat([x1, x2], dim=1))


class DCGen(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(4, 8, 4, 1, 0, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
            nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


def sized(*shape):
    return lambda n: RNG.standard_normal((n, *shape)).astype(np.float32)


MODELS = {
    "mnist_net": (MnistNet, sized(1, 14, 14), {0: "batch"}),
    "mobile_block": (Mobile, sized(4, 8, 8), {0: "batch"}),
    "unet_up": (UNetUp, sized(4, 7, 7), {0: "batch"}),
    "unet_up_any_size": (UNetUp, lambda n: sized(4, 6 + n, 6 + 2 * n)(n),
                         {0: "batch", 2: "height", 3: "width"}),
    "dcgan_generator": (DCGen, sized(4, 1, 1), {0: "batch"}),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_public_model_idioms_export(name):
    build, make, axes = MODELS[name]
    model = build().eval()
    run = session(model, make(2), {"x": axes})
    assert_runtime_matches(model, run, make(3))


class PoolToHalf(nn.Module):
    def forward(self, x):
        return F.adaptive_max_pool1d(x, x.shape[-1] // 2)


def test_a_size_an_op_takes_as_a_number_is_refused_when_it_follows_a_dynamic_axis():
    with pytest.raises(UnsupportedOperatorError, match=r"adaptive_max_pool1d.*argument "
                       r"output_size follows the dynamic axes .*takes it as a fixed number"):
        session(PoolToHalf(), sized(2, 8)(2), {"x": {0: "batch", 2: "time"}})
