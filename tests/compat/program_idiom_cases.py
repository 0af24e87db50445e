"""Cases shared by bench/record_program_idioms.py (which records PyTorch's answers) and
test_public_program_idioms.py (which checks chainrule's): each builds its input from the
library module ``torch`` it is given and NumPy."""

import numpy as np


def _t(torch, value, dtype=None):
    return torch.tensor(value, dtype=dtype)


# torch.tensor(data): a tensor inside a list is read as its one value; the dtype is the
# promotion of every element's (Python float: the default float dtype; NumPy values and
# tensors: their own)
TENSOR_FROM_SEQUENCES = {
    "one-element tensors in a list": lambda torch: [_t(torch, [0.5]), _t(torch, [0.3])],
    "a tensor in a nested list": lambda torch: [[_t(torch, [[0.5]])]],
    "0-d tensors": lambda torch: [_t(torch, 0.5), _t(torch, 1.0)],
    "int tensor": lambda torch: [_t(torch, [1])],
    "int32 tensor alone": lambda torch: [_t(torch, 1, torch.int32)],
    "int32 tensor and an int": lambda torch: [_t(torch, 1, torch.int32), 2],
    "float32 tensor and a float": lambda torch: [_t(torch, 1.0, torch.float32), 2.5],
    "float64 tensor": lambda torch: [_t(torch, 1.0, torch.float64)],
    "int16 and uint8 tensors": lambda torch: [_t(torch, 1, torch.int16), _t(torch, 2, torch.uint8)],
    "uint8 tensor and a large int": lambda torch: [_t(torch, 1, torch.uint8), 300],
    "float16 tensor and an int": lambda torch: [_t(torch, 1.0, torch.float16), 3],
    "numpy float64 array in a list": lambda torch: [np.array([0.5])],
    "numpy int32 array in a list": lambda torch: [np.array([1, 2], dtype=np.int32)],
    "numpy 2-d array in a list": lambda torch: [np.array([[1.0]])],
    "numpy float32 scalar nested": lambda torch: [[np.float32(1.0)]],
    "numpy float64 scalar and a float": lambda torch: [np.float64(1.0), 2.0],
    "int and numpy float32 scalar": lambda torch: [1, np.float32(2.0)],
    "numpy int32 scalar": lambda torch: [np.int32(3)],
    "numpy int32 scalar and an int": lambda torch: [np.int32(3), 4],
    "numpy int8 scalar and a float": lambda torch: [np.int8(1), 2.5],
    "numpy float16 scalar": lambda torch: [np.float16(1.0)],
    "bool and int": lambda torch: [True, 2],
    "floats": lambda torch: [[1.0, 2.0], [3.0, 4.0]],
    "empty": lambda torch: [],
    "empty nested": lambda torch: [[]],
}
