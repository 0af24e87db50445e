"""`chainrule diagnose` and `train` name the flag to change under each finding: the flag, its
value now, and the value to use (the preset's, or the optimizer's usual rate)."""

import types

from chainrule.cli import main
from chainrule.diagnostics.findings import Finding
from chainrule.train.flag_advice import FlagAdvice
from chainrule.train.presets import PRESETS

from .owndata_files import write_table


def diagnose(tmp_path, capsys, *flags, steps=8):
    data = write_table(tmp_path / "fraud.csv", rows=120)
    status = main(["diagnose", "--out", str(tmp_path / "runs"), "--data", "table",
                   "--data-path", str(data), "--target", "label", "--hidden-size", "16",
                   "--steps", str(steps), *flags])
    return status, capsys.readouterr().out


def advice_lines(out):
    return [line.strip() for line in out.splitlines()
            if line.strip().startswith("with the command's flags:")]


def test_an_explosion_from_a_rate_far_above_the_presets_names_the_presets_rate(tmp_path, capsys):
    status, out = diagnose(tmp_path, capsys, "--lr", "10")
    assert status == 1 and "[exploding]" in out
    preset = PRESETS["tabular"]["lr"]
    assert f"--lr 10 is 10,000x the tabular preset's {preset:g}: use --lr {preset:g}" \
        in advice_lines(out)[0]
    assert "--grad-clip" not in advice_lines(out)[0]  # clipping is on (1.0) already


def test_another_optimizer_is_told_its_own_usual_rate_not_the_presets(tmp_path, capsys):
    # the preset's 1e-3 was chosen for AdamW; SGD's usual rate is ten times that
    status, out = diagnose(tmp_path, capsys, "--optimizer", "sgd", "--lr", "5",
                           "--grad-clip", "0", steps=12)
    assert status == 1
    first = advice_lines(out)[0]
    assert "--lr 5 is 500x sgd's usual 0.01: use --lr 0.01" in first
    assert "--grad-clip 1.0" in first  # clipping was turned off


def test_a_weight_decay_that_stalls_the_layers_names_the_flag_and_the_presets(tmp_path, capsys):
    status, out = diagnose(tmp_path, capsys, "--weight-decay", "50")
    assert status == 1 and "[stalled]" in out
    decay = PRESETS["tabular"]["weight_decay"]
    # AdamW takes lr x decay of every weight per step: 1e-3 x 50 = 5%
    assert advice_lines(out) == [
        f"with the command's flags: --weight-decay 50 (x --lr 0.001: each step takes 5% of "
        f"every weight) is far above the tabular preset's {decay:g}: leave --weight-decay out "
        f"or use --weight-decay {decay:g}"]


def test_a_healthy_run_prints_no_advice(tmp_path, capsys):
    status, out = diagnose(tmp_path, capsys, steps=20)
    assert status == 0 and advice_lines(out) == []


def test_the_train_command_prints_the_advice_under_the_finding(tmp_path, capsys):
    data = write_table(tmp_path / "fraud.csv", rows=120)
    status = main(["train", "--out", str(tmp_path / "runs"), "--data", "table",
                   "--data-path", str(data), "--target", "label", "--epochs", "2",
                   "--hidden-size", "16", "--lr", "10"])
    lines = capsys.readouterr().out.splitlines()
    found = [i for i, line in enumerate(lines) if line.startswith("diagnostics: [exploding]")]
    assert status in (0, 3) and found
    assert lines[found[0] + 1] == ("diagnostics:   with the command's flags: --lr 10 is 10,000x "
                                   "the tabular preset's 0.001: use --lr 0.001")


def config(**settings):
    base = dict(model="cnn", data="images", optimizer="adam", lr=1e-3, weight_decay=0.0,
                grad_clip=1.0, warmup_steps=0, momentum=0.9, dropout=0.25, batch_size=32)
    return types.SimpleNamespace(**{**base, **settings})


def finding(remedy, rule="dead"):
    return Finding(rule, "3", 10, "...", remedy=remedy)


def test_a_setting_far_out_of_range_is_named_where_the_rate_is_the_presets():
    # a CNN at --dropout 0.99 lost half of a layer's units at step 160: the rate was not the cause
    line = FlagAdvice(config(dropout=0.99))(finding("dead"))
    assert "--dropout 0.99 keeps 0.01 of the units" in line and "--dropout 0.25" in line
    assert "--lr" not in line
    line = FlagAdvice(config(batch_size=1))(finding("dead"))
    assert "--batch-size 32 (the default), or a rate 32x lower: --lr 3.125e-05" in line


def test_units_lost_after_a_cause_was_named_get_no_second_advice():
    advice = FlagAdvice(config(weight_decay=50.0))
    assert "--weight-decay 50 is far above" in advice(finding("decaying", "stalled"))
    assert advice(finding("dead")) is None and advice(finding("vanishing", "vanishing")) is None
    # Adam adds the decay to the gradient before dividing by its size: no lr x decay figure
    assert "each step takes" not in advice.given[0]


def test_a_remedy_no_flag_reaches_gets_no_advice():
    assert FlagAdvice(config())(finding("saturation", "saturation")) is None
    assert FlagAdvice(config())(finding(None, "nonfinite")) is None


def test_a_dropout_that_keeps_almost_no_unit_is_noted_before_training(tmp_path, capsys):
    # the gradients of such a run are healthy, so no finding names it (breast-cancer table at
    # --dropout 0.99: test accuracy 0.63, the majority class's share; at 0.1, 0.99)
    status, out = diagnose(tmp_path, capsys, "--dropout", "0.99", steps=2)
    preset = PRESETS["tabular"]["dropout"]
    assert (f"note: --dropout 0.99 keeps 0.01 of the units at each step: the network can hardly "
            f"fit anything; the tabular preset's is {preset:g}") in out.splitlines()
    assert status == 0  # a note, not an alarm
    (tmp_path / "b").mkdir()
    _, out = diagnose(tmp_path / "b", capsys, "--dropout", "0.5", steps=2)
    assert "note: --dropout" not in out
