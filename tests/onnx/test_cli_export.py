"""``chainrule export RUN_DIR``: the run's best model as ONNX that gives the same logits."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import cli
from chainrule.train.commands import _restore

onnxruntime = pytest.importorskip("onnxruntime")

SMALL = ["--epochs", "1", "--quiet", "--no-diagnose", "--hidden-size", "8", "--num-layers", "1"]


@pytest.mark.parametrize("flags, batch", [
    (["--model", "mlp"], (3, 1, 8, 8)),
    (["--model", "gpt", "--data", "text", "--steps-per-epoch", "2", "--num-heads", "2",
      "--block-size", "8"], (3, 8)),
])
def test_exported_run_gives_the_runs_logits(tmp_path, flags, batch):
    assert cli.main(["train", *flags, *SMALL, "--out", str(tmp_path), "--name", "run"]) == 0
    run = tmp_path / "run"
    assert cli.main(["export", str(run), "--out", str(tmp_path / "m.onnx")]) == 0
    _, _, _, model = _restore(run)
    rng = np.random.default_rng(0)
    if len(batch) == 2:
        x = rng.integers(0, model.head.out_features, size=batch)
    else:
        x = rng.standard_normal(batch).astype(np.float32)
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"),
                                           providers=["CPUExecutionProvider"])
    shorter = np.ascontiguousarray(x[:, :5])  # text: the length is dynamic up to the block
    for inputs in ([x] if len(batch) > 2 else [x, shorter]):
        (logits,) = session.run(["output"], {"input": inputs})
        with cr.no_grad():
            expected = model(cr.from_numpy(inputs)).numpy()
        np.testing.assert_allclose(logits, expected, rtol=1e-5, atol=1e-5)


def test_export_of_a_missing_run_fails_cleanly(tmp_path, capsys):
    assert cli.main(["export", str(tmp_path / "nothing")]) == 2
    assert "export: error" in capsys.readouterr().err
