"""Grad-CAM localises the one useful pixel of a hand-built CNN, picks the right channel, and
names what is wrong with a layer it cannot use."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain, nn

PIXEL = (2, 5)  # the only pixel the classifier reads


def hand_built_cnn():
    """Images: dim noise (< 0.2) with the useful pixel bright (> 0.5). Channel 0 detects
    bright spots (relu(x - 0.3)), channel 1 dim background (relu(0.3 - x)); the classifier's
    logit 1 reads channel 0 at PIXEL only, logit 0 is constant."""
    conv = nn.Conv2d(1, 2, 3, padding=1)
    head = nn.Linear(2 * 8 * 8, 2)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0
        conv.weight[1, 0, 1, 1] = -1.0
        conv.bias.copy_(torch.tensor([-0.3, 0.3]))
        head.weight.zero_()
        head.bias.zero_()
        head.weight[1, PIXEL[0] * 8 + PIXEL[1]] = 2.0
    return nn.Sequential(conv, nn.ReLU(), nn.Flatten(), head)


def images(count=5):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 0.2, size=(count, 1, 8, 8))
    x[:, 0, PIXEL[0], PIXEL[1]] = rng.uniform(0.5, 1.0, size=count)
    return torch.from_numpy(x.astype(np.float32))


def test_grad_cam_localises_the_useful_pixel():
    model = hand_built_cnn()
    maps = explain.grad_cam(model, images(), target=1, layer="1").numpy()
    assert maps.shape == (5, 8, 8)
    for heat in maps:
        assert np.unravel_index(heat.argmax(), heat.shape) == PIXEL
        others = np.delete(heat.ravel(), PIXEL[0] * 8 + PIXEL[1])
        assert heat.max() > 0 and np.all(others == 0)  # the background channel weighs 0


def test_grad_cam_upsamples_a_coarser_layer_onto_the_pixel():
    """After 2x2 max pooling the classifier reads the pooled cell holding PIXEL; the 4x4 map,
    brought back to 8x8, peaks on that cell's 2x2 block."""
    conv = hand_built_cnn()[0]
    head = nn.Linear(2 * 4 * 4, 2)
    with torch.no_grad():
        head.weight.zero_()
        head.weight[1, (PIXEL[0] // 2) * 4 + PIXEL[1] // 2] = 2.0
    pooled = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), head)
    coarse = explain.grad_cam(pooled, images(), target=1, layer="2", upsample=False).numpy()
    assert coarse.shape == (5, 4, 4)
    maps = explain.grad_cam(pooled, images(), target=1, layer="2").numpy()
    for heat in maps:
        peak = np.argwhere(heat == heat.max())
        assert {(r // 2, c // 2) for r, c in peak} == {(PIXEL[0] // 2, PIXEL[1] // 2)}


def test_grad_cam_of_a_constant_output_is_empty_and_the_default_layer_is_the_last_conv():
    model = hand_built_cnn()
    assert np.all(explain.grad_cam(model, images(), target=0).numpy() == 0)  # logit 0 is flat
    default = explain.grad_cam(model, images(), target=1).numpy()
    named = explain.grad_cam(model, images(), target=1, layer=model[0]).numpy()
    np.testing.assert_array_equal(default, named)


def test_grad_cam_errors_name_the_layer():
    model = hand_built_cnn()
    with pytest.raises(ValueError, match="no layer 'conv9'; its convolutions are: 0"):
        explain.grad_cam(model, images(), target=1, layer="conv9")
    with pytest.raises(ValueError, match="layer '2' gives \\(5, 128\\)"):
        explain.grad_cam(model, images(), target=1, layer="2")
    with pytest.raises(ValueError, match="no convolution"):
        explain.grad_cam(nn.Linear(4, 2), torch.randn(3, 4), target=0)
