"""Sampling (shapes, dtypes, frequencies, reparameterised gradients), argument and sample
checks, expand, and kl_divergence's dispatch."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Exponential,
    Independent,
    Laplace,
    Normal,
    OneHotCategorical,
    Uniform,
    kl_divergence,
    register_kl,
)


@pytest.mark.parametrize("dist, mean, var", [
    (Normal(cr.tensor([1.0, -2.0]), cr.tensor([0.5, 2.0])), [1.0, -2.0], [0.25, 4.0]),
    (Uniform(cr.tensor([0.0, 2.0]), cr.tensor([1.0, 6.0])), [0.5, 4.0], [1 / 12, 16 / 12]),
    (Laplace(cr.tensor([0.0, 3.0]), cr.tensor([1.0, 0.5])), [0.0, 3.0], [2.0, 0.5]),
    (Exponential(cr.tensor([0.5, 4.0])), [2.0, 0.25], [4.0, 1 / 16]),
    (Bernoulli(probs=cr.tensor([0.2, 0.9])), [0.2, 0.9], [0.16, 0.09]),
])
def test_samples_have_the_distributions_mean_and_variance(dist, mean, var):
    cr.manual_seed(0)
    draws = dist.sample((40000,))
    assert tuple(draws.shape) == (40000, 2) and draws.dtype == cr.float32
    np.testing.assert_allclose(draws.numpy().mean(0), mean, atol=0.05 * max(1, max(var)))
    np.testing.assert_allclose(draws.numpy().var(0), var, rtol=0.08)


def test_categorical_samples_follow_the_probabilities():
    cr.manual_seed(1)
    dist = Categorical(probs=cr.tensor([[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]]))
    draws = dist.sample((20000,))
    assert tuple(draws.shape) == (20000, 2) and draws.dtype == cr.int64
    counts = [np.bincount(draws.numpy()[:, i], minlength=3) / 20000 for i in range(2)]
    np.testing.assert_allclose(counts, [[0.1, 0.6, 0.3], [0.5, 0.0, 0.5]], atol=0.015)
    assert tuple(dist.sample().shape) == (2,)
    one_hot = OneHotCategorical(probs=cr.tensor([0.2, 0.8])).sample((5,))
    assert tuple(one_hot.shape) == (5, 2) and (one_hot.sum(-1) == 1).all()


def test_rsample_carries_gradients_and_sample_does_not():
    loc = cr.tensor([0.5], requires_grad=True)
    scale = cr.tensor([2.0], requires_grad=True)
    cr.manual_seed(2)
    x = Normal(loc, scale).rsample((3,))
    x.sum().backward()
    eps = (x.detach() - 0.5) / 2.0  # x = loc + eps * scale
    assert loc.grad.tolist() == [3.0]
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum().numpy(), rtol=1e-6)
    assert not Normal(loc, scale).sample().requires_grad


def test_reinforce_step_through_a_policy():
    # the score-function loss of the REINFORCE example: -log_prob(action) * return
    logits = cr.tensor([0.0, 1.0, -1.0], requires_grad=True)
    dist = Categorical(logits=logits)
    action = cr.tensor(1)
    (-dist.log_prob(action) * 2.0).backward()
    probs = np.exp([0.0, 1.0, -1.0]) / np.exp([0.0, 1.0, -1.0]).sum()
    np.testing.assert_allclose(logits.grad.numpy(), 2.0 * (probs - [0, 1, 0]), rtol=1e-6)


def test_arguments_and_values_are_checked_as_in_pytorch():
    with pytest.raises(ValueError, match="Expected parameter scale"):
        Normal(0.0, cr.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="Expected parameter probs"):
        Bernoulli(probs=cr.tensor([1.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Categorical()
    with pytest.raises(ValueError, match="within the support"):
        Bernoulli(probs=cr.tensor([0.5])).log_prob(cr.tensor([0.5]))
    with pytest.raises(ValueError, match="broadcastable"):
        Normal(cr.zeros(3), cr.ones(3)).log_prob(cr.zeros(2))
    assert Normal(0.0, cr.tensor(-1.0), validate_args=False).scale.item() == -1.0


def test_expand_and_independent_shapes():
    dist = Normal(cr.zeros(3), cr.ones(3)).expand((4, 3))
    assert tuple(dist.batch_shape) == (4, 3) and tuple(dist.sample().shape) == (4, 3)
    diag = Independent(Normal(cr.zeros(4, 3), cr.ones(4, 3)), 1)
    assert tuple(diag.batch_shape) == (4,) and tuple(diag.event_shape) == (3,)
    assert tuple(diag.log_prob(cr.zeros(4, 3)).shape) == (4,)
    assert tuple(Categorical(logits=cr.zeros(2, 5)).expand((3, 2)).sample().shape) == (3, 2)


def test_kl_dispatch_prefers_the_most_specific_pair_and_names_a_missing_one():
    class MyNormal(Normal):
        pass

    assert kl_divergence(MyNormal(0.0, 1.0), Normal(0.0, 1.0)).item() == 0.0
    with pytest.raises(NotImplementedError, match="No KL"):
        kl_divergence(Uniform(0.0, 1.0), Bernoulli(probs=0.5))

    @register_kl(MyNormal, MyNormal)
    def _special(p, q):
        return cr.tensor(7.0)

    assert kl_divergence(MyNormal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 7.0
    with pytest.raises(TypeError, match="Distribution subclass"):
        register_kl(int, Normal)
    assert issubclass(MyNormal, Distribution)


def test_torch_distributions_is_an_attribute_loaded_on_first_use():
    import subprocess
    import sys

    code = ("import sys, chainrule; assert 'chainrule.distributions' not in sys.modules; "
            "print(chainrule.distributions.Normal.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Normal"


def test_multivariate_normal_samples_have_its_covariance_and_carry_gradients():
    from chainrule.distributions import MultivariateNormal

    cr.manual_seed(2)
    covariance = cr.tensor([[2.0, 0.6], [0.6, 0.5]])
    loc = cr.tensor([1.0, -1.0], requires_grad=True)
    dist = MultivariateNormal(loc, covariance_matrix=covariance)
    draws = dist.sample((40000,))
    assert tuple(draws.shape) == (40000, 2) and not draws.requires_grad
    np.testing.assert_allclose(draws.numpy().mean(0), [1.0, -1.0], atol=0.03)
    np.testing.assert_allclose(np.cov(draws.numpy().T), covariance.numpy(), atol=0.05)
    dist.rsample((3,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])   # d(loc + L eps)/d loc
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix"):
        MultivariateNormal(loc, covariance_matrix=covariance, scale_tril=covariance)
    with pytest.raises(ValueError, match="covariance_matrix"):
        MultivariateNormal(loc, covariance_matrix=cr.tensor([[1.0, 2.0], [2.0, 1.0]]))


def test_tanh_transform_cache_inverts_its_own_saturated_output():
    from chainrule.distributions import TransformedDistribution
    from chainrule.distributions.transforms import TanhTransform

    base = Normal(cr.tensor([30.0]), cr.tensor([1.0]))
    cached = TransformedDistribution(base, [TanhTransform(cache_size=1)])
    action = cached.rsample()
    assert action.item() == 1.0                      # tanh(~30) rounds to 1 in float32
    assert np.isfinite(cached.log_prob(action).item())   # the cached pre-image, not atanh(1)
    uncached = TransformedDistribution(base, [TanhTransform()])
    with np.errstate(divide="ignore", invalid="ignore"):   # atanh(1) = inf, as PyTorch gives
        assert not np.isfinite(uncached.log_prob(action).item())
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        TanhTransform(cache_size=2)


# PyTorch 2.13's torch._standard_gamma_grad(alpha, x): d x / d alpha of a Gamma(alpha, 1) draw,
# over its three regimes (x < 0.8; alpha > 8 near and far from x; the rational fit between)
GAMMA_GRAD_POINTS = [(0.3, 0.05, 0.49471098700419375), (0.7, 1.5, 1.7933429131465028),
                     (2.5, 0.5, 0.42683950298203893), (2.5, 4.0, 1.3395387468383573),
                     (12.0, 11.5, 0.9925371635139648), (12.0, 20.0, 1.29496253375444),
                     (30.0, 25.0, 0.9166713768838876)]


def test_gamma_rsample_gradient_is_pytorchs_implicit_reparameterisation():
    from chainrule.distributions.gamma import standard_gamma_grad

    alpha, x, expected = (np.array(v) for v in zip(*GAMMA_GRAD_POINTS))
    np.testing.assert_allclose(standard_gamma_grad(alpha, x), expected, rtol=1e-12)
    # and it is d x / d alpha of the CDF's level set: -(dP/dalpha) / p(x), by differences
    a, value, h = 2.5, 1.7, 1e-5
    cdf = [cr.igamma(cr.tensor(a + d, dtype=cr.float64), cr.tensor(value, dtype=cr.float64))
           .item() for d in (h, -h)]
    density = value ** (a - 1) * np.exp(-value) / math.gamma(a)
    np.testing.assert_allclose(standard_gamma_grad(a, value), -(cdf[0] - cdf[1]) / (2 * h)
                               / density, rtol=1e-4)   # PyTorch's fit is good to ~2e-5


def test_gamma_beta_dirichlet_samples_have_their_moments_and_gradients():
    from chainrule.distributions import Beta, Dirichlet, Gamma

    cr.manual_seed(3)
    concentration = cr.tensor([0.5, 4.0], requires_grad=True)
    gamma = Gamma(concentration, cr.tensor([2.0, 1.0]))
    draws = gamma.rsample((40000,))
    np.testing.assert_allclose(draws.detach().numpy().mean(0), [0.25, 4.0], rtol=0.03)
    np.testing.assert_allclose(draws.detach().numpy().var(0), [0.125, 4.0], rtol=0.06)
    draws.mean(0).sum().backward()   # d E[x] / d alpha = 1 / rate
    np.testing.assert_allclose(concentration.grad.numpy(), [0.5, 1.0], rtol=0.05)
    beta = Beta(cr.tensor([2.0]), cr.tensor([6.0]))
    b = beta.sample((40000,))
    assert tuple(b.shape) == (40000, 1) and not b.requires_grad
    np.testing.assert_allclose(b.numpy().mean(), 0.25, rtol=0.02)
    np.testing.assert_allclose(b.numpy().var(), 12 / (64 * 9), rtol=0.06)
    assert tuple(Beta(2.0, 3.0).sample().shape) == () and Beta(2.0, 3.0).mean.dtype == cr.float32
    alpha = cr.tensor([1.0, 2.0, 5.0], requires_grad=True)
    d = Dirichlet(alpha).rsample((20000,))
    np.testing.assert_allclose(d.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(d.detach().numpy().mean(0), [0.125, 0.25, 0.625], atol=0.01)
    d[:, 0].mean().backward()   # d E[x_0] / d alpha = (sum - a_0, -a_0, -a_0) / sum^2
    np.testing.assert_allclose(alpha.grad.numpy(), np.array([7.0, -1.0, -1.0]) / 64, atol=0.01)
    with pytest.raises(ValueError, match="at least one-dimensional"):
        Dirichlet(cr.tensor(1.0))


def test_poisson_chi2_student_half_normal_cauchy_and_mixture_samples():
    from chainrule.distributions import (
        Cauchy,
        Chi2,
        HalfNormal,
        MixtureSameFamily,
        Poisson,
        StudentT,
    )

    cr.manual_seed(4)
    n = 40000
    poisson = Poisson(cr.tensor([0.5, 6.0])).sample((n,)).numpy()
    np.testing.assert_allclose(poisson.mean(0), [0.5, 6.0], rtol=0.03)
    assert (poisson == np.round(poisson)).all()
    chi2 = Chi2(cr.tensor([3.0])).sample((n,)).numpy()
    np.testing.assert_allclose([chi2.mean(), chi2.var()], [3.0, 6.0], rtol=0.06)
    df = cr.tensor([5.0], requires_grad=True)
    t_draws = StudentT(df, 1.0, 2.0).rsample((n,))
    np.testing.assert_allclose(t_draws.detach().numpy().var(), 4 * 5 / 3, rtol=0.1)
    t_draws.sum().backward()
    assert np.isfinite(df.grad.numpy()).all()              # through the chi2's gamma draw
    half = HalfNormal(cr.tensor([2.0])).sample((n,)).numpy()
    np.testing.assert_allclose(half.mean(), 2.0 * math.sqrt(2 / math.pi), rtol=0.03)
    cauchy = Cauchy(cr.tensor([1.0]), cr.tensor([0.5])).sample((n,)).numpy()
    np.testing.assert_allclose(np.median(cauchy), 1.0, atol=0.03)
    mixture = MixtureSameFamily(Categorical(probs=cr.tensor([0.25, 0.75])),
                                Normal(cr.tensor([-4.0, 4.0]), cr.tensor([0.5, 0.5])))
    draws = mixture.sample((n,)).numpy()
    assert draws.shape == (n,)
    np.testing.assert_allclose((draws > 0).mean(), 0.75, atol=0.02)
    np.testing.assert_allclose(draws.mean(), mixture.mean.item(), atol=0.05)


def test_binomial_geometric_and_gumbel_samples():
    from chainrule.distributions import Binomial, Geometric, Gumbel

    cr.manual_seed(5)
    n = 40000
    binomial = Binomial(10, probs=cr.tensor([0.2, 0.7]))
    draws = binomial.sample((n,)).numpy()
    assert draws.shape == (n, 2) and (draws == np.round(draws)).all()
    assert draws.min() >= 0 and draws.max() <= 10
    np.testing.assert_allclose(draws.mean(0), [2.0, 7.0], rtol=0.02)
    np.testing.assert_allclose(draws.var(0), [1.6, 2.1], rtol=0.05)
    geometric = Geometric(logits=cr.tensor([0.0, -2.0])).sample((n,)).numpy()
    assert geometric.min() == 0 and (geometric == np.round(geometric)).all()
    p = 1 / (1 + math.exp(2.0))
    np.testing.assert_allclose(geometric.mean(0), [1.0, 1 / p - 1], rtol=0.04)
    loc = cr.tensor([1.0], requires_grad=True)
    scale = cr.tensor([2.0], requires_grad=True)
    gumbel = Gumbel(loc, scale).rsample((n,))
    np.testing.assert_allclose(gumbel.detach().numpy().mean(), 1.0 + 2.0 * 0.5772156649,
                               rtol=0.03)
    np.testing.assert_allclose(gumbel.detach().numpy().var(), math.pi ** 2 / 6 * 4, rtol=0.05)
    gumbel.mean().backward()  # reparameterised: d E[x] / d loc = 1, d E[x] / d scale = gamma
    np.testing.assert_allclose([loc.grad.item(), scale.grad.item()], [1.0, 0.5772156649],
                               atol=0.03)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        Binomial(3)
    with pytest.raises(ValueError, match="to be positive"):
        Geometric(cr.tensor([0.0, 0.5]), validate_args=True)
    with pytest.raises(ValueError, match="total_count"):
        Binomial(cr.tensor([2.5]), probs=cr.tensor([0.5]), validate_args=True)
    with pytest.raises(ValueError, match="Expected value argument"):
        Binomial(3, probs=cr.tensor(0.5), validate_args=True).log_prob(cr.tensor(4.0))
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
        cr.distributions.kl_divergence(Binomial(3, probs=cr.tensor(0.5)),
                                       Binomial(4, probs=cr.tensor(0.5)))


def test_relaxed_bernoulli_and_one_hot_samples():
    from chainrule.distributions import RelaxedBernoulli, RelaxedOneHotCategorical

    cr.manual_seed(6)
    n = 40000
    logits = cr.tensor([-1.0, 0.5], requires_grad=True)
    draws = RelaxedBernoulli(cr.tensor(0.05), logits=logits).rsample((n,))
    values = draws.detach().numpy()
    assert values.shape == (n, 2) and ((values > 0) & (values < 1)).all()
    # cold: nearly 0 or 1, 1 as often as a Bernoulli of sigmoid(logits)
    np.testing.assert_allclose((values > 0.5).mean(0), 1 / (1 + np.exp([1.0, -0.5])),
                               atol=0.01)
    draws.sum().backward()  # reparameterised
    assert (logits.grad.numpy() > 0).all()
    probs = cr.tensor([0.2, 0.3, 0.5], requires_grad=True)
    simplex = RelaxedOneHotCategorical(cr.tensor(0.05), probs=probs).rsample((n,))
    points = simplex.detach().numpy()
    np.testing.assert_allclose(points.sum(-1), 1.0, rtol=1e-5)  # float32
    np.testing.assert_allclose(np.bincount(points.argmax(-1)) / n, [0.2, 0.3, 0.5],
                               atol=0.01)
    simplex[:, 2].sum().backward()
    assert probs.grad.numpy()[2] > 0
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        RelaxedBernoulli(cr.tensor(1.0))
    with pytest.raises(ValueError, match="Expected value argument"):
        RelaxedOneHotCategorical(cr.tensor(1.0), probs=probs.detach(),
                                 validate_args=True).log_prob(cr.tensor([0.5, 0.6, 0.2]))
