"""Helpers the ONNX tests share: export a model and compare ONNX Runtime with chainrule."""

import io

import numpy as np

import chainrule as cr
from chainrule.onnx.trace import flat_tensors


def session(model, examples, dynamic_axes=None, input_names=None, **options):
    """Export ``model`` traced on ``examples`` (arrays) and open it in ONNX Runtime."""
    import onnxruntime

    examples = examples if isinstance(examples, tuple) else (examples,)
    names = input_names or (["x"] if len(examples) == 1 else
                            [f"x{i}" for i in range(len(examples))])
    buffer = io.BytesIO()
    cr.onnx.export(model, tuple(cr.from_numpy(e) for e in examples), buffer, input_names=names,
                   dynamic_axes=dynamic_axes, **options)
    return onnxruntime.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])


def outputs(model, arrays):
    with cr.no_grad():  # on copies: a model may write into its inputs
        result = model(*(cr.from_numpy(a.copy()) for a in arrays))
    return [t.numpy() for t in flat_tensors(result)]


def assert_runtime_matches(model, run, arrays, tolerance=1e-5):
    """ONNX Runtime's outputs on ``arrays`` equal chainrule's within ``tolerance``."""
    arrays = arrays if isinstance(arrays, tuple) else (arrays,)
    names = [i.name for i in run.get_inputs()]
    ours = outputs(model, arrays)
    theirs = run.run(None, dict(zip(names, arrays)))
    assert len(theirs) == len(ours)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert a.shape == b.shape, f"output {k}: {b.shape} from ONNX Runtime, {a.shape} ours"
        assert a.dtype == b.dtype, f"output {k}: {b.dtype} from ONNX Runtime, {a.dtype} ours"
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64),
                                   rtol=tolerance, atol=tolerance, err_msg=f"output {k}")
