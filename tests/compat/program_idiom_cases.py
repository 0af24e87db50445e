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


def weight_norm_case(torch, layer, dim):
    """A layer under ``nn.utils.weight_norm`` (TCN's temporal blocks) from fixed weights: its
    parameter names, output and the gradients of g and v for a fixed loss, and its weight after
    ``remove_weight_norm``."""
    import warnings

    rng = np.random.default_rng(3)
    module = {"conv1d": lambda: torch.nn.Conv1d(2, 3, 3),
              "linear": lambda: torch.nn.Linear(4, 3)}[layer]().double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(p.shape))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = torch.nn.utils.weight_norm(module, dim=dim)
    x = torch.from_numpy(rng.standard_normal((2, 2, 5) if layer == "conv1d" else (2, 4)))
    out = module(x)
    (out * torch.linspace(-1, 1, out.shape[-1], dtype=torch.float64)).sum().backward()
    names = [n for n, _ in module.named_parameters()]
    result = {"names": names, "out": out.detach().flatten().tolist(),
              "grad_g": module.weight_g.grad.flatten().tolist(),
              "grad_v": module.weight_v.grad.flatten().tolist(),
              "g_shape": list(module.weight_g.shape)}
    torch.nn.utils.remove_weight_norm(module)
    result["removed"] = [n for n, _ in module.named_parameters()]
    result["weight"] = module.weight.detach().flatten().tolist()
    return result


WEIGHT_NORM_CASES = {"conv1d dim 0": ("conv1d", 0), "conv1d dim None": ("conv1d", None),
                     "linear dim 1": ("linear", 1), "conv1d dim -2": ("conv1d", -2)}


def parametrized_weight_norm_case(torch, dim):
    """``nn.utils.parametrizations.weight_norm`` on a Linear layer from fixed weights: names,
    output, gradients of original0 (g) and original1 (v), the output after assigning a new
    weight (through right_inverse), and names and weight after remove_parametrizations."""
    rng = np.random.default_rng(4)
    module = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(p.shape))))
    torch.nn.utils.parametrizations.weight_norm(module, dim=dim)
    x = torch.from_numpy(rng.standard_normal((2, 4)))
    out = module(x)
    (out * torch.linspace(-1, 1, 3, dtype=torch.float64)).sum().backward()
    plist = module.parametrizations.weight
    result = {"names": [n for n, _ in module.named_parameters()],
              "class": type(module).__name__,
              "out": out.detach().flatten().tolist(),
              "grad_g": plist.original0.grad.flatten().tolist(),
              "grad_v": plist.original1.grad.flatten().tolist()}
    with torch.no_grad():
        module.weight = torch.from_numpy(rng.uniform(-1, 1, (3, 4)))
        result["out_after_assign"] = module(x).flatten().tolist()
    torch.nn.utils.parametrize.remove_parametrizations(module, "weight")
    result["removed"] = [n for n, _ in module.named_parameters()]
    result["class_after_remove"] = type(module).__name__
    result["weight"] = module.weight.detach().flatten().tolist()
    return result
