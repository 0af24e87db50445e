"""The image examples, shortened: each must still learn well above chance (10%)."""


def test_mlp_learns_digits_in_five_epochs(example, capsys):
    result = example("mlp_digits").main(["--epochs", "5"])
    assert result["test_accuracy"] > 0.90
    assert "test accuracy" in capsys.readouterr().out


def test_cnn_learns_digits_in_two_epochs(example):
    result = example("cnn_digits").main(["--epochs", "2"])
    assert result["test_accuracy"] > 0.80


def test_residual_trains_where_deep_sigmoid_does_not(example):
    result = example("deep_sigmoid_vs_residual").main(["--epochs", "1"])
    plain, residual = result["plain_grad_norms"], result["residual_grad_norms"]
    assert len(plain) == len(residual) == 30
    # vanishing: the first layer of the plain stack gets (almost) nothing of the last one's
    # gradient; through the residual path every layer gets a gradient of the same order
    assert plain[0] < 1e-6 * plain[-1]
    assert min(residual) > 0.1 * max(residual[1:-1])
    assert result["plain_accuracy"] < 0.25
    assert result["residual_accuracy"] > 0.7
