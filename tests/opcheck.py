"""The one harness for op tests: forward against NumPy, backward against finite differences,
and the gradient of the backward (gradients of gradients) the same way.

Every op family's test module lists ``OpCase`` rows; ``check_case`` runs a row on contiguous and
non-contiguous float64 inputs. ``tests/ops/test_op_coverage.py`` fails when a ``Function`` in
``chainrule.ops`` has no row, or when a registered op is called by no row."""

from dataclasses import dataclass, field

import numpy as np

import chainrule as cr
from chainrule.autograd import gradcheck, gradgradcheck

DOMAINS = {
    "real": lambda rng, shape: rng.standard_normal(shape),
    "positive": lambda rng, shape: rng.uniform(0.5, 2.0, shape),
    "unit": lambda rng, shape: rng.uniform(-0.9, 0.9, shape),
    # away from 0 so that kinks (abs, relu, max) are not straddled by finite differences
    "nonzero": lambda rng, shape: rng.choice([-1, 1], shape) * rng.uniform(0.3, 2.0, shape),
}


@dataclass
class OpCase:
    """One row of an op table.

    op: callable on chainrule tensors; reference: the same on NumPy arrays (forward truth);
    shapes: input shapes; covers: the Function classes this row exercises (for the coverage
    meta-test); domain: where inputs are drawn (see DOMAINS); grad: whether to gradcheck;
    gradgrad: whether to gradgradcheck too (True), or why not (a string: the row documents
    its exception, e.g. a backward written on arrays that refuses to be differentiated).
    """

    name: str
    op: object
    reference: object
    shapes: list
    covers: tuple = ()
    domain: str = "real"
    grad: bool = True
    gradgrad: object = True
    atol: float = 1e-5
    rtol: float = 1e-3
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.name


def make_inputs(case, seed=0, noncontiguous=False):
    """float64 arrays for the case, optionally as non-contiguous views (every other element)."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in case.shapes:
        if noncontiguous and len(shape) > 0:
            big = DOMAINS[case.domain](rng, tuple(s * 2 for s in shape))
            arrays.append(big[tuple(slice(None, None, 2) for _ in shape)])
        else:
            arrays.append(np.asarray(DOMAINS[case.domain](rng, shape), dtype=np.float64))
    return arrays


def check_forward(case, noncontiguous=False):
    arrays = make_inputs(case, noncontiguous=noncontiguous)
    tensors = [cr.from_numpy(a.copy() if not noncontiguous else a) for a in arrays]
    out = case.op(*tensors)
    expected = case.reference(*[a.copy() for a in arrays])
    outs = out if isinstance(out, tuple) else (out,)
    expecteds = expected if isinstance(expected, tuple) else (expected,)
    for got, want in zip(outs, expecteds, strict=True):
        want = np.asarray(want)
        if not isinstance(got, cr.Tensor):  # a Python answer (equal, allclose)
            assert type(got) is type(want.item()) and got == want.item(), case.name
            continue
        # a 0-d result is a 0-d ndarray, never a NumPy scalar
        assert type(got.detach().numpy()) is np.ndarray, f"{case.name}: holds a NumPy scalar"
        assert got.shape == want.shape, f"{case.name}: shape {got.shape} != {want.shape}"
        if want.dtype.kind in "biu":  # masks and indices: exact, and of the right kind
            assert got.numpy().dtype.kind == want.dtype.kind, f"{case.name}: {got.dtype}"
            np.testing.assert_array_equal(got.numpy(), want, err_msg=case.name)
            continue
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-6, atol=1e-8,
                                   err_msg=case.name)


def check_backward(case, noncontiguous=False):
    arrays = make_inputs(case, seed=1, noncontiguous=noncontiguous)
    tensors = [cr.from_numpy(a).requires_grad_() for a in arrays]
    assert gradcheck(case.op, tuple(tensors), atol=case.atol, rtol=case.rtol)


def check_double_backward(case):
    arrays = make_inputs(case, seed=2)
    tensors = [cr.from_numpy(a).requires_grad_() for a in arrays]
    assert gradgradcheck(case.op, tuple(tensors), atol=case.atol, rtol=case.rtol)


def check_case(case):
    check_forward(case)
    check_forward(case, noncontiguous=True)
    if case.grad:
        check_backward(case)
        check_backward(case, noncontiguous=True)
        if case.gradgrad is True:
            check_double_backward(case)
