"""On models linear in what is explained, every method equals its closed form: the gradient is
the weight row of the target, so saliency is |w|, gradient x input and integrated gradients
are (x - baseline) * w, SmoothGrad is |w| whatever the noise; at an embedding, the same with
the embedding vector in place of x."""

import numpy as np
import pytest

import chainrule as torch
from chainrule import explain, nn


def linear_model():
    torch.manual_seed(0)
    return nn.Linear(5, 3).double()


def weight_rows(model, target):
    return model.weight.detach().numpy()[target]


TARGET = [2, 0, 1, 2]


@pytest.fixture
def x():
    return torch.randn(4, 5, dtype=torch.float64) * 2


def test_saliency_and_smoothgrad_are_the_weights(x):
    model = linear_model()
    w = weight_rows(model, TARGET)
    np.testing.assert_allclose(explain.saliency(model, x, TARGET, abs=False).numpy(), w)
    np.testing.assert_allclose(explain.saliency(model, x, TARGET).numpy(), np.abs(w))
    np.testing.assert_allclose(explain.smoothgrad(model, x, TARGET, samples=7).numpy(),
                               np.abs(w), rtol=1e-12)
    np.testing.assert_allclose(explain.smoothgrad(model, x, TARGET, abs=False).numpy(), w,
                               rtol=1e-12)


def test_gradient_x_input_and_integrated_gradients_are_weight_times_input(x):
    model = linear_model()
    expected = x.numpy() * weight_rows(model, TARGET)
    np.testing.assert_allclose(explain.gradient_x_input(model, x, TARGET).numpy(), expected)
    for steps in (1, 7, 64):
        attributions, delta = explain.integrated_gradients(model, x, TARGET, steps=steps,
                                                           return_convergence_delta=True)
        np.testing.assert_allclose(attributions.numpy(), expected, rtol=1e-12)
        assert delta.dtype == torch.float64 and np.abs(delta.numpy()).max() < 1e-12


def test_integrated_gradients_baselines_in_closed_form(x):
    model = linear_model()
    w = weight_rows(model, TARGET)
    reference = torch.randn(50, 5, dtype=torch.float64) + 3
    given = torch.randn(4, 5, dtype=torch.float64)
    cases = {
        "zeros": np.zeros((4, 5)),
        "mean": np.broadcast_to(reference.numpy().mean(axis=0), (4, 5)),
        "blur": explain.blur(x.numpy()),
        given: given.numpy(),
    }
    for baseline, values in cases.items():
        attributions = explain.integrated_gradients(model, x, TARGET, baseline=baseline,
                                                    reference=reference, steps=3)
        np.testing.assert_allclose(attributions.numpy(), (x.numpy() - values) * w, rtol=1e-10,
                                   atol=1e-12)


