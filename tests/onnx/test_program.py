"""``torch.onnx.export(..., dynamo=True)`` as PyTorch 2.13's tutorials call it: an
``ONNXProgram`` that saves, runs in ONNX Runtime, and takes ``dynamic_shapes``."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3)
        self.fc = nn.Linear(3 * 4 * 4, 5)

    def forward(self, images):
        return self.fc(cr.flatten(cr.relu(self.conv(images)), 1))


class Dim:  # what torch.export.Dim("batch") gives: an object named by __name__
    __name__ = "batch"


def _model():
    cr.manual_seed(0)
    return Classifier().eval()


def test_dynamo_export_returns_a_program_that_saves_and_runs(tmp_path):
    model = _model()
    x = cr.randn(1, 1, 6, 6)
    program = cr.onnx.export(model, (x,), dynamo=True)
    assert type(program).__name__ == "ONNXProgram"
    program.optimize()
    program.save(tmp_path / "model.onnx")
    proto = onnx.load(tmp_path / "model.onnx")
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ["images"]   # the forward's argument name
    (ours,) = program(x)
    with cr.no_grad():
        np.testing.assert_allclose(ours.numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_dynamic_shapes_by_argument_name_with_names_or_dims(tmp_path):
    model = _model()
    for label in ("batch", Dim()):
        program = cr.onnx.export(model, (cr.randn(2, 1, 6, 6),), tmp_path / "m.onnx",
                                 dynamo=True, dynamic_shapes={"images": {0: label}})
        dims = onnx.load(tmp_path / "m.onnx").graph.input[0].type.tensor_type.shape.dim
        assert dims[0].dim_param == "batch"
        x = cr.randn(5, 1, 6, 6)
        with cr.no_grad():
            np.testing.assert_allclose(program(x)[0].numpy(), model(x).numpy(), rtol=1e-5,
                                       atol=1e-6)
    with pytest.raises(ValueError, match="not arguments of the forward"):
        cr.onnx.export(model, (cr.randn(2, 1, 6, 6),), dynamo=True,
                       dynamic_shapes={"x": {0: "batch"}})


def test_save_with_external_data_or_without_weights_and_apply_weights(tmp_path):
    model = _model()
    x = cr.randn(1, 1, 6, 6)
    program = cr.onnx.export(model, (x,), dynamo=True)
    program.save(tmp_path / "ext.onnx", external_data=True)
    assert (tmp_path / "ext.onnx.data").stat().st_size > 0
    def weights(proto):
        return {i.name: onnx.numpy_helper.to_array(i).tolist() for i in proto.graph.initializer}

    assert weights(onnx.load(tmp_path / "ext.onnx")) == weights(program.model_proto)  # via .data
    program.save(tmp_path / "bare.onnx", include_initializers=False)
    assert not onnx.load(tmp_path / "bare.onnx").graph.initializer
    zeroed = {name: cr.zeros_like(value) for name, value in model.state_dict().items()}
    program.apply_weights(zeroed)
    np.testing.assert_array_equal(program(x)[0].numpy(), np.zeros((1, 5), np.float32))
