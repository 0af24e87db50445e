"""Grad mode: no_grad, enable_grad, set_grad_enabled, inference_mode; context managers,
decorators, nesting, exceptions and thread-locality."""

import threading

import pytest

import chainrule as cr


def records(x):
    return (x * 2).requires_grad


@pytest.fixture
def x():
    return cr.tensor([1.0, 2.0], requires_grad=True)


def test_no_grad_and_enable_grad_as_context_managers(x):
    assert records(x)
    with cr.no_grad():
        assert not cr.is_grad_enabled() and not records(x)
        with cr.enable_grad():
            assert cr.is_grad_enabled() and records(x)
        assert not records(x)
    assert cr.is_grad_enabled() and records(x)


def test_modes_are_restored_after_an_exception(x):
    with pytest.raises(ValueError):
        with cr.no_grad():
            raise ValueError
    assert cr.is_grad_enabled()


# factories: set_grad_enabled(False) switches the mode as soon as it is called
@pytest.mark.parametrize("make", [cr.no_grad, lambda: cr.no_grad, cr.inference_mode,
                                  lambda: cr.inference_mode, lambda: cr.set_grad_enabled(False)])
def test_decorators_with_and_without_parentheses(x, make):
    @make()
    def f(t):
        return records(t)

    assert cr.is_grad_enabled()  # decorating switched nothing
    assert f(x) is False
    assert cr.is_grad_enabled()


def test_enable_grad_decorator_inside_no_grad(x):
    @cr.enable_grad()
    def f(t):
        return records(t)

    with cr.no_grad():
        assert f(x) is True
        assert not cr.is_grad_enabled()


def test_decorated_generator_keeps_the_mode_only_while_it_runs(x):
    @cr.no_grad()
    def gen():
        for _ in range(2):
            yield records(x)

    iterator = gen()
    assert next(iterator) is False
    assert cr.is_grad_enabled()  # the caller's mode between yields
    assert next(iterator) is False


def test_set_grad_enabled_as_function_and_context_manager(x):
    try:
        cr.set_grad_enabled(False)
        assert not records(x)
        cr.set_grad_enabled(True)
        assert records(x)
        with cr.set_grad_enabled(False):
            assert not records(x)
        assert records(x)
        with cr.no_grad():
            with cr.set_grad_enabled(True):
                assert records(x)
            assert not records(x)
    finally:
        cr.set_grad_enabled(True)


def test_inference_mode_false_records_even_inside_no_grad(x):
    # PyTorch 2.13's InferenceMode(false) guard sets grad mode on: inside no_grad() or an outer
    # inference_mode(), torch.is_grad_enabled() is True and is_inference_mode_enabled() False
    with cr.no_grad():
        with cr.inference_mode(False):
            assert records(x) and not cr.is_inference_mode_enabled()
        assert not records(x)
    with cr.inference_mode():
        with cr.inference_mode(False):
            assert records(x) and not cr.is_inference_mode_enabled()
        assert not records(x) and cr.is_inference_mode_enabled()
    with cr.inference_mode(False):
        assert records(x)
    with cr.inference_mode():
        assert not records(x)


def test_one_instance_can_be_entered_twice():
    ng = cr.no_grad()
    with ng:
        with ng:
            assert not cr.is_grad_enabled()
        assert not cr.is_grad_enabled()
    assert cr.is_grad_enabled()


def test_grad_mode_is_thread_local(x):
    seen = {}

    def worker():
        seen["start"] = cr.is_grad_enabled()
        seen["records"] = records(x)
        cr.set_grad_enabled(False)  # must not leak into the main thread
        seen["after"] = cr.is_grad_enabled()

    with cr.no_grad():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert not cr.is_grad_enabled()
    assert seen == {"start": True, "records": True, "after": False}
    assert cr.is_grad_enabled()


def test_backward_inside_no_grad_still_works(x):
    y = (x * x).sum()
    with cr.no_grad():
        y.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_tensors_made_in_inference_mode_are_inference_tensors():
    # PyTorch 2.13's answers for each line, recorded side by side
    x = cr.ones(2)
    with cr.inference_mode():
        product, zeros, constructed = x * 2, cr.zeros(3), cr.Tensor([1.0])
        with cr.inference_mode(False):
            recorded = x * 3
        with cr.no_grad():
            inner_no_grad = x * 4
        view_of_normal = x[0]
        x.add_(1)  # an in-place write leaves a normal tensor normal
    assert [t.is_inference() for t in (product, zeros, constructed, inner_no_grad)] == [True] * 4
    assert not x.is_inference() and not recorded.is_inference()
    assert not view_of_normal.is_inference()
    # views of an inference tensor stay inference tensors; new results outside are normal
    assert product.detach().is_inference() and product[0].is_inference()
    assert not (product + 1).is_inference() and not product.clone().is_inference()
    with cr.no_grad():
        assert not (x * 2).is_inference()


def test_inference_tensors_are_marked_per_thread(x):
    seen = {}

    def worker():
        seen["other thread"] = (x * 2).is_inference()

    with cr.inference_mode():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        seen["this thread"] = (x * 2).is_inference()
    assert seen == {"other thread": False, "this thread": True}
    assert not (x * 2).is_inference()  # the last block closed: creation is unmarked again


def test_inference_mode_decorating_a_generator_holds_in_its_body_only():
    x = cr.ones(2)

    @cr.inference_mode()
    def steps():
        yield cr.is_inference_mode_enabled(), cr.is_grad_enabled(), (x * 2).is_inference()
        yield cr.is_inference_mode_enabled(), (x * 3).is_inference()

    walk = steps()
    assert next(walk) == (True, False, True)  # PyTorch's answers
    assert not cr.is_inference_mode_enabled() and cr.is_grad_enabled()
    assert not (x * 2).is_inference()
    assert next(walk) == (True, True)
    assert list(walk) == []
