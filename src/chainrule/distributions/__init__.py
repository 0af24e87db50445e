"""``torch.distributions``: the distributions training code samples from and scores with
(``Normal``, ``Categorical``, ``Bernoulli``, ``Uniform``, ``Independent``), their
``log_prob``/``entropy``/``sample``/``rsample`` (the reparameterised draw keeps the gradient),
and ``kl_divergence`` between them. Parameters are tensors; gradients flow through
``log_prob``, ``entropy``, ``rsample`` and ``kl_divergence`` as in PyTorch."""

from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .simple import Bernoulli, Categorical, Independent, Normal, Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "Uniform",
           "kl_divergence", "register_kl"]
