"""Cases for ``nn.utils.parametrizations.orthogonal``, run the same way on PyTorch (by
``bench/record_orthogonal.py``, into ``torch_orthogonal.json``) and on chainrule (by
``test_orthogonal.py``). Every input comes from a seeded NumPy generator, and every recorded
number is deterministic: a wide or tall weight's ``base`` is completed with random columns,
so the cases set ``base`` themselves before the forward values they record."""

import numpy as np

# (weight shape, orthogonal_map, use_trivialization)
CASES = [
    ((3, 3), None, True),          # square: the matrix exponential
    ((4, 3), None, True),          # tall: Householder
    ((3, 5), None, True),          # wide: Householder on the transpose
    ((3, 3), "cayley", True),
    ((5, 3), "cayley", True),
    ((2, 4), "matrix_exp", True),
    ((4, 4), "householder", True),
    ((2, 3, 3), "matrix_exp", True),  # a batch of matrices
    ((4, 3), "householder", False),
    ((3, 4), "householder", False),
    ((3, 3), "cayley", False),     # no right inverse: registering keeps the weight as original
]


def _holder(lib, shape):
    module = lib.nn.Module()
    module.weight = lib.nn.Parameter(lib.zeros(*shape, dtype=lib.float64))
    return module


def _numbers(tensor):
    return np.asarray(tensor.detach().tolist(), dtype=np.float64)


def run(lib, index):
    """What one case gives on ``lib`` (torch or chainrule): a dict of arrays and lists."""
    shape, orthogonal_map, trivial = CASES[index]
    rng = np.random.default_rng(100 + index)
    module = _holder(lib, shape)
    with lib.no_grad():
        module.weight.copy_(lib.tensor(rng.standard_normal(shape)))
    lib.nn.utils.parametrizations.orthogonal(module, orthogonal_map=orthogonal_map,
                                             use_trivialization=trivial)
    parametrizations = module.parametrizations.weight
    out = {"keys": sorted(module.state_dict()),
           "registered_weight": _numbers(module.weight),
           "registered_original": _numbers(parametrizations.original)}
    # a trained original: the Householder map reads the sign of each column from the diagonal
    trained = rng.standard_normal(shape) * 0.4
    tall = shape[-2] >= shape[-1]
    diagonal = np.arange(min(shape[-2:]))
    trained[..., diagonal, diagonal] = rng.choice([-1.0, 1.0], size=shape[:-2] + diagonal.shape)
    with lib.no_grad():
        parametrizations.original.copy_(lib.tensor(trained))
        if trivial:
            n = shape[-2] if tall else shape[-1]
            base, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, n)))
            parametrizations[0].base = lib.tensor(base)
    weight = module.weight
    (weight * lib.tensor(rng.standard_normal(shape))).sum().backward()
    out["weight"] = _numbers(weight)
    out["grad"] = _numbers(parametrizations.original.grad)
    # assigning a (non-orthogonal) weight goes through right_inverse
    assigned = rng.standard_normal(shape)
    invertible = trivial or CASES[index][1] == "householder"
    if invertible and (shape[-2] == shape[-1] or not trivial):
        module.weight = lib.tensor(assigned)
        out["assigned_weight"] = _numbers(module.weight)
        out["assigned_original"] = _numbers(parametrizations.original)
    return out
