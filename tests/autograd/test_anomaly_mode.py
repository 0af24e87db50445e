"""Anomaly mode, as PyTorch's: backward stops at the first node whose gradient holds a NaN,
naming the node and the output, and warns with the forward call that made the node."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import engine


def _nan_in_backward(x):
    return (x.sqrt() * 0).sum()  # FORWARD CALL: sqrt'(0) = inf, times 0


def test_backward_stops_at_the_node_that_made_the_nan():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        loss = _nan_in_backward(x)
        with pytest.warns(UserWarning, match=r"(?s)Error detected in SqrtBackward.*FORWARD CALL"):
            with pytest.raises(RuntimeError,
                               match=r"Function 'SqrtBackward' returned nan values in its "
                                     r"0th output"):
                loss.backward()
    assert x.grad is None  # stopped before reaching the leaf


def test_without_the_check_or_the_mode_the_nan_goes_through():
    modes = (cr.autograd.detect_anomaly(check_nan=False), cr.autograd.set_detect_anomaly(False))
    for mode in modes:
        x = cr.tensor([0.0, 4.0], requires_grad=True)
        with mode, np.errstate(invalid="ignore"):
            _nan_in_backward(x).backward()
        assert np.isnan(x.grad.numpy()[0]) and x.grad.numpy()[1] == 0.0


def test_a_healthy_backward_is_unchanged_and_the_mode_leaves_nothing_behind():
    observers = (list(engine._observers), list(engine._start_observers))
    x = cr.tensor([1.0, 4.0], requires_grad=True)
    with cr.autograd.detect_anomaly():
        assert cr.is_anomaly_enabled()
        x.sqrt().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])
    assert not cr.is_anomaly_enabled()
    assert (engine._observers, engine._start_observers) == observers
    cr.autograd.set_detect_anomaly(True)
    cr.autograd.set_detect_anomaly(False)
    assert engine._observers == observers[0]
