"""Distribution cases written once for both libraries: ``bench/record_distributions.py`` runs
them on PyTorch (float64) and records every statistic, log-density and gradient;
``test_against_pytorch.py`` runs them on chainrule and compares. ``m`` is torch or chainrule."""


def t(m, values, grad=False, dtype="float64"):
    return m.tensor(values, dtype=getattr(m, dtype), requires_grad=grad)


# name -> (build(m) -> (distribution, [parameter tensors that need gradients]), value(m))
CASES = {
    "normal": (lambda m: _params(m, "Normal", loc=[0.5, -1.0, 2.0], scale=[1.0, 0.3, 2.5]),
               lambda m: t(m, [[0.1, -0.5, 3.0], [1.0, -1.2, -2.0]])),
    "normal_scalar": (lambda m: (m.distributions.Normal(0.25, 1.5), []),
                      lambda m: t(m, [0.3, -2.0])),
    "bernoulli_probs": (lambda m: _params(m, "Bernoulli", probs=[0.2, 0.7, 0.5]),
                        lambda m: t(m, [[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])),
    "bernoulli_logits": (lambda m: _params(m, "Bernoulli", logits=[-1.5, 0.0, 2.0]),
                         lambda m: t(m, [1.0, 0.0, 1.0])),
    "categorical_probs": (lambda m: _params(m, "Categorical",
                                            probs=[[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]),
                          lambda m: m.tensor([[2, 0], [1, 1], [0, 2]])),
    "categorical_logits": (lambda m: _params(m, "Categorical", logits=[0.3, -1.0, 2.0, 0.0]),
                           lambda m: m.tensor([3, 2, 0])),
    "one_hot_categorical": (lambda m: _params(m, "OneHotCategorical",
                                              logits=[[0.3, -1.0, 2.0], [1.0, 1.0, 0.0]]),
                            lambda m: t(m, [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])),
    "uniform": (lambda m: _params(m, "Uniform", low=[0.0, -2.0], high=[1.0, 3.0]),
                lambda m: t(m, [[0.5, 2.9], [0.25, -1.0]])),
    "laplace": (lambda m: _params(m, "Laplace", loc=[0.0, 1.0], scale=[1.0, 0.5]),
                lambda m: t(m, [[0.5, 2.0], [-1.0, 1.0]])),
    "exponential": (lambda m: _params(m, "Exponential", rate=[0.5, 2.0, 3.0]),
                    lambda m: t(m, [0.1, 1.0, 2.5])),
    "independent_normal": (
        lambda m: _independent(m), lambda m: t(m, [[0.1, 0.2, 0.3], [1.0, -1.0, 0.5]])),
    "mvn_covariance": (
        lambda m: _params(m, "MultivariateNormal", loc=[0.5, -1.0, 2.0],
                          covariance_matrix=[[2.0, 0.3, 0.1], [0.3, 1.0, 0.2],
                                             [0.1, 0.2, 0.5]]),
        lambda m: t(m, [[0.1, -0.5, 3.0], [1.0, -1.2, -2.0]])),
    "mvn_scale_tril_batched": (
        lambda m: _params(m, "MultivariateNormal", loc=[[0.0, 1.0], [-1.0, 0.5]],
                          scale_tril=[[[1.0, 0.0], [0.5, 2.0]], [[0.7, 0.0], [-0.3, 1.2]]]),
        lambda m: t(m, [[[0.3, 0.2], [1.0, -1.0]], [[0.0, 0.0], [2.0, 1.5]]])),
    "mvn_precision": (
        lambda m: _params(m, "MultivariateNormal", loc=[0.0, 1.0],
                          precision_matrix=[[2.0, 0.5], [0.5, 1.0]]),
        lambda m: t(m, [[0.3, 0.2], [1.0, -1.0]])),
    "mvn_diagonal_policy": (  # PPO: a batch of means, one diagonal covariance for all
        lambda m: _mvn_diagonal(m), lambda m: t(m, [[0.1, -0.2], [0.5, 0.5], [-1.0, 0.0]])),
    "log_normal": (lambda m: _params(m, "LogNormal", loc=[0.0, 0.5, -1.0], scale=[1.0, 0.3, 2.0]),
                   lambda m: t(m, [[0.7, 2.0, 0.1], [1.5, 0.2, 3.0]])),
    "tanh_normal_scaled": (  # SAC: a Gaussian squashed by tanh, scaled to the action bounds
        lambda m: _squashed(m), lambda m: t(m, [[0.3, -1.2], [2.2, 0.0]])),
    "sigmoid_exp_composed": (
        lambda m: _composed(m), lambda m: t(m, [[0.2, 0.9], [0.5, 0.05]])),
    "gamma": (lambda m: _gamma(m), lambda m: t(m, [[0.3, 2.5, 2.0], [1.7, 0.1, 4.0]])),
    "beta": (lambda m: _params(m, "Beta", concentration1=[0.5, 2.0, 5.0],
                               concentration0=[0.5, 3.0, 1.5]),
             lambda m: t(m, [[0.3, 0.5, 0.9], [0.05, 0.2, 0.6]])),
    "dirichlet": (lambda m: _params(m, "Dirichlet", concentration=[[1.0, 2.0, 3.0],
                                                                   [0.5, 0.5, 4.0]]),
                  lambda m: t(m, [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
    "cauchy": (lambda m: _params(m, "Cauchy", loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]),
               lambda m: t(m, [[0.3, 2.0, -1.0], [-4.0, 1.0, 10.0]])),
    "poisson": (lambda m: _params(m, "Poisson", rate=[0.5, 3.0, 10.0]),
                lambda m: t(m, [[0.0, 2.0, 12.0], [1.0, 5.0, 7.0]])),
    "chi2": (lambda m: (m.distributions.Chi2(t(m, [1.0, 3.0, 7.5])), []),  # cdf: no d/d df
             lambda m: t(m, [[0.5, 2.0, 6.0], [3.0, 0.1, 9.0]])),
    "student_t": (lambda m: _params(m, "StudentT", df=[0.8, 1.5, 5.0], loc=[0.0, 1.0, -1.0],
                                    scale=[1.0, 2.0, 0.5]),
                  lambda m: t(m, [[0.3, 2.0, -1.5], [-3.0, 1.0, 0.0]])),
    "half_normal": (lambda m: _params(m, "HalfNormal", scale=[1.0, 0.5, 2.0]),
                    lambda m: t(m, [[0.3, 1.0, 2.5], [0.0, 0.2, 4.0]])),
    "gaussian_mixture": (lambda m: _mixture(m), lambda m: t(m, [[0.3, -1.0], [2.0, 0.5]])),
    "binomial_probs": (lambda m: _binomial(m, probs=[0.2, 0.5, 0.9]),
                       lambda m: t(m, [[0.0, 3.0, 5.0], [2.0, 1.0, 4.0]])),
    "binomial_logits_counts": (  # different counts: no entropy or support (as PyTorch)
        lambda m: _binomial(m, logits=[-2.0, 0.0, 30.0], total_count=[3.0, 10.0, 7.0]),
        lambda m: t(m, [[3.0, 4.0, 7.0], [0.0, 10.0, 6.0]])),
    "geometric_probs": (lambda m: _params(m, "Geometric", probs=[0.1, 0.5, 1.0]),
                        lambda m: t(m, [[0.0, 3.0, 0.0], [7.0, 1.0, 0.0]])),
    "geometric_logits": (lambda m: _params(m, "Geometric", logits=[-3.0, 0.5, 4.0]),
                         lambda m: t(m, [[2.0, 0.0, 1.0], [15.0, 4.0, 0.0]])),
    "gumbel": (lambda m: _params(m, "Gumbel", loc=[0.0, 1.0, -2.0], scale=[1.0, 0.5, 3.0]),
               lambda m: t(m, [[0.3, 2.0, -1.0], [-4.0, 1.0, 10.0]])),
    "relaxed_bernoulli": (lambda m: _relaxed(m, "RelaxedBernoulli", probs=[0.2, 0.5, 0.9]),
                          lambda m: t(m, [[0.1, 0.5, 0.99], [0.7, 0.02, 0.6]])),
    "relaxed_bernoulli_logits": (
        lambda m: _relaxed(m, "RelaxedBernoulli", logits=[-1.0, 2.0], temperature=0.3),
        lambda m: t(m, [0.4, 0.9])),
    "relaxed_one_hot": (
        lambda m: _relaxed(m, "RelaxedOneHotCategorical",
                           logits=[[0.3, -1.0, 2.0], [1.0, 1.0, 0.0]]),
        lambda m: t(m, [[0.2, 0.1, 0.7], [0.5, 0.3, 0.2]])),
    "relaxed_one_hot_probs": (
        lambda m: _relaxed(m, "RelaxedOneHotCategorical", probs=[0.1, 0.6, 0.3],
                           temperature=2.0),
        lambda m: t(m, [[0.2, 0.1, 0.7], [0.05, 0.9, 0.05]])),
}

STATISTICS = ("mean", "mode", "variance", "stddev")
METHODS = ("log_prob", "cdf", "icdf", "entropy", "perplexity", "enumerate_support")

# (p case, q case) pairs for kl_divergence
KL_PAIRS = [("normal", "normal_other"), ("bernoulli_probs", "bernoulli_other"),
            ("categorical_probs", "categorical_other"),
            ("one_hot_categorical", "one_hot_other"), ("uniform", "uniform_wider"),
            ("laplace", "laplace_other"), ("exponential", "exponential_other"),
            ("normal", "laplace_as_q"), ("laplace", "normal_as_q"),
            ("exponential", "normal_as_q3"), ("independent_normal", "independent_other"),
            ("mvn_covariance", "mvn_other"), ("mvn_scale_tril_batched", "mvn_precision"),
            ("mvn_diagonal_policy", "mvn_precision"), ("gamma", "gamma_other"),
            ("beta", "beta_other"), ("dirichlet", "dirichlet_other"),
            ("binomial_probs", "binomial_other"), ("binomial_logits_counts", "binomial_fewer"),
            ("geometric_probs", "geometric_other"), ("gumbel", "gumbel_other")]

OTHERS = {
    "binomial_other": lambda m: _binomial(m, logits=[0.5, -1.0, 1.0]),
    "binomial_fewer": lambda m: _binomial(m, probs=[0.4, 0.5, 0.6],
                                          total_count=[3.0, 8.0, 7.0]),  # inf where fewer
    "geometric_other": lambda m: _params(m, "Geometric", probs=[0.3, 0.2, 0.7]),
    "gumbel_other": lambda m: _params(m, "Gumbel", loc=[1.0, 0.0, 0.0], scale=[2.0, 0.5, 1.0]),
    "normal_other": lambda m: _params(m, "Normal", loc=[0.0, 0.0, 1.0], scale=[2.0, 1.0, 0.5]),
    "bernoulli_other": lambda m: _params(m, "Bernoulli", probs=[0.5, 0.1, 0.9]),
    "categorical_other": lambda m: _params(m, "Categorical",
                                           logits=[[0.0, 1.0, 0.5], [-1.0, 0.0, 2.0]]),
    "one_hot_other": lambda m: _params(m, "OneHotCategorical",
                                       probs=[[0.3, 0.3, 0.4], [0.1, 0.6, 0.3]]),
    "uniform_wider": lambda m: _params(m, "Uniform", low=[-1.0, -2.5], high=[1.5, 3.0]),
    "laplace_other": lambda m: _params(m, "Laplace", loc=[0.5, 0.0], scale=[2.0, 1.0]),
    "exponential_other": lambda m: _params(m, "Exponential", rate=[1.0, 1.0, 0.5]),
    "laplace_as_q": lambda m: _params(m, "Laplace", loc=[0.0, 1.0, -1.0], scale=[1.0, 2.0, 0.5]),
    "normal_as_q": lambda m: _params(m, "Normal", loc=[0.3, 0.0], scale=[1.0, 2.0]),
    "normal_as_q3": lambda m: _params(m, "Normal", loc=[0.3, 0.0, 1.0], scale=[1.0, 2.0, 0.7]),
    "independent_other": lambda m: _independent(m, shift=0.5),
    "gamma_other": lambda m: _params(m, "Gamma", concentration=[1.0, 1.0, 5.0],
                                     rate=[2.0, 1.0, 1.0]),
    "beta_other": lambda m: _params(m, "Beta", concentration1=[1.0, 1.0, 2.0],
                                    concentration0=[1.0, 2.0, 2.0]),
    "dirichlet_other": lambda m: _params(m, "Dirichlet", concentration=[[2.0, 2.0, 2.0],
                                                                        [1.0, 0.7, 1.5]]),
    "mvn_other": lambda m: _params(m, "MultivariateNormal", loc=[0.0, 0.0, 1.0],
                                   scale_tril=[[1.5, 0.0, 0.0], [0.2, 0.8, 0.0],
                                               [-0.1, 0.3, 1.1]]),
}


def _params(m, name, **params):
    tensors = {k: t(m, v, grad=True) for k, v in params.items()}
    return getattr(m.distributions, name)(**tensors), list(tensors.values())


def _independent(m, shift=0.0):
    loc = t(m, [[0.0 + shift, 1.0, -1.0], [0.5, 0.5, 0.5]], grad=True)
    scale = t(m, [[1.0, 2.0, 0.5], [1.0, 1.5, 0.7 + shift]], grad=True)
    return m.distributions.Independent(m.distributions.Normal(loc, scale), 1), [loc, scale]


def _mvn_diagonal(m):
    mean = t(m, [[0.0, 0.5], [1.0, -0.5], [0.2, 0.2]], grad=True)
    variance = t(m, [0.36, 0.25], grad=True)
    covariance = m.diag(variance).unsqueeze(dim=0)
    return m.distributions.MultivariateNormal(mean, covariance), [mean, variance]


def _squashed(m):
    loc, scale = t(m, [0.2, -0.5], grad=True), t(m, [0.8, 1.5], grad=True)
    transforms = m.distributions.transforms
    return m.distributions.TransformedDistribution(
        m.distributions.Normal(loc, scale),
        [transforms.TanhTransform(), transforms.AffineTransform(0.5, 2.0)]), [loc, scale]


def _composed(m):
    loc, scale = t(m, [0.0, 1.0], grad=True), t(m, [1.0, 0.5], grad=True)
    transforms = m.distributions.transforms
    chain = transforms.ComposeTransform([transforms.AffineTransform(-1.0, 0.5),
                                         transforms.ExpTransform(), transforms.ExpTransform().inv,
                                         transforms.SigmoidTransform()])
    return m.distributions.TransformedDistribution(m.distributions.Normal(loc, scale), chain), \
        [loc, scale]


def _gamma(m):
    """Gradients for the rate only: the CDF (the incomplete gamma function) has no derivative
    in the concentration, in PyTorch either."""
    rate = t(m, [1.0, 0.5, 3.0], grad=True)
    return m.distributions.Gamma(t(m, [0.5, 2.0, 7.5]), rate), [rate]


def _mixture(m):
    """A mixture density network's head: per batch entry, three Gaussians and their logits."""
    logits = t(m, [[0.2, -1.0, 0.5], [1.0, 0.0, -0.5]], grad=True)
    loc = t(m, [[-1.0, 0.0, 2.0], [0.5, 1.5, -2.0]], grad=True)
    scale = t(m, [[0.5, 1.0, 0.7], [1.2, 0.3, 2.0]], grad=True)
    dists = m.distributions
    mixture = dists.MixtureSameFamily(dists.Categorical(logits=logits), dists.Normal(loc, scale))
    return mixture, [logits, loc, scale]


def _binomial(m, total_count=5.0, **param):
    ((name, values),) = param.items()
    tensor = t(m, values, grad=True)
    dist = m.distributions.Binomial(t(m, total_count) if isinstance(total_count, list)
                                    else total_count, **{name: tensor})
    return dist, [tensor]


def _relaxed(m, name, temperature=0.5, **param):
    """Gradients for the temperature and the probabilities or logits."""
    ((key, values),) = param.items()
    temperature, tensor = t(m, temperature, grad=True), t(m, values, grad=True)
    return getattr(m.distributions, name)(temperature, **{key: tensor}), [temperature, tensor]


def build(m, name):
    """(distribution, parameters needing gradients) for a case or an 'other' name."""
    return CASES[name][0](m) if name in CASES else OTHERS[name](m)


def run(m, name, what):
    """(the tensor ``what`` gives for case ``name`` or None where the library raises
    NotImplementedError, the parameters); methods that take a value get the case's value
    (probabilities in (0, 1) for icdf)."""
    dist, params = build(m, name)
    try:
        if what in STATISTICS:
            return getattr(dist, what), params
        if what in ("entropy", "perplexity"):
            return getattr(dist, what)(), params
        if what == "enumerate_support":
            return dist.enumerate_support(), params
        value = CASES[name][1](m)
        if what == "icdf":
            value = t(m, [0.1, 0.6, 0.9][: dist.batch_shape[-1] if dist.batch_shape else 2])
        return getattr(dist, what)(value), params
    except NotImplementedError:
        return None, params


def kl(m, p_name, q_name):
    p, p_params = build(m, p_name)
    q, q_params = build(m, q_name)
    return m.distributions.kl_divergence(p, q), p_params + q_params
