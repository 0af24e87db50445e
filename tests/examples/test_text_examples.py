"""The language-model examples, shortened: the loss must fall from the uniform guess
(ln 67 = 4.2 nats) below the unigram entropy (3.36 nats), and sampling must give text."""

import math


def check_learned(result):
    assert math.isclose(result["unigram_entropy"], 3.358, abs_tol=1e-3)
    # an untrained model does no better than a uniform guess over the 67 characters
    assert result["initial_loss"] > math.log(67) - 0.2
    assert result["val_loss"] < result["initial_loss"] - 1.0
    assert result["val_loss"] < result["unigram_entropy"]
    assert result["sample"].startswith("MACBETH.\n")
    assert len(result["sample"]) == len("MACBETH.\n") + 40


def test_char_lstm_beats_unigram_entropy(example, capsys):
    result = example("char_lstm").main(
        ["--steps", "40", "--hidden-size", "128", "--eval-every", "20", "--sample-length", "40"])
    check_learned(result)
    out = capsys.readouterr().out
    assert "unigram entropy 3.358" in out and "--- sample ---" in out


def test_char_gpt_beats_unigram_entropy(example):
    result = example("char_gpt").main(
        ["--steps", "60", "--d-model", "64", "--eval-every", "20", "--sample-length", "40"])
    check_learned(result)
