"""``torch.distributions``: probability distributions with sampling (reparameterised where
the distribution allows), log-densities, entropies and KL divergences, as PyTorch has them.

>>> from chainrule.distributions import Categorical
>>> dist = Categorical(logits=chainrule.zeros(4))
>>> action = dist.sample()
>>> loss = -dist.log_prob(action)          # REINFORCE's score-function term
"""

from . import constraints
from .bernoulli import Bernoulli
from .binomial_geometric import Binomial, Geometric
from .categorical import Categorical
from .dirichlet import Beta, Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .mixture_same_family import MixtureSameFamily
from .more_distributions import Cauchy, Chi2, HalfNormal, Poisson, StudentT
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .relaxed import (ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli,
                      RelaxedOneHotCategorical)
from .transformed_distribution import LogNormal, TransformedDistribution
from .transforms import (AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform,
                         SoftplusTransform, TanhTransform, Transform, identity_transform)
from .uniform import Uniform
from . import transforms  # noqa: E402 - torch.distributions.transforms

__all__ = [
    "Bernoulli", "Categorical", "Distribution", "Exponential", "Independent", "Laplace",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints",
    "kl_divergence", "register_kl", "LogNormal", "TransformedDistribution", "Transform",
    "AffineTransform", "ComposeTransform", "ExpTransform", "SigmoidTransform",
    "SoftplusTransform", "TanhTransform", "identity_transform", "transforms", "Beta",
    "Dirichlet", "Gamma", "Cauchy", "Chi2", "HalfNormal", "MixtureSameFamily", "Poisson",
    "StudentT", "Binomial", "Geometric", "Gumbel", "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
]
