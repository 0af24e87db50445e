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


def spectral_norm_case(torch, form, layer):
    """A layer under spectral normalisation (SN-GAN discriminators), ``form`` "hook"
    (``nn.utils.spectral_norm``) or "parametrization" (``parametrizations.spectral_norm``),
    from fixed weights and singular-vector estimates: state-dict keys, the outputs of two
    training forwards (each refines u and v) and one eval forward, u and v after, the gradient
    of the stored weight for a fixed loss, and the weight after removing the normalisation."""
    rng = np.random.default_rng(5)
    module, x = {
        "linear": lambda: (torch.nn.Linear(4, 3), rng.standard_normal((2, 4))),
        "conv2d": lambda: (torch.nn.Conv2d(2, 3, 2), rng.standard_normal((1, 2, 3, 3))),
        "convtranspose2d": lambda: (torch.nn.ConvTranspose2d(2, 3, 2),
                                    rng.standard_normal((1, 2, 2, 2))),
    }[layer]()
    module = module.double()
    sn = {"hook": torch.nn.utils.spectral_norm,
          "parametrization": torch.nn.utils.parametrizations.spectral_norm}[form]
    sn(module)
    if form == "hook":
        stored, u, v = module.weight_orig, module.weight_u, module.weight_v
    else:
        plist = module.parametrizations.weight
        stored, u, v = plist.original, plist[0]._u, plist[0]._v
    with torch.no_grad():
        stored.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(stored.shape))))
        for vector in (u, v):
            raw = torch.from_numpy(rng.standard_normal(tuple(vector.shape)))
            vector.copy_(raw / raw.norm())
        module.bias.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(module.bias.shape))))
    x = torch.from_numpy(x)
    first = module(x)
    second = module(x)
    (second * torch.linspace(-1, 1, second.numel(), dtype=torch.float64).view_as(second)).sum() \
        .backward()
    module.eval()
    result = {"keys": list(module.state_dict()),
              "first": first.detach().flatten().tolist(),
              "second": second.detach().flatten().tolist(),
              "eval": module(x).detach().flatten().tolist(),
              "u": u.flatten().tolist(), "v": v.flatten().tolist(),
              "grad": stored.grad.flatten().tolist()}
    if form == "hook":
        torch.nn.utils.remove_spectral_norm(module)
    else:
        torch.nn.utils.parametrize.remove_parametrizations(module, "weight")
    result["removed"] = [n for n, _ in module.named_parameters()]
    result["weight"] = module.weight.detach().flatten().tolist()
    return result


SPECTRAL_NORM_CASES = {f"{form} {layer}": (form, layer) for form in ("hook", "parametrization")
                       for layer in ("linear", "conv2d", "convtranspose2d")}


def dirac_case(torch, shape, groups):
    """Where ``nn.init.dirac_`` puts its ones, for a 3-, 4- or 5-D weight and groups."""
    weight = torch.zeros(*shape)
    torch.nn.init.dirac_(weight, groups=groups)
    return weight.nonzero().tolist()


DIRAC_CASES = {"conv1d 4x2x3 groups 2": ((4, 2, 3), 2), "conv2d 2x3x3x3": ((2, 3, 3, 3), 1),
               "conv2d 6x2x2x2 groups 3": ((6, 2, 2, 2), 3),
               "conv3d 3x2x1x3x3": ((3, 2, 1, 3, 3), 1)}
