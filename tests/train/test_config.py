"""Settings: every bad flag or config value is refused before anything starts (exit 2, a message
naming the setting, no run directory left behind); the preset defaults have one home and are
resolved once; --resume refuses flags that would change the run."""

import sys
from types import SimpleNamespace

import pytest

from chainrule.cli import build_config, main, make_parser
from chainrule.train.config import Config
from chainrule.train.presets import DATA_DEFAULTS, PRESETS, build_model, parameter_count

from .runs import TINY, without_plots


@pytest.fixture(autouse=True, scope="module")
def _no_plots():
    with without_plots():
        yield


# own data whose files are never read: the settings are refused first
SERIES = ["--data", "series", "--data-path", "absent.csv", "--target", "y"]
IMAGES = ["--data", "images", "--data-path", "absent"]
FLAGS = [
    (["--hidden-size", "-1"], "hidden_size must be at least 1, got -1"),
    (["--model", "lstm", "--data", "text", "--block-size", "-4"], "block_size must be at least 1"),
    (["--model", "gpt", "--data", "text", "--num-heads", "3"], "num_heads (3) must divide"),
    (["--lr", "inf"], "lr must be a finite number, got inf"),
    (["--grad-clip", "nan"], "grad_clip must be a finite number, got nan"),
    (["--grad-clip", "-1"], "grad_clip must be positive"),
    (["--patience", "0"], "patience must be at least 1, got 0"),
    (["--steps-per-epoch", "0"], "steps_per_epoch must be at least 1, got 0"),
    (["--epochs", "0"], "epochs must be at least 1"),
    (["--batch-size", "-8"], "batch_size must be at least 1"),
    (["--num-layers", "0"], "num_layers must be at least 1"),
    (["--seed", "-1"], "seed must be at least 0"),
    (["--momentum", "-0.5"], "momentum must not be negative"),
    (["--weight-decay", "nan"], "weight_decay must be a finite number"),
    (["--dropout", "1"], "dropout must be in [0, 1)"),
    (["--label-smoothing", "-0.1"], "label_smoothing must be in [0, 1)"),
    (["--warmup-steps", "-1"], "warmup_steps must be at least 0"),
    (["--keep-last", "0"], "keep_last must be at least 1"),
    (["--name", "../escaped"], "name must be a plain directory name"),
    (["--name", "a/b"], "name must be a plain directory name"),
    (["--name", ".."], "name must be a plain directory name"),
    (["--optimizer", "lion"], "unknown optimizer 'lion'"),
    (["--hidden-size", "100000", "--num-layers", "8"], "more than this machine's"),
    (["--model", "lstm", "--data", "text", "--steps-per-epoch", "1000000000000"],
     "an epoch's windows would take"),
    (["--batch-size", "1000000000000"], "a batch's activations would take"),
    (["--schedule", "onecycle", "--warmup-steps", "5"], "onecycle has its own warm-up"),
    # own-data settings: checked for every data kind, whether they apply to it or not
    (["--horizon", "-3"], "--horizon applies to --data series, not --data digits"),
    (["--horizon", "2", "--data", "text", "--model", "lstm"], "--horizon applies to --data series"),
    (["--window", "4"], "--window applies to --data series"),
    (["--image-size", "16", "--data", "cifar10", "--data-path", "x"], "--image-size applies to"),
    (SERIES + ["--horizon", "0"], "--horizon must be at least 1, got 0"),
    (SERIES + ["--window", "0"], "--window must be at least 1, got 0"),
    (SERIES + ["--season", "1"], "--season must be at least 2, got 1"),
    (IMAGES + ["--image-size", "3"], "--image-size sides must be from 4 to 4096 pixels, got '3'"),
    (IMAGES + ["--image-size", "32x100000"], "sides must be from 4 to 4096 pixels, got '32x10"),
    (IMAGES + ["--image-size", "32 by 48"], "HEIGHTxWIDTH (48x64), got '32 by 48'"),
    (["--categorical", "a", "--data", "images", "--data-path", "x"],
     "--categorical applies to --data table, not --data images"),
    (IMAGES + ["--numeric", "a"], "--numeric applies to --data table or series, not"),
    (["--data", "table", "--data-path", "x", "--target", "y", "--skip-bad-files"],
     "--skip-bad-files applies to --data images, not --data table"),
]


