"""nn.utils: clip_grad_norm_ against hand-computed norms, clip_grad_value_, vector conversion."""

import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)


def _params_with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(cr.zeros(len(g)))
        p.grad = cr.tensor(g)
        params.append(p)
    return params


def test_clip_grad_norm_returns_the_total_norm_and_scales():
    params = _params_with_grads([3.0, 4.0], [12.0])  # total 2-norm sqrt(9 + 16 + 144) = 13
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, cr.Tensor) and total.item() == pytest.approx(13.0)
    scale = 1.0 / (13.0 + 1e-6)
    assert params[0].grad.tolist() == pytest.approx([3 * scale, 4 * scale])
    assert params[1].grad.tolist() == pytest.approx([12 * scale])


def test_no_clipping_below_the_limit_and_other_norms():
    params = _params_with_grads([0.3, -0.4])
    assert clip_grad_norm_(params, 1.0).item() == pytest.approx(0.5)
    assert params[0].grad.tolist() == pytest.approx([0.3, -0.4])
    params = _params_with_grads([1.0, -5.0], [2.0])
    assert clip_grad_norm_(params, 10.0, norm_type="inf").item() == 5.0
    params = _params_with_grads([1.0, -5.0], [2.0])
    assert clip_grad_norm_(params, 10.0, norm_type=1).item() == 8.0
    assert clip_grad_norm_([nn.Parameter(cr.ones(2))], 1.0).item() == 0.0  # no grads


def test_nonfinite_norm_raises_when_asked():
    params = _params_with_grads([math.inf, 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_get_total_norm_and_single_tensor():
    assert get_total_norm([cr.tensor([3.0]), cr.tensor([4.0])]).item() == pytest.approx(5.0)
    p = _params_with_grads([6.0, 8.0])[0]
    assert clip_grad_norm_(p, 5.0).item() == pytest.approx(10.0)
    assert np.linalg.norm(p.grad.numpy()) == pytest.approx(5.0, rel=1e-5)


def test_clip_grad_value():
    params = _params_with_grads([-3.0, 0.5, 2.0])
    clip_grad_value_(params, 1.0)
    assert params[0].grad.tolist() == [-1.0, 0.5, 1.0]


def test_parameters_to_vector_and_back():
    fc = nn.Linear(2, 3)
    vec = parameters_to_vector(fc.parameters())
    assert vec.shape == (9,)
    np.testing.assert_array_equal(vec.detach().numpy()[:6], fc.weight.detach().numpy().ravel())
    vector_to_parameters(cr.arange(9, dtype=cr.float32), fc.parameters())
    assert fc.weight.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    assert fc.bias.tolist() == [6.0, 7.0, 8.0]
    with pytest.raises(RuntimeError, match="9"):
        vector_to_parameters(cr.zeros(4), fc.parameters())


def test_a_norm_past_float32_range_is_inf_without_numpy_warnings():
    # PyTorch: the float32 norm of [1e20] * 4 is inf, and clipping by it zeroes the gradients
    params = _params_with_grads([1e20] * 4)
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        total = clip_grad_norm_(params, 1.0)
    assert total.item() == math.inf
    assert params[0].grad.tolist() == [0.0] * 4


def test_clip_grads_with_norm_scales_by_a_norm_computed_apart():
    # PyTorch 2.6's split of clip_grad_norm_: get_total_norm, then clip_grads_with_norm_
    a = cr.tensor([3.0, 0.0], requires_grad=True)
    b = cr.tensor([0.0, 4.0], requires_grad=True)
    (a * a).sum().add((b * b).sum()).backward()  # grads [6, 0] and [0, 8]: norm 10
    total = cr.nn.utils.get_total_norm([a.grad, b.grad])
    assert total.item() == pytest.approx(10.0)
    cr.nn.utils.clip_grads_with_norm_([a, b], 1.0, total)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.8], rtol=1e-5)
    cr.nn.utils.clip_grads_with_norm_([a, b], 5.0, 0.5)  # a coefficient above 1 changes nothing
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.8], rtol=1e-5)
