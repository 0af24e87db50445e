"""The unwalked sweep (engine._Sweep): until a leaf of the process is given a hook, backward
finds its nodes as gradients reach them instead of walking the graph first, and delivers each
leaf's gradient without counting the edges into it. Each graph here is run both ways and the
gradients must be the same bits; the walk must be taken where something needs the count."""

import numpy as np
import pytest

import chainrule
from chainrule.autograd import engine, leaves


@pytest.fixture
def walks(monkeypatch):
    """The calls of the graph walk during a test, with no leaf hook seen yet."""
    calls = []
    walk = engine.topological_order

    def counting(roots, leaf_uses):
        calls.append(roots)
        return walk(roots, leaf_uses)

    monkeypatch.setattr(engine, "topological_order", counting)
    monkeypatch.setattr(leaves, "hooked_leaves_seen", False)
    return calls


def _leaf(*shape, seed=0):
    values = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return chainrule.from_numpy(values).requires_grad_()


def _shared_weight(x, w, b):
    """A weight used three times, a diamond, and a gradient passed on unchanged (Add gives
    the same array to both inputs) to a leaf that receives another later."""
    h = (x @ w).tanh()
    h = h @ w + h * b
    return ((h @ w).sigmoid() + x).sum() + (b * 3.0).sum() + b.sum()


GRAPHS = {
    "shared weight": (lambda: (_leaf(4, 5), _leaf(5, 5, seed=1), _leaf(5, seed=2)),
                      _shared_weight),
    "chain": (lambda: (_leaf(8, 16), _leaf(16, 16, seed=1)),
              lambda x, w: ((x @ w).tanh() @ w.t()).pow(2).mean()),
    "several outputs": (lambda: (_leaf(6, 4),),
                        lambda x: sum((part * (i + 1.0)).sum()
                                      for i, part in enumerate(x.split(2)))),
}


def _gradients(make, build, monkeypatch, counted, backwards=1):
    monkeypatch.setattr(leaves, "hooked_leaves_seen", counted)
    inputs = make()
    for _ in range(backwards):
        build(*inputs).backward()
    return [t.grad.numpy().copy() for t in inputs]


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("backwards", [1, 3])  # 3: .grad accumulated from earlier passes
def test_unwalked_gradients_are_the_counted_ones(name, backwards, monkeypatch, walks):
    make, build = GRAPHS[name]
    unwalked = _gradients(make, build, monkeypatch, False, backwards)
    assert walks == []
    counted = _gradients(make, build, monkeypatch, True, backwards)
    assert len(walks) == backwards
    for got, want in zip(unwalked, counted):
        np.testing.assert_array_equal(got, want)


def test_a_gradient_passed_on_is_not_written_by_a_later_sum(walks):
    x = _leaf(3)
    n = x.exp()  # made first: runs last, with the gradient Add gave x as well
    p = x * 5.0  # runs between Add and n's node, and sends x its second gradient
    total = ((x + n) * 1.0).sum() + p.sum()
    total.backward()
    expected = 1.0 + np.exp(x.detach().numpy()) + 5.0
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    assert walks == []


def test_a_leaf_among_the_outputs_gets_the_counted_sum(monkeypatch, walks):
    results = []
    for counted in (False, True):
        monkeypatch.setattr(leaves, "hooked_leaves_seen", counted)
        x = _leaf(5)
        y = (x * 1.5 + x.tanh()).sum() * x  # x twice below y, and x itself an output
        chainrule.autograd.backward([x, y], [chainrule.ones(5) * 0.1, chainrule.ones(5)])
        results.append(x.grad.numpy().copy())
    np.testing.assert_array_equal(results[0], results[1])


def test_hooks_inputs_and_create_graph_take_the_walk(walks):
    x = _leaf(4)
    (x * x).sum().backward(create_graph=True)
    assert len(walks) == 1
    chainrule.autograd.grad((x * x).sum(), [x])
    assert len(walks) == 2
    assert not leaves.hooked_leaves_seen
    x.register_post_accumulate_grad_hook(lambda t: None)
    assert leaves.hooked_leaves_seen
    (x * x).sum().backward()
    assert len(walks) == 3


def test_register_hook_on_a_leaf_turns_the_count_on(walks):
    x = _leaf(4)
    (x * 2.0).register_hook(lambda g: None)  # on a non-leaf: no leaf waits for a total
    assert not leaves.hooked_leaves_seen
    x.register_hook(lambda g: g * 2)
    assert leaves.hooked_leaves_seen


def test_a_hook_copied_onto_a_leaf_sees_its_total_once_at_the_end(walks):
    x = _leaf(3)
    seen = []
    x._hooks = [lambda g: seen.append(g.numpy().copy())]  # (as a copy of a hooked leaf has)
    (x * 2.0 + x * 3.0).sum().backward()
    assert walks == []
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], np.full(3, 5.0, np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 5.0, np.float32))


def test_a_leaf_observer_is_told_once_and_reads_the_total_after_the_sweep(walks):
    """An observer (the gradient diagnostics' tap) leaves the sweep unwalked and is told of
    each leaf once per sweep; by the sweep's end ``.grad`` holds the total, also when it adds
    to a gradient kept from an earlier backward."""
    w, b, x = _leaf(3, 3), _leaf(3, seed=1), _leaf(2, 3, seed=2)
    told = []
    handles = [leaves.LeafObserver(leaf, told.append) for leaf in (w, b)]
    ended = []
    remove = engine.add_backward_end_observer(
        lambda: ended.append((w.grad.numpy().copy(), b.grad.numpy().copy())))
    try:
        _shared_weight(x, w, b).backward()  # w used three times, b four
        assert walks == [] and not leaves.hooked_leaves_seen
        assert sorted(map(id, told)) == sorted([id(w), id(b)])
        first = ended[-1]
        told.clear()
        _shared_weight(x, w, b).backward()  # added to the kept gradients
        assert sorted(map(id, told)) == sorted([id(w), id(b)])
    finally:
        remove()
        for handle in handles:
            handle.remove()
    np.testing.assert_array_equal(ended[-1][0], w.grad.numpy())
    np.testing.assert_allclose(ended[-1][0], 2 * first[0], rtol=1e-6)
    np.testing.assert_allclose(ended[-1][1], 2 * first[1], rtol=1e-6)
    w.grad, b.grad = None, None  # the same total without observers
    _shared_weight(x, w, b).backward()
    np.testing.assert_array_equal(first[0], w.grad.numpy())
    np.testing.assert_array_equal(first[1], b.grad.numpy())
