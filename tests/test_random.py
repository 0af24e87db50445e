"""Random numbers: seeding is reproducible bit for bit; generators and states round-trip."""

import numpy as np
import pytest

import chainrule as cr


def draw(generator=None):
    return [cr.rand(3, generator=generator).numpy().copy(),
            cr.randn(2, 2, generator=generator).numpy().copy(),
            cr.randint(0, 100, (5,), generator=generator).numpy().copy(),
            cr.randn(3, dtype=cr.float64, generator=generator).numpy().copy()]


def assert_bitwise_equal(a, b):
    for x, y in zip(a, b, strict=True):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


def test_manual_seed_gives_the_same_numbers_bit_for_bit():
    cr.manual_seed(1234)
    first = draw()
    cr.manual_seed(1234)
    assert_bitwise_equal(first, draw())
    cr.manual_seed(1235)
    assert first[0].tobytes() != draw()[0].tobytes()


def test_manual_seed_returns_the_default_generator():
    g = cr.manual_seed(5)
    assert g is cr.default_generator and cr.initial_seed() == 5


def test_generators_are_independent_of_the_default():
    g1 = cr.Generator().manual_seed(7)
    g2 = cr.Generator().manual_seed(7)
    a = draw(g1)
    cr.manual_seed(0)
    cr.rand(100)  # using the default generator must not disturb g2
    assert_bitwise_equal(a, draw(g2))
    assert g1.initial_seed() == 7


def test_rng_state_round_trip():
    cr.manual_seed(42)
    cr.randint(0, 10, (3,))  # leaves a buffered half-word in the state
    state = cr.get_rng_state()
    assert state.dtype == cr.uint8
    first = draw()
    cr.rand(10)
    cr.set_rng_state(state)
    assert_bitwise_equal(first, draw())


def test_generator_state_round_trip_and_bad_state():
    g = cr.Generator().manual_seed(3)
    state = g.get_state()
    a = draw(g)
    g.set_state(state)
    assert_bitwise_equal(a, draw(g))
    with pytest.raises(ValueError, match="37 bytes"):
        g.set_state(cr.zeros(5, dtype=cr.uint8))


def test_distributions_and_dtypes():
    cr.manual_seed(0)
    u = cr.rand(10_000)
    assert u.dtype == cr.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.02
    n = cr.randn(10_000, dtype=cr.float64)
    assert n.dtype == cr.float64
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    r = cr.randint(3, 6, (1000,))
    assert r.dtype == cr.int64 and set(np.unique(r.numpy())) == {3, 4, 5}
    assert cr.randint(10, (4,)).shape == (4,)  # randint(high, size)
    assert cr.randint(0, 2, (2, 3), dtype=cr.int32).dtype == cr.int32
    assert cr.randn(2, 3, requires_grad=True).requires_grad


def test_randint_bad_input():
    with pytest.raises(TypeError, match="size"):
        cr.randint(0, 10)
    with pytest.raises(RuntimeError, match="empty"):
        cr.randint(5, 5, (2,))


def test_negative_seed_is_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        cr.manual_seed(-1)


def test_a_pytorch_generator_state_continues_reproducibly_with_a_warning(monkeypatch):
    # torch.get_rng_state() is 5056 bytes (its Mersenne Twister): a PyTorch checkpoint
    # resumed with set_rng_state(ckpt["rng_state"]) must run; chainrule cannot draw PyTorch's
    # numbers, so it says so and continues from a seed derived from that state
    import chainrule.random as random_module

    monkeypatch.setattr(random_module, "_warned_torch_state", False)
    state = cr.tensor(np.arange(5056) % 251, dtype=cr.uint8)
    with pytest.warns(UserWarning, match="not PyTorch's"):
        cr.set_rng_state(state)
    first = draw()
    cr.set_rng_state(state)
    assert_bitwise_equal(first, draw())
    other = state.clone()
    other[100] = 7
    cr.set_rng_state(other)
    assert first[0].tobytes() != draw()[0].tobytes()
    with pytest.raises(ValueError, match="37 bytes"):
        cr.set_rng_state(cr.zeros(40, dtype=cr.uint8))
