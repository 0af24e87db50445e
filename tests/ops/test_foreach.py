"""torch._foreach_*: each result is the single-tensor op's, for every argument form (a number,
one tensor, a list), out of place and in place."""

import numpy as np
import pytest

import chainrule as cr


def tensors():
    return [cr.tensor([1.0, -2.0, 3.0]), cr.tensor([[0.5, 4.0], [-1.5, 2.0]])]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_binary_forms_match_the_single_tensor_op(op):
    others = [cr.tensor([2.0, 2.0, -1.0]), cr.tensor([[1.0, 3.0], [2.0, -2.0]])]
    for other in (1.5, others, [2.0, 0.5]):
        if op in ("maximum", "minimum") and not isinstance(other, list):
            continue  # (PyTorch takes these with tensors or a list only)
        per = other if isinstance(other, list) else [other] * 2
        expected = [getattr(t, op)(o) for t, o in zip(tensors(), per)]
        for got, want in zip(getattr(cr, f"_foreach_{op}")(tensors(), other), expected):
            np.testing.assert_allclose(got.numpy(), want.numpy())
        inplace = tensors()
        assert getattr(cr, f"_foreach_{op}_")(inplace, other) is None
        for got, want in zip(inplace, expected):
            np.testing.assert_allclose(got.numpy(), want.numpy())


def test_add_with_alpha_lerp_addcmul_norm_and_unary():
    a, b = tensors(), [t * 2 for t in tensors()]
    cr._foreach_add_(a, b, alpha=0.5)  # timm's EMA: ema += (1 - decay) * model
    np.testing.assert_allclose(a[1].numpy(), (tensors()[1] * 2).numpy())
    ema = tensors()
    cr._foreach_lerp_(ema, b, 0.25)
    np.testing.assert_allclose(ema[0].numpy(), (tensors()[0] * 1.25).numpy())
    out = cr._foreach_addcmul(tensors(), b, b, value=0.5)
    np.testing.assert_allclose(out[0].numpy(), (tensors()[0] + 0.5 * b[0] * b[0]).numpy())
    norms = cr._foreach_norm(tensors())
    assert norms[1].item() == pytest.approx(np.sqrt(0.25 + 16 + 2.25 + 4))
    assert cr._foreach_norm(tensors(), ord=float("inf"))[0].item() == 3.0
    np.testing.assert_allclose(cr._foreach_sqrt(cr._foreach_abs(tensors()))[0].numpy(),
                               np.sqrt([1.0, 2.0, 3.0]))
    zeros = tensors()
    cr._foreach_zero_(zeros)
    assert all(t.abs().sum().item() == 0 for t in zeros)
    with pytest.raises(RuntimeError, match="same number of tensors"):
        cr._foreach_mul(tensors(), [1.0])


def test_foreach_on_parameters_needs_no_grad_as_in_pytorch():
    p = cr.nn.Parameter(cr.ones(2))
    with cr.no_grad():
        cr._foreach_mul_([p], 0.5)
    assert p.tolist() == [0.5, 0.5] and p.requires_grad
