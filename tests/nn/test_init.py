"""nn.init: hand-derived bounds and statistics, orthogonality, gains, reproducibility."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import init


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01**2))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2 / 6)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fan_in_and_fan_out():
    assert init._calculate_fan_in_and_fan_out(cr.empty(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(cr.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(cr.empty(5))


def test_kaiming_uniform_bound_is_hand_derived():
    # relu, fan_in = 200: bound = sqrt(2) * sqrt(3 / 200) = sqrt(6 / 200)
    cr.manual_seed(0)
    w = init.kaiming_uniform_(cr.empty(300, 200), nonlinearity="relu").numpy()
    bound = math.sqrt(6 / 200)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    # mode fan_out uses 300
    w = init.kaiming_uniform_(cr.empty(300, 200), mode="fan_out", nonlinearity="relu").numpy()
    assert np.abs(w).max() <= math.sqrt(6 / 300)


def test_kaiming_normal_and_xavier_statistics():
    cr.manual_seed(1)
    w = init.kaiming_normal_(cr.empty(400, 250), nonlinearity="relu").numpy()
    assert abs(w.std() - math.sqrt(2 / 250)) < 0.01 * math.sqrt(2 / 250)
    w = init.xavier_uniform_(cr.empty(300, 100)).numpy()
    bound = math.sqrt(6 / 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.999 * bound
    w = init.xavier_normal_(cr.empty(300, 100), gain=2.0).numpy()
    assert abs(w.std() - 2 * math.sqrt(2 / 400)) < 0.02 * 2 * math.sqrt(2 / 400)


def test_orthogonal_gives_orthonormal_rows_or_columns():
    cr.manual_seed(2)
    tall = init.orthogonal_(cr.empty(6, 4, dtype=cr.float64)).numpy()
    np.testing.assert_allclose(tall.T @ tall, np.eye(4), atol=1e-12)
    wide = init.orthogonal_(cr.empty(3, 5, dtype=cr.float64), gain=2.0).numpy()
    np.testing.assert_allclose(wide @ wide.T, 4 * np.eye(3), atol=1e-12)
    conv = init.orthogonal_(cr.empty(4, 2, 3, dtype=cr.float64)).numpy().reshape(4, 6)
    np.testing.assert_allclose(conv @ conv.T, np.eye(4), atol=1e-12)


def test_trunc_normal_stays_in_bounds_with_the_truncated_moments():
    cr.manual_seed(3)
    w = init.trunc_normal_(cr.empty(200_000), mean=0.0, std=1.0, a=-1.0, b=2.0).numpy()
    assert w.min() >= -1.0 and w.max() <= 2.0
    # mean of N(0,1) truncated to [a, b] = (phi(a) - phi(b)) / (Phi(b) - Phi(a))
    phi = lambda t: math.exp(-t * t / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda t: 0.5 * (1 + math.erf(t / math.sqrt(2)))  # noqa: E731
    expected_mean = (phi(-1.0) - phi(2.0)) / (cdf(2.0) - cdf(-1.0))
    assert abs(w.mean() - expected_mean) < 0.01
    small = init.trunc_normal_(cr.empty(1000), std=0.02).numpy()  # bounds are absolute
    assert abs(small.std() - 0.02) < 0.002
    with pytest.raises(ValueError, match="holds only"):
        init.trunc_normal_(cr.empty(3), a=50.0, b=60.0)


def test_constant_fills_and_uniform_normal_ranges():
    t = cr.empty(3, 3)
    assert init.constant_(t, 0.5) is t and t.tolist() == [[0.5] * 3] * 3
    assert init.zeros_(t).numpy().sum() == 0 and init.ones_(t).numpy().sum() == 9
    np.testing.assert_array_equal(init.eye_(cr.empty(2, 3)).numpy(), np.eye(2, 3))
    u = init.uniform_(cr.empty(10_000), -2.0, 3.0).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and u.dtype == np.float32
    n = init.normal_(cr.empty(10_000), mean=5.0, std=0.1).numpy()
    assert abs(n.mean() - 5.0) < 0.01 and abs(n.std() - 0.1) < 0.005


def test_init_is_reproducible_outside_the_graph_and_bumps_versions():
    p = cr.empty(4, 4).requires_grad_()
    version = p._version
    cr.manual_seed(5)
    first = init.xavier_uniform_(p).detach().numpy().copy()
    cr.manual_seed(5)
    second = init.xavier_uniform_(p).detach().numpy()
    np.testing.assert_array_equal(first, second)
    assert p.is_leaf and p.grad_fn is None and p._version > version
    g = cr.Generator().manual_seed(5)
    np.testing.assert_array_equal(init.xavier_uniform_(cr.empty(4, 4), generator=g).numpy(),
                                  first)
