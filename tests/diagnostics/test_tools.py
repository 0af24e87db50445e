"""draw_graph, model_gradcheck, saliency and integrated gradients."""

import copy
import shutil

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.diagnostics.gradcheck import model_gradcheck
from chainrule.diagnostics.graph import draw_graph
from chainrule.explain import integrated_gradients, saliency
from chainrule.nn import functional as F


def test_draw_graph_has_a_node_per_op_with_shapes_and_dtypes():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    out = model(torch.randn(2, 3)).sum()
    text = draw_graph(out, dict(model.named_parameters()))
    assert text.startswith("digraph backward {") and text.rstrip().endswith("}")
    # (Sequential runs the Linear and its Tanh as one node: the label names both)
    assert '"LinearChainBackward\\nLinear > Tanh\\n(2, 4) f32"' in text
    assert '"SumBackward\\n() f32"' in text
    assert '"0.weight\\n(4, 3) f32"' in text and '"0.bias\\n(4,) f32"' in text
    ops = [line for line in text.splitlines() if "Backward" in line and "[label" in line]
    assert len(ops) == len({line.split()[0] for line in ops})  # each op drawn once
    edges = [line for line in text.splitlines() if "->" in line]
    assert len(edges) >= 4


def test_draw_graph_shared_input_is_one_node():
    x = torch.randn(3, requires_grad=True)
    text = draw_graph((x * x).sum(), {"x": x})
    assert text.count('"x\\n(3,) f32"') == 1
    assert sum("->" in line and "n" in line for line in text.splitlines()) == 4  # x twice


def test_draw_graph_svg_needs_dot():
    out = (torch.randn(2, requires_grad=True) * 2).sum()
    if shutil.which("dot") is None:
        with pytest.raises(RuntimeError, match="Graphviz"):
            draw_graph(out, format="svg")
    else:
        assert "<svg" in draw_graph(out, format="svg")
    with pytest.raises(ValueError, match="format"):
        draw_graph(out, format="pdf")


def test_model_gradcheck_passes_on_a_correct_model_and_keeps_it_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.LayerNorm(6), nn.Linear(6, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(4, 5), torch.tensor([0, 2, 1, 0])
    result = model_gradcheck(model, x, loss_fn=lambda out: F.cross_entropy(out, y))
    assert result.ok and bool(result)
    assert set(result.errors) == {name for name, _ in model.named_parameters()}
    assert "passed" in str(result)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model[0].weight.dtype == torch.float32


class WrongBackward(torch.autograd.Function):
    """y = x^2 with a deliberately wrong gradient (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return grad_out * 3 * x


class BrokenModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.good = nn.Linear(3, 3)
        self.bad = nn.Linear(3, 2)

    def forward(self, x):
        return self.bad(WrongBackward.apply(self.good(x)))


def test_model_gradcheck_reports_the_worst_parameter():
    torch.manual_seed(0)
    result = model_gradcheck(BrokenModel(), torch.randn(4, 3))
    assert not result.ok
    assert result.worst.startswith("good.")  # the gradient is wrong below WrongBackward
    assert "FAILED" in str(result) and result.worst in str(result)


def test_model_gradcheck_with_dropout_sees_the_same_masks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    assert model_gradcheck(model, torch.randn(3, 4)).ok


def _classifier():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))


def test_saliency_is_the_input_gradient_of_the_target_logit():
    model = _classifier()
    x = torch.randn(2, 6)
    target = [2, 0]
    # finite differences of the target logit, per input feature (float64 copy)
    model64 = copy.deepcopy(model).double()
    x64 = x.double()
    numeric = np.zeros((2, 6))
    for i in range(2):
        for j in range(6):
            plus, minus = x64.clone(), x64.clone()
            plus[i, j] += 1e-6
            minus[i, j] -= 1e-6
            change = model64(plus)[i, target[i]] - model64(minus)[i, target[i]]
            numeric[i, j] = change.item() / 2e-6
    signed = saliency(model, x, target, abs=False)
    np.testing.assert_allclose(signed.numpy(), numeric, rtol=1e-3, atol=1e-5)
    np.testing.assert_allclose(saliency(model, x, target).numpy(), np.abs(numeric), rtol=1e-3,
                               atol=1e-5)
    assert saliency(model, x, target).dtype == torch.float32


def test_integrated_gradients_completeness_within_one_percent_at_64_steps():
    model = _classifier()
    x = torch.randn(4, 6) * 2
    baseline = torch.zeros(4, 6)
    attributions, delta = integrated_gradients(model, x, 1, baseline=baseline, steps=64,
                                               return_convergence_delta=True)
    assert attributions.shape == x.shape and attributions.dtype == torch.float32
    with torch.no_grad():
        difference = (model(x)[:, 1] - model(baseline)[:, 1]).numpy()
    sums = attributions.numpy().sum(axis=1)
    np.testing.assert_allclose(sums, difference, rtol=0.01, atol=1e-4)
    np.testing.assert_allclose(delta.numpy(), sums - difference, atol=1e-5)


def test_integrated_gradients_of_a_linear_model_is_exact():
    model = nn.Linear(5, 1)
    x = torch.randn(3, 5)
    attributions = integrated_gradients(model, x, steps=1)
    expected = x.numpy() * model.weight.detach().numpy()  # (x - 0) * w
    np.testing.assert_allclose(attributions.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_attribution_needs_a_target_for_many_outputs():
    with pytest.raises(ValueError, match="target"):
        saliency(_classifier(), torch.randn(2, 6))
