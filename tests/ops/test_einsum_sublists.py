"""torch.einsum's sublist format, against the same contraction written as an equation."""

import chainrule as cr


def test_einsum_sublist_format():
    # PyTorch's einsum(op1, sublist1, op2, sublist2, [out]): ints label dims, ... as Ellipsis
    a = cr.arange(24.0).view(2, 3, 4)
    b = cr.arange(30.0).view(2, 3, 5)
    expected = cr.einsum("bij,bik->bjk", a, b)
    assert cr.equal(cr.einsum(a, [0, 1, 2], b, [0, 1, 3], [0, 2, 3]), expected)
    assert cr.equal(cr.einsum(a, [..., 1], b, [..., 2], [..., 1, 2]),
                    cr.einsum("...j,...k->...jk", a, b))
    assert cr.equal(cr.einsum(a, [0, 1, 2]), a)  # no output list: implicit mode
    assert cr.einsum(a, [0, 1, 2], []).item() == a.sum().item()