def test_random_baseline_is_drawn_within_the_reference_range(x):
    model = linear_model()
    w = weight_rows(model, TARGET)
    reference = torch.rand(30, 5, dtype=torch.float64) * torch.arange(1.0, 6.0).double()
    attributions = explain.integrated_gradients(
        model, x, TARGET, baseline="random", reference=reference,
        generator=torch.Generator().manual_seed(1)).numpy()
    baseline = x.numpy() - attributions / w  # invert (x - b) * w
    low, high = reference.numpy().min(axis=0), reference.numpy().max(axis=0)
    assert np.all(baseline >= low - 1e-9) and np.all(baseline <= high + 1e-9)
    again = explain.integrated_gradients(model, x, TARGET, baseline="random", reference=reference,
                                         generator=torch.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(attributions, again)


def test_blur_keeps_constant_inputs_and_smooths_a_spike():
    constant = np.full((1, 1, 6, 6), 2.5)
    np.testing.assert_allclose(explain.blur(constant), constant)
    spike = np.zeros((1, 9))
    spike[0, 4] = 1.0
    blurred = explain.blur(spike, sigma=1.0)[0]
    assert blurred.sum() == pytest.approx(1.0) and blurred.argmax() == 4
    np.testing.assert_allclose(blurred[3], np.exp(-0.5) * blurred[4], rtol=1e-12)
    np.testing.assert_allclose(blurred[:4], blurred[5:][::-1])


class BagOfEmbeddings(nn.Module):
    """Linear in the embedding vectors: logits = W (sum over positions of E[token])."""

    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(7, 4)
        self.head = nn.Linear(4, 3, bias=False)

    def forward(self, tokens):
        return self.head(self.embedding(tokens).sum(dim=1))


def test_embedding_sites_in_closed_form():
    torch.manual_seed(0)
    model = BagOfEmbeddings().double()
    tokens = torch.tensor([[1, 4, 4, 0], [6, 2, 3, 5]])
    target = [1, 2]
    vectors = model.embedding.weight.detach().numpy()[tokens.numpy()]  # (2, 4, 4)
    w = model.head.weight.detach().numpy()[target][:, None, :]  # (2, 1, 4)
    expected = (vectors * w).sum(-1)
    for steps in (1, 16):
        np.testing.assert_allclose(explain.integrated_gradients(model, tokens, target,
                                                                steps=steps).numpy(), expected)
    np.testing.assert_allclose(explain.gradient_x_input(model, tokens, target).numpy(), expected)
    np.testing.assert_allclose(explain.saliency(model, tokens, target).numpy(),
                               np.broadcast_to(np.abs(w).sum(-1), (2, 4)))
    # the mean baseline at the embedding: the mean embedding output over the reference
    reference = torch.tensor([[0, 0, 1, 1], [2, 2, 3, 3]])
    mean_vectors = model.embedding.weight.detach().numpy()[reference.numpy()].mean(axis=0)
    np.testing.assert_allclose(
        explain.integrated_gradients(model, tokens, target, baseline="mean",
                                     reference=reference).numpy(),
        ((vectors - mean_vectors) * w).sum(-1))


class LinearTable(nn.Module):
    """Numeric columns 0-1, a category code in column 2 read by an embedding; linear in both.
    It says which column its embedding reads, as the tabular preset does."""

    def __init__(self):
        super().__init__()
        self.numeric = nn.Linear(2, 1, bias=False)
        self.embedding = nn.Embedding(5, 3)
        self.head = nn.Linear(3, 1, bias=False)

    def embedded_inputs(self):
        return {"embedding": 2}

    def forward(self, x):
        return self.numeric(x[:, :2]) + self.head(self.embedding(x[:, 2].long()))


def test_category_codes_are_explained_at_their_embedding_and_kept_on_the_path():
    torch.manual_seed(0)
    model = LinearTable().double()
    x = torch.tensor([[0.5, -1.0, 3.0], [2.0, 0.25, 1.0]], dtype=torch.float64)
    w = model.numeric.weight.detach().numpy()[0]
    vectors = model.embedding.weight.detach().numpy()[[3, 1]]
    v = model.head.weight.detach().numpy()[0]
    expected = np.column_stack([x.numpy()[:, :2] * w, vectors @ v])
    attributions, delta = explain.integrated_gradients(model, x, steps=5,
                                                       return_convergence_delta=True)
    np.testing.assert_allclose(attributions.numpy(), expected, rtol=1e-12)
    assert np.abs(delta.numpy()).max() < 1e-12
    np.testing.assert_allclose(explain.gradient_x_input(model, x).numpy(), expected)
    # noise never moves a code: SmoothGrad of the linear model is still exact
    smooth = explain.smoothgrad(model, x, abs=False, samples=5).numpy()
    np.testing.assert_allclose(smooth, np.column_stack([np.broadcast_to(w, (2, 2)),
                                                        np.full(2, v.sum())]), rtol=1e-12)
    # naming the columns by hand gives the same; leaving the embedding out gives 0 there
    named = explain.integrated_gradients(model, x, steps=5, embeddings={"embedding": 2})
    np.testing.assert_allclose(named.numpy(), expected, rtol=1e-12)
    without = explain.integrated_gradients(model, x, steps=5, embeddings=())
    np.testing.assert_allclose(without.numpy()[:, 2], 0.0)


def test_grad_cam_in_closed_form():
    """Conv -> Flatten -> Linear: dY/dA is the target's weight row laid out like A, so the
    channel weights are its spatial means and the map is relu(sum_k w_k A_k)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)).double()
    x = torch.randn(2, 1, 6, 6, dtype=torch.float64)
    target = [1, 0]
    kernel = model[0].weight.detach().numpy()
    bias = model[0].bias.detach().numpy()
    windows = np.lib.stride_tricks.sliding_window_view(x.numpy()[:, 0], (3, 3), axis=(1, 2))
    activations = np.einsum("nhwij,kij->nkhw", windows, kernel[:, 0]) + bias[:, None, None]
    rows = model[2].weight.detach().numpy()[target].reshape(2, 3, 4, 4)
    weights = rows.mean(axis=(2, 3))
    expected = np.maximum(np.einsum("nk,nkhw->nhw", weights, activations), 0)
    maps = explain.grad_cam(model, x, target, upsample=False)
    np.testing.assert_allclose(maps.numpy(), expected, rtol=1e-10, atol=1e-12)
    assert explain.grad_cam(model, x, target).shape == (2, 6, 6)  # upsampled to the input
