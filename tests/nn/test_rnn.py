import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.ops import recurrent as R
from tests.opcheck import OpCase, check_case

RECURRENT = (R.Recurrent,)
CELL = (R.RecurrentCell,)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# -- independent references: one step each, PyTorch's documented equations ----------------------
def lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = np.split(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return sigmoid(o) * np.tanh(c), c


def gru_step(x, h, w_ih, w_hh, b_ih, b_hh):
    xr, xz, xn = np.split(x @ w_ih.T + b_ih, 3, axis=-1)
    hr, hz, hn = np.split(h @ w_hh.T + b_hh, 3, axis=-1)
    r, z = sigmoid(xr + hr), sigmoid(xz + hz)
    n = np.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, relu=False):
    pre = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return np.maximum(pre, 0) if relu else np.tanh(pre)


def sequence_reference(mode, x, h0, c0, weights, num_layers, bidirectional):
    """Time-major multi-layer reference built from the single steps, looping in Python."""
    directions = 2 if bidirectional else 1
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            w_ih, w_hh, b_ih, b_hh = weights[4 * k:4 * k + 4]
            h, c = h0[k], (c0[k] if c0 is not None else None)
            out = [None] * x.shape[0]
            for t in (reversed(range(x.shape[0])) if d else range(x.shape[0])):
                if mode == "LSTM":
                    h, c = lstm_step(x[t], h, c, w_ih, w_hh, b_ih, b_hh)
                elif mode == "GRU":
                    h = gru_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
                else:
                    h = rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh, relu=mode == "RNN_RELU")
                out[t] = h
            outs.append(np.stack(out))
            h_n.append(h)
            c_n.append(c)
        x = np.concatenate(outs, axis=-1)
    if mode == "LSTM":
        return x, np.stack(h_n), np.stack(c_n)
    return x, np.stack(h_n)


def weight_shapes(mode, input_size, hidden, num_layers, bidirectional):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1) * hidden
    directions = 2 if bidirectional else 1
    shapes = []
    for layer in range(num_layers):
        size = input_size if layer == 0 else hidden * directions
        shapes += [(gates, size), (gates, hidden), (gates,), (gates,)] * directions
    return shapes


def sequence_case(name, mode, steps=3, batch=2, input_size=3, hidden=2, num_layers=1,
                  bidirectional=False):
    directions = 2 if bidirectional else 1
    state = (num_layers * directions, batch, hidden)
    shapes = [(steps, batch, input_size), state] + ([state] if mode == "LSTM" else [])
    shapes += weight_shapes(mode, input_size, hidden, num_layers, bidirectional)
    n_states = 2 if mode == "LSTM" else 1
    function = {"LSTM": R.lstm, "GRU": R.gru, "RNN_TANH": R.rnn_tanh, "RNN_RELU": R.rnn_relu}

    def op(x, *rest):
        states, weights = rest[:n_states], list(rest[n_states:])
        hx = tuple(states) if mode == "LSTM" else states[0]
        return function[mode](x, hx, weights, True, num_layers, 0.0, True, bidirectional, False)

    def reference(x, *rest):
        states, weights = rest[:n_states], rest[n_states:]
        c0 = states[1] if mode == "LSTM" else None
        return sequence_reference(mode, x, states[0], c0, weights, num_layers, bidirectional)

    return OpCase(name, op, reference, shapes, RECURRENT, domain="unit",
                  gradgrad=NO_DOUBLE_BACKWARD)


# The documented exception of the op table's gradgrad column: BPTT runs on arrays (see
# chainrule/ops/recurrent.py's NOTE), so differentiating it again raises a clear error
# (test_double_backward_through_a_recurrent_layer_raises_clearly) instead of being wrong.
NO_DOUBLE_BACKWARD = "recurrent backward runs on arrays; RecurrentGrad refuses a second pass"


def _numeric_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / (2 * eps)
    return grad


def _gradient_with_create_graph(x, h0, w_ih, w_hh, b_ih, b_hh):
    """d sum(output) / dx through the RecurrentGrad node that create_graph=True makes."""
    x = x.detach().requires_grad_()
    output, _ = R.rnn_tanh(x, h0, [w_ih, w_hh, b_ih, b_hh], True, 1, 0.0, True, False, False)
    (grad,) = cr.autograd.grad(output.sum(), [x], create_graph=True)
    return grad


def _gradient_reference(x, h0, w_ih, w_hh, b_ih, b_hh):
    weights = [w_ih, w_hh, b_ih, b_hh]
    return _numeric_gradient(
        lambda y: sequence_reference("RNN_TANH", y, h0, None, weights, 1, False)[0].sum(), x)


