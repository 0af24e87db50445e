"""`chainrule train/eval/sample` end to end, in-process, on small settings."""

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.cli import main
from chainrule.train.checkpoint import step_checkpoints

QUICK = ["--epochs", "2", "--checkpoint-every", "10", "--log-every", "5", "--quiet"]


def train(tmp_path, *flags, name="run"):
    status = main(["train", "--out", str(tmp_path), "--name", name, *QUICK, *flags])
    return status, tmp_path / name


def test_default_run_writes_config_metrics_checkpoints_and_report(tmp_path, capsys):
    status, run = train(tmp_path)
    assert status == 0
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "test loss" in out
    assert (run / "config.toml").read_text().startswith("model = \"mlp\"")
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    kinds = {r["kind"] for r in records}
    assert kinds == {"step", "epoch", "test"}
    step = next(r for r in records if r["kind"] == "step")
    assert {"step", "epoch", "loss", "lr", "grad_norm", "samples_per_s", "time"} <= set(step)
    epochs = [r for r in records if r["kind"] == "epoch"]
    assert [r["epoch"] for r in epochs] == [1, 2]
    assert epochs[1]["val_accuracy"] > 0.8  # two epochs already learn the digits
    assert (run / "checkpoints" / "best.safetensors").exists()
    assert len(step_checkpoints(type("R", (), {"checkpoints": run / "checkpoints"}))) == 2
    assert "Test metrics" in (run / "report.md").read_text()


def test_same_seed_gives_bit_identical_weights_and_losses(tmp_path):
    train(tmp_path, name="a")
    train(tmp_path, name="b")

    def final(run):
        checkpoint = sorted((tmp_path / run / "checkpoints").glob("step-*"))[-1]
        return cr.load(checkpoint)

    a, b = final("a"), final("b")
    for key in a["model"]:
        np.testing.assert_array_equal(a["model"][key].numpy(), b["model"][key].numpy())
    losses = [[r.get("loss") for r in map(json.loads, (tmp_path / run / "metrics.jsonl")
                                          .read_text().splitlines())] for run in ("a", "b")]
    assert losses[0] == losses[1]


def test_config_file_then_flags(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text('optimizer = "sgd"\nlr = 0.05\nhidden-size = 32\nepochs = 1\n')
    status, run = train(tmp_path, "--config", str(config), "--lr", "0.02")
    assert status == 0
    text = (run / "config.toml").read_text()
    assert 'optimizer = "sgd"' in text and "lr = 0.02" in text and "hidden_size = 32" in text


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--model", "resnet"], "unknown model 'resnet'"),
        (["--data", "imagenet"], "unknown data 'imagenet'"),
        (["--data", "mnist"], "needs --data-path"),
        (["--data", "mnist", "--data-path", "/nonexistent/mnist"], "mnist"),
        (["--model", "lstm"], "needs text data"),
        (["--config", "/nonexistent.toml"], "does not exist"),
        (["--lr", "-1"], "lr must be positive"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(tmp_path, capsys, flags, message):
    status, _ = train(tmp_path, *flags)
    assert status == 2
    assert message in capsys.readouterr().err


def test_invalid_toml_is_named(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text("lr = = 3\n")
    status, _ = train(tmp_path, "--config", str(config))
    assert status == 2 and "not valid TOML" in capsys.readouterr().err


def test_full_disk_on_checkpoint_stops_with_exit_4_and_keeps_earlier_files(tmp_path, capsys,
                                                                           monkeypatch):
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync_then_full(fd):
        calls["n"] += 1
        if calls["n"] > 6:  # config and the first checkpoints succeed, then the disk is full
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_then_full)
    status, run = train(tmp_path, "--checkpoint-every", "3")
    assert status == 4
    assert "No space left on device" in capsys.readouterr().err
    saved = sorted((run / "checkpoints").glob("step-*.safetensors"))
    assert saved and all(cr.load(p)["format_version"] == 1 for p in saved)
    assert not list((run / "checkpoints").glob(".*tmp"))


def test_eval_prints_test_metrics_of_a_run(tmp_path, capsys):
    _, run = train(tmp_path)
    capsys.readouterr()
    assert main(["eval", str(run)]) == 0
    out = capsys.readouterr().out
    assert "test loss" in out and "accuracy" in out


def test_sample_generates_text_from_a_language_model(tmp_path, capsys):
    status, run = train(tmp_path, "--model", "lstm", "--data", "text", "--steps-per-epoch", "3",
                        "--hidden-size", "16", "--block-size", "8", "--epochs", "1")
    assert status == 0
    capsys.readouterr()
    assert main(["sample", str(run), "--prompt", "KING", "--length", "40"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("KING") and len(text.strip()) >= 40


def test_eval_of_a_missing_run_is_a_clear_error(tmp_path, capsys):
    assert main(["eval", str(tmp_path / "nope")]) == 2
    assert "neither a run directory nor a checkpoint" in capsys.readouterr().err


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "train" in out and "eval" in out and "sample" in out


def test_a_loss_that_turns_non_finite_stops_with_exit_3_naming_the_step(tmp_path, capsys):
    status, run = train(tmp_path, "--optimizer", "sgd", "--lr", "1e5", "--grad-clip", "0",
                        "--momentum", "0", "--schedule", "constant")
    assert status == 3
    captured = capsys.readouterr()
    assert "the loss became inf at step 3" in captured.err and "diagnose" in captured.err
    assert "[exploding]" in captured.out  # the diagnostics saw it coming a step earlier
    assert "RuntimeWarning" not in captured.err


def test_labels_outside_the_class_range_are_refused():
    from chainrule.train.tasks import ImageClassification

    images = np.zeros((4, 1, 2, 2), np.float32)
    with pytest.raises(ValueError, match=r"labels must be in 0..9.*12"):
        ImageClassification("bad", (images, np.array([0, 1, 12, 3])), (images, np.zeros(4, int)),
                            num_classes=10)


def test_tensorboard_logging_writes_event_files(tmp_path):
    status, run = train(tmp_path, "--tensorboard", "--epochs", "1")
    assert status == 0
    events = list((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and b"epoch/val_loss" in events[0].read_bytes()


def test_tensorboard_without_its_library_says_how_to_install(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    status, _ = train(tmp_path, "--tensorboard")
    assert status == 2 and "chainrule[tensorboard]" in capsys.readouterr().err
