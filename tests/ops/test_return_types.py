"""Ops that return several tensors give PyTorch's named tuples (``torch.return_types.X``),
named per op and printed as PyTorch prints them."""

import chainrule as cr
from chainrule import return_types


def test_printed_as_pytorch_prints_them():
    x = cr.tensor([[1.0, 2.0], [3.0, 0.0]])
    # PyTorch 2.13: torch.return_types.max(\nvalues=tensor([2., 3.]),\nindices=tensor([1, 0]))
    assert repr(cr.max(x, 1)) == ("chainrule.return_types.max(\nvalues=tensor([2., 3.]),\n"
                                  "indices=tensor([1, 0]))")
    assert str(x.sort(dim=0)).startswith("chainrule.return_types.sort(\nvalues=tensor([[1., 0.],")


def test_each_op_has_its_own_type_and_fields():
    x = cr.tensor([[3.0, 1.0, 2.0], [0.5, 0.5, 4.0]])
    cases = {
        "max": cr.max(x, 1), "min": x.min(0), "sort": x.sort(), "topk": x.topk(2),
        "median": x.median(1), "nanmedian": x.nanmedian(1), "mode": x.mode(1),
        "kthvalue": x.kthvalue(2), "cummax": x.cummax(1), "cummin": x.cummin(1),
        "aminmax": cr.aminmax(x), "frexp": cr.frexp(x), "histogram": cr.histogram(x[0], bins=2),
        "slogdet": cr.slogdet(x[:, :2]), "svd": cr.svd(x), "qr": cr.qr(x),
        "linalg_qr": cr.linalg.qr(x), "linalg_svd": cr.linalg.svd(x),
        "linalg_eigh": cr.linalg.eigh(x[:, :2] @ x[:, :2].T),
    }
    for name, result in cases.items():
        assert type(result) is getattr(return_types, name), name
        assert type(result).__name__ == name
    assert cases["median"].values.tolist() == [2.0, 0.5]
    assert cases["median"].indices.tolist()[0] == 2
    assert cases["aminmax"]._fields == ("min", "max") and cases["svd"]._fields == ("U", "S", "V")
    values, indices = cases["topk"]  # still a tuple
    assert values.shape == (2, 2) and isinstance(cases["sort"], tuple)

