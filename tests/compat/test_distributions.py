"""chainrule.distributions against PyTorch 2.13's values (the same script run on both)."""

import pytest

import chainrule as torch
from chainrule.distributions import (
    Bernoulli,
    Categorical,
    Independent,
    Normal,
    Uniform,
    kl_divergence,
)


def f64(values):
    return torch.tensor(values, dtype=torch.float64)


def test_normal():
    mu = f64([0.5, -1.0]).requires_grad_()
    normal = Normal(mu, f64([1.5, 0.3]))
    log_prob = normal.log_prob(f64([0.1, 0.2]))
    log_prob.sum().backward()
    assert log_prob.tolist() == pytest.approx([-1.3599591968683926, -7.714965728878736])
    assert normal.entropy().tolist() == pytest.approx([1.824403641312837, 0.21496572887873655])
    assert normal.cdf(f64([0.1, 0.2])).tolist() == pytest.approx([0.39486291046402516,
                                                                  0.9999683287581669])
    assert normal.icdf(f64([0.3, 0.9])).tolist() == pytest.approx([-0.2866007690620612,
                                                                   -0.6155345303366198])
    assert mu.grad.tolist() == pytest.approx([-0.17777777777777778, 13.333333333333332])
    sample = normal.rsample((5,))
    assert sample.shape == (5, 2) and sample.requires_grad
    assert not normal.sample((5,)).requires_grad
    standard = Normal(f64(0.0), f64(1.0))
    assert kl_divergence(normal, standard).tolist() == pytest.approx([0.3445348918918356,
                                                                     1.2489728043259363])


def test_categorical():
    c = Categorical(logits=f64([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]]))
    assert c.log_prob(torch.tensor([1, 2])).tolist() == pytest.approx(
        [-0.46436878410794513, -1.0986122886681098])
    assert c.entropy().tolist() == pytest.approx([0.9059592564792269, 1.0986122886681096])
    assert c.sample((4,)).shape == (4, 2) and c.batch_shape == (2,)
    p = Categorical(probs=f64([0.2, 0.3, 0.5]))
    assert p.log_prob(torch.tensor(2)).item() == pytest.approx(-0.6931471805599453)
    q = Categorical(probs=f64([0.5, 0.25, 0.25]))
    assert kl_divergence(p, q).item() == pytest.approx(0.21801191094332797)
    torch.manual_seed(0)
    draws = Categorical(probs=f64([0.1, 0.0, 0.9])).sample((2000,))
    assert set(draws.tolist()) == {0, 2} and 0.85 < (draws == 2).double().mean().item() < 0.95


def test_bernoulli_uniform_independent():
    b = Bernoulli(probs=f64([0.3, 0.9]))
    assert b.log_prob(f64([1.0, 0.0])).tolist() == pytest.approx([-1.2039728043259361,
                                                                  -2.302585092994046])
    assert b.entropy().tolist() == pytest.approx([0.6108643020548935, 0.3250829733914482])
    assert kl_divergence(b, Bernoulli(logits=f64([0.0, 1.0]))).tolist() == pytest.approx(
        [0.08228287850505181, 0.08817871412677464])
    u = Uniform(f64(0.0), f64(2.0))
    assert u.log_prob(f64([0.5])).tolist() == pytest.approx([-0.6931471805599453])
    assert u.entropy().item() == pytest.approx(0.6931471805599453)
    ind = Independent(Normal(torch.zeros(3, 2, dtype=torch.float64),
                             torch.ones(3, 2, dtype=torch.float64)), 1)
    assert ind.batch_shape == (3,) and ind.event_shape == (2,)
    assert ind.log_prob(torch.zeros(3, 2, dtype=torch.float64)).tolist() == pytest.approx(
        [-1.8378770664093453] * 3)