CASES = [
    OpCase("rnn_gradient_under_create_graph", _gradient_with_create_graph, _gradient_reference,
           [(3, 2, 2), (1, 2, 2), (2, 2), (2, 2), (2,), (2,)], (R.RecurrentGrad,),
           domain="unit", grad=False),
    sequence_case("lstm_bptt", "LSTM", steps=4),
    sequence_case("lstm_two_layers_bidirectional", "LSTM", num_layers=2, bidirectional=True),
    sequence_case("gru", "GRU", steps=4),
    sequence_case("gru_two_layers_bidirectional", "GRU", num_layers=2, bidirectional=True),
    sequence_case("rnn_tanh_bidirectional", "RNN_TANH", bidirectional=True),
    sequence_case("rnn_relu_two_layers", "RNN_RELU", num_layers=2),
    OpCase("lstm_cell",
           lambda x, h, c, *w: R.lstm_cell(x, (h, c), *w),
           lstm_step, [(2, 3), (2, 2), (2, 2), (8, 3), (8, 2), (8,), (8,)], CELL,
           domain="unit", gradgrad=NO_DOUBLE_BACKWARD),
    OpCase("gru_cell", R.gru_cell, gru_step, [(2, 3), (2, 2), (6, 3), (6, 2), (6,), (6,)],
           CELL, domain="unit", gradgrad=NO_DOUBLE_BACKWARD),
    OpCase("rnn_tanh_cell", R.rnn_tanh_cell, rnn_step,
           [(2, 3), (2, 2), (2, 3), (2, 2), (2,), (2,)], CELL, domain="unit",
           gradgrad=NO_DOUBLE_BACKWARD),
    OpCase("rnn_relu_cell", R.rnn_relu_cell, lambda *a: rnn_step(*a, relu=True),
           [(2, 3), (2, 2), (2, 3), (2, 2), (2,), (2,)], CELL, domain="unit",
           gradgrad=NO_DOUBLE_BACKWARD),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_recurrent_op(case):
    check_case(case)


def test_lstm_layer_without_bias_and_batch_first_matches_the_reference():
    cr.manual_seed(0)
    lstm = cr.nn.LSTM(3, 4, bias=False, batch_first=True).double()
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    output, (h_n, c_n) = lstm(cr.from_numpy(x))
    w_ih, w_hh = (p.detach().numpy() for p in lstm.parameters())
    zeros = np.zeros(16)
    want = sequence_reference("LSTM", x.transpose(1, 0, 2), np.zeros((1, 2, 4)),
                              np.zeros((1, 2, 4)), [w_ih, w_hh, zeros, zeros], 1, False)
    np.testing.assert_allclose(output.detach().numpy(), want[0].transpose(1, 0, 2), atol=1e-12)
    np.testing.assert_allclose(h_n.detach().numpy(), want[1], atol=1e-12)
    np.testing.assert_allclose(c_n.detach().numpy(), want[2], atol=1e-12)


@pytest.mark.parametrize("cls", [cr.nn.RNN, cr.nn.LSTM, cr.nn.GRU])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_recurrent_layer_shapes(cls, num_layers, bidirectional, batch_first):
    layer = cls(3, 5, num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    directions = 2 if bidirectional else 1
    x = cr.randn(4, 7, 3) if batch_first else cr.randn(7, 4, 3)
    output, state = layer(x)
    assert tuple(output.shape) == ((4, 7, 5 * directions) if batch_first else (7, 4, 10 if
                                   bidirectional else 5))
    states = state if cls is cr.nn.LSTM else (state,)
    for s in states:
        assert tuple(s.shape) == (num_layers * directions, 4, 5) and s.dtype == cr.float32
    unbatched_out, unbatched_state = layer(cr.randn(7, 3))
    assert tuple(unbatched_out.shape) == (7, 5 * directions)
    first = unbatched_state[0] if cls is cr.nn.LSTM else unbatched_state
    assert tuple(first.shape) == (num_layers * directions, 5)


def test_parameter_names_shapes_and_init_follow_pytorch():
    gru = cr.nn.GRU(3, 4, num_layers=2, bidirectional=True)
    names = [name for name, _ in gru.named_parameters()]
    assert names[:8] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                         "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                         "bias_hh_l0_reverse"]
    assert len(names) == 16 and tuple(gru.weight_ih_l1.shape) == (12, 8)
    for p in gru.parameters():
        assert np.abs(p.detach().numpy()).max() <= 0.5  # uniform(+-1/sqrt(hidden_size))
    cell = cr.nn.LSTMCell(3, 4, bias=False)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh"]
    assert tuple(cell.weight_ih.shape) == (16, 3)


def test_given_initial_state_is_used_and_gets_a_gradient():
    lstm = cr.nn.LSTM(2, 3)
    x = cr.randn(4, 1, 2)
    h0 = cr.randn(1, 1, 3, requires_grad=True)
    c0 = cr.randn(1, 1, 3, requires_grad=True)
    out_given, _ = lstm(x, (h0, c0))
    out_zero, _ = lstm(x)
    assert not np.allclose(out_given.detach().numpy(), out_zero.detach().numpy())
    out_given.sum().backward()
    assert h0.grad is not None and c0.grad is not None and np.abs(c0.grad.numpy()).sum() > 0


def test_lstm_layer_bptt_matches_finite_differences():
    cr.manual_seed(1)
    lstm = cr.nn.LSTM(2, 3, num_layers=2).double()
    x = cr.randn(4, 2, 2, dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda x, w: lstm(x)[0].sum() + lstm(x)[1][1].pow(2).sum() * w,
                     (x, cr.ones((), dtype=cr.float64, requires_grad=True)))
    params = list(lstm.parameters())
    loss = lstm(x)[0].pow(2).sum()
    grads = cr.autograd.grad(loss, params)
    eps = 1e-6
    for p, g in zip(params, grads):  # central differences, a few entries per weight
        flat = p.detach().numpy().reshape(-1)
        for index in (0, flat.size // 2, flat.size - 1):
            original = flat[index]
            flat[index] = original + eps
            plus = lstm(x)[0].pow(2).sum().item()
            flat[index] = original - eps
            minus = lstm(x)[0].pow(2).sum().item()
            flat[index] = original
            assert abs((plus - minus) / (2 * eps) - g.numpy().reshape(-1)[index]) < 1e-6


def test_truncated_bptt_by_detaching_the_state():
    lstm = cr.nn.LSTM(2, 3)
    first = cr.randn(3, 1, 2, requires_grad=True)
    _, (h, c) = lstm(first)
    out, _ = lstm(cr.randn(3, 1, 2), (h.detach(), c.detach()))
    out.sum().backward()
    assert first.grad is None and lstm.weight_hh_l0.grad is not None


def test_dropout_between_layers_only_in_training():
    cr.manual_seed(0)
    layer = cr.nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = cr.randn(5, 2, 3)
    layer.eval()
    a, b = layer(x)[0].detach().numpy(), layer(x)[0].detach().numpy()
    np.testing.assert_array_equal(a, b)
    layer.train()
    c, d = layer(x)[0].detach().numpy(), layer(x)[0].detach().numpy()
    assert not np.allclose(c, d) and not np.allclose(a, c)


def test_cells_match_their_sequence_layers_on_one_step():
    lstm = cr.nn.LSTM(3, 4)
    cell = cr.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = cr.randn(1, 2, 3)
    out, (h, c) = lstm(x)
    h1, c1 = cell(x[0])
    np.testing.assert_allclose(h1.detach().numpy(), h[0].detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(c1.detach().numpy(), c[0].detach().numpy(), rtol=1e-6)
    h_unbatched = cr.nn.GRUCell(3, 4)(cr.randn(3))
    assert tuple(h_unbatched.shape) == (4,)
    assert tuple(cr.nn.RNNCell(3, 4, nonlinearity="relu")(cr.randn(5, 3)).shape) == (5, 4)


def test_double_backward_through_a_recurrent_layer_raises_clearly():
    rnn = cr.nn.RNN(2, 2)
    x = cr.randn(3, 1, 2, requires_grad=True)
    (g,) = cr.autograd.grad(rnn(x)[0].sum(), [x], create_graph=True)
    assert isinstance(g.grad_fn, R.RecurrentGrad)
    with pytest.raises(RuntimeError, match="double backward through a recurrent layer"):
        g.sum().backward()


@pytest.mark.parametrize("call, message", [
    (lambda: cr.nn.LSTM(3, 4)(cr.randn(5, 2, 2)), "input_size"),
    (lambda: cr.nn.GRU(3, 4)(cr.randn(5, 2, 3), cr.zeros(1, 3, 4)), "expected hx size"),
    (lambda: cr.nn.RNN(3, 4, nonlinearity="gelu"), "nonlinearity"),
    (lambda: cr.nn.LSTM(3, 4)(cr.randn(5, 2, 3).double()), "dtype"),
    (lambda: cr.nn.LSTM(3, 4, dropout=1.5), "dropout"),
])
def test_recurrent_errors_name_the_problem(call, message):
    with pytest.raises((RuntimeError, ValueError), match=message):
        call()


def test_repr():
    assert repr(cr.nn.LSTM(10, 20, num_layers=2, batch_first=True)) == (
        "LSTM(10, 20, num_layers=2, batch_first=True)")
    assert repr(cr.nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_flatten_parameters_changes_nothing():
    lstm = cr.nn.LSTM(3, 4, num_layers=2)
    before = {k: v.numpy().copy() for k, v in lstm.state_dict().items()}
    x = cr.randn(5, 2, 3)
    out = lstm(x)[0].detach().numpy()
    assert lstm.flatten_parameters() is None
    assert all(np.array_equal(before[k], v.numpy()) for k, v in lstm.state_dict().items())
    np.testing.assert_array_equal(lstm(x)[0].detach().numpy(), out)