@pytest.mark.parametrize("flags, message", FLAGS, ids=[" ".join(f) for f, _ in FLAGS])
def test_a_bad_flag_exits_2_with_a_message_and_leaves_no_run_directory(tmp_path, capsys, flags,
                                                                         message):
    out = tmp_path / "out"
    assert main(["train", "--out", str(out), "--name", "run", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not out.exists() or not any(out.iterdir())
    assert not (tmp_path / "escaped").exists()


TOML = [
    ('diagnose = "no"\n', "diagnose must be true or false, got 'no' (str)"),
    ('hidden-size = "big"\n', "hidden_size must be an integer, got 'big' (str)"),
    ("epochs = 2.5\n", "epochs must be an integer, got 2.5 (float)"),
    ('lr = "0.1"\n', "lr must be a number, got '0.1' (str)"),
    ("batch_size = true\n", "batch_size must be an integer, got True (bool)"),
    ("model = [1, 2]\n", "model must be a string, got [1, 2] (list)"),
    ("seed = 1979-05-27\n", "seed must be an integer, got datetime.date(1979, 5, 27)"),
    ("[section]\nlr = 0.1\n", "unknown setting(s) section"),
    ("lr = 0\n", "lr must be positive"),
    ('data = "series"\ndata_path = "s.csv"\ntarget = "y"\nhorizon = 0\n',
     "--horizon must be at least 1"),
]


@pytest.mark.parametrize("text, message", TOML, ids=[t for t, _ in TOML])
def test_a_bad_config_file_value_exits_2_naming_the_setting(tmp_path, capsys, text, message):
    config = tmp_path / "settings.toml"
    config.write_text(text)
    out = tmp_path / "out"
    assert main(["train", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert f"config file {config}: " in err, err
    assert not out.exists() or not any(out.iterdir())


def test_a_flag_that_replaces_a_bad_file_value_is_used_and_errors_name_their_source(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("lr = -1.0\nepochs = 3\n")
    args = make_parser().parse_args(["train", "--config", str(config), "--lr", "0.5"])
    assert build_config(args).lr == 0.5
    args = make_parser().parse_args(["train", "--config", str(config), "--epochs", "0"])
    with pytest.raises(ValueError, match="^epochs must be at least 1"):
        build_config(args)  # the flag's value is at fault, not the file's


def test_integers_are_accepted_where_numbers_are_expected():
    config = Config(lr=1, grad_clip=0).validate()
    assert config.lr == 1.0 and isinstance(config.lr, float)
    assert config.grad_clip is None  # 0 turns clipping off, in a file as on the command line


def test_a_start_that_fails_after_creating_the_run_directory_removes_it(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY, "--tensorboard"]) == 2
    assert "chainrule[tensorboard]" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_at_the_first_checkpoint_exits_4_and_leaves_no_run_directory(
        tmp_path, capsys, monkeypatch):
    import os

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY]) == 4
    assert "No space left on device" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_resume_refuses_flags_that_would_change_the_run(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), "--epochs", "50", "--lr", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--epochs, --lr would change it" in err and "start a new run" in err


DATA_OF = {"lstm": ["--data", "text"], "gpt": ["--data", "text"],
           "tabular": ["--data", "table", "--data-path", "t.csv", "--target", "y"]}


@pytest.mark.parametrize("model", sorted(PRESETS))
def test_settings_left_out_take_the_preset_defaults_once_resolved(model):
    flags = ["train", "--model", model, *DATA_OF.get(model, []), "--lr", "0.5"]
    config = build_config(make_parser().parse_args(flags))
    for field, value in PRESETS[model].items():
        assert getattr(config, field) == (0.5 if field == "lr" else value), field


@pytest.mark.parametrize("model, data", sorted(DATA_DEFAULTS))
def test_a_data_kind_replaces_the_preset_sizes_and_keeps_the_rest_of_its_recipe(model, data):
    flags = ["train", "--model", model, "--data", data, "--data-path", "s.csv", "--target", "y"]
    config = build_config(make_parser().parse_args(flags))
    for field, value in DATA_DEFAULTS[model, data].items():
        assert getattr(config, field) == value, field
    assert config.epochs == PRESETS[model]["epochs"] and config.block_size is None


def test_the_run_directory_config_holds_the_resolved_settings(tmp_path):
    assert main(["train", "--out", str(tmp_path), "--name", "run", *TINY, "--epochs", "1"]) == 0
    text = (tmp_path / "run" / "config.toml").read_text()
    for line in ("num_layers = 2", "dropout = 0.2", 'optimizer = "adamw"', "lr = 0.003",
                 "weight_decay = 0.1", "label_smoothing = 0.1", "hidden_size = 16"):
        assert line in text


@pytest.mark.parametrize("model, sizes, task", [
    ("mlp", {"hidden_size": 7, "num_layers": 3}, {"input_shape": (1, 8, 8), "num_classes": 10}),
    ("mlp", {"hidden_size": 1, "num_layers": 1}, {"input_shape": (5,), "num_classes": 2}),
    ("cnn", {"hidden_size": 9}, {"input_shape": (3, 9, 7), "num_classes": 4}),
    ("lstm", {"hidden_size": 5, "num_layers": 2, "block_size": 4}, {"vocab_size": 11}),
    ("gpt", {"hidden_size": 8, "num_layers": 3, "num_heads": 2, "block_size": 6},
     {"vocab_size": 13}),
])
def test_parameter_count_is_that_of_the_built_model(model, sizes, task):
    data = "text" if model in ("lstm", "gpt") else "digits"
    config = Config(model=model, data=data, dropout=0.0, **sizes).validate()
    task = SimpleNamespace(**task)
    built = build_model(config, task)
    assert parameter_count(config, task) == sum(p.numel() for p in built.parameters())
