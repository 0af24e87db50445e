"""``ONNXProgram``: what ``torch.onnx.export(..., dynamo=True)`` returns in PyTorch 2.x (the
2.13 tutorials write ``onnx_program = torch.onnx.export(model, args, dynamo=True)`` and then
``onnx_program.save("model.onnx")``): the exported ``model_proto``, ``save``, and a call that
runs the model in ONNX Runtime on chainrule tensors."""

import copy
import os

from ..tensor import Tensor
from .trace import flat_tensors

__all__ = ["ONNXProgram"]

_PROTOBUF_LIMIT = 2**31 - 1  # one protobuf message holds at most 2 GB


class ONNXProgram:
    """An exported model; ``model_proto`` is its ``onnx.ModelProto``."""

    def __init__(self, model_proto):
        self._proto = model_proto
        self._session = None

    @property
    def model_proto(self):
        return self._proto

    def __repr__(self):
        graph = self._proto.graph
        return (f"ONNXProgram(inputs={[i.name for i in graph.input]}, "
                f"outputs={[o.name for o in graph.output]}, nodes={len(graph.node)}, "
                f"opset={self._proto.opset_import[0].version})")

    def optimize(self):
        """Kept for PyTorch's API: PyTorch runs the onnxscript optimizer here; chainrule's
        exporter already folds constants and writes only the nodes the outputs need, so the
        model is left as it is."""

    def save(self, destination, *, include_initializers=True, keep_initializers_as_inputs=False,
             external_data=None):
        """Write the model to ``destination``; the weights go to ``<name>.data`` beside it
        when ``external_data`` is True, or when None and the model passes protobuf's 2 GB."""
        import onnx

        proto = self._proto
        if not include_initializers or keep_initializers_as_inputs or external_data is not False:
            proto = copy.deepcopy(proto)  # saving as external data rewrites the proto too
            if keep_initializers_as_inputs:
                proto.graph.input.extend(
                    onnx.helper.make_tensor_value_info(init.name, init.data_type, init.dims)
                    for init in proto.graph.initializer)
            if not include_initializers:
                del proto.graph.initializer[:]
        if external_data is None:
            external_data = proto.ByteSize() > _PROTOBUF_LIMIT
        destination = os.fspath(destination)
        if external_data:
            onnx.save_model(proto, destination, save_as_external_data=True,
                            all_tensors_to_one_file=True, size_threshold=0,
                            location=os.path.basename(destination) + ".data")
        else:
            onnx.save_model(proto, destination)

    def apply_weights(self, state_dict):
        """Replace the stored weights by name with those of ``state_dict`` (tensors)."""
        from onnx import numpy_helper

        by_name = {init.name: k for k, init in enumerate(self._proto.graph.initializer)}
        for name, tensor in state_dict.items():
            if name in by_name:
                array = tensor.detach().numpy() if isinstance(tensor, Tensor) else tensor
                self._proto.graph.initializer[by_name[name]].CopyFrom(
                    numpy_helper.from_array(array, name))
        self.release()

    def initialize_inference_session(self, initializer=None):
        """Open the ONNX Runtime session that ``__call__`` uses; ``initializer(model_bytes)``
        may make it instead (to choose providers or options)."""
        if initializer is None:
            import onnxruntime

            def initializer(model):
                return onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
        self._session = initializer(self._proto.SerializeToString())

    def release(self):
        """Close the ONNX Runtime session (the next call opens a new one)."""
        self._session = None

    def __call__(self, *args, **kwargs):
        """Run the model in ONNX Runtime on tensors (positional, then keyword arguments in
        the forward's order); returns the outputs as a list of tensors."""
        if self._session is None:
            self.initialize_inference_session()
        arrays = [t.detach().numpy() for t in flat_tensors([*args, *kwargs.values()])]
        names = [i.name for i in self._session.get_inputs()]
        if len(arrays) != len(names):
            raise ValueError(f"the model takes {len(names)} inputs ({', '.join(names)}), "
                             f"got {len(arrays)} tensors")
        outputs = self._session.run(None, dict(zip(names, arrays)))
        return [Tensor._from_array(output) for output in outputs]
