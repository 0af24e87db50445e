"""Sparse COO tensors (stored densely): construction, layout answers, indices/values, the
sparse products, gradients to the values, and PyTorch's errors on dense tensors. Values
hand-derived, layouts and messages as PyTorch 2.13 gives them."""

import numpy as np
import pytest

import chainrule as cr


def test_sparse_coo_tensor_sums_duplicates_and_answers_as_sparse():
    s = cr.sparse_coo_tensor([[0, 1, 1], [2, 0, 0]], [3.0, 4.0, 5.0], (2, 3))
    assert s.tolist() == [[0.0, 0.0, 3.0], [9.0, 0.0, 0.0]]
    assert s.layout is cr.sparse_coo and s.is_sparse and repr(s.layout) == "torch.sparse_coo"
    assert (s.sparse_dim(), s.dense_dim(), s._nnz()) == (2, 0, 3)   # duplicates kept, as PyTorch
    assert not s.is_coalesced()
    c = s.coalesce()
    assert c.is_coalesced() and c._nnz() == 2 and c.coalesce() is c
    assert c.indices().tolist() == [[0, 1], [2, 0]] and c.values().tolist() == [3.0, 9.0]
    assert tuple(cr.sparse_coo_tensor([[0, 2]], [1.0, 2.0]).shape) == (3,)  # inferred size
    assert cr.sparse_coo_tensor([[0, 1]], [1, 2]).dtype == cr.int64
    assert cr.sparse_coo_tensor([[0, 1]], [1.0, 2.0], dtype=cr.int64).dtype == cr.int64


def test_the_coo_structure_is_kept_as_given_until_coalesce():
    # PyTorch 2.13: _indices()/_values() are the entries as given (duplicates, explicit zeros,
    # order); indices()/values() refuse until coalesce(), which sorts and sums duplicates
    s = cr.sparse_coo_tensor([[0, 1, 1, 0], [2, 0, 2, 2]], [3.0, 0.0, 5.0, 1.0], (3, 3))
    assert s._indices().tolist() == [[0, 1, 1, 0], [2, 0, 2, 2]]
    assert s._values().tolist() == [3.0, 0.0, 5.0, 1.0] and s._nnz() == 4
    for method in ("indices", "values"):
        with pytest.raises(RuntimeError, match=f"Cannot get {method} on an uncoalesced tensor"):
            getattr(s, method)()
    c = s.coalesce()
    assert c.indices().tolist() == [[0, 1, 1], [2, 0, 2]]
    assert c.values().tolist() == [4.0, 0.0, 5.0]       # the explicit zero stays an entry
    assert cr.sparse_coo_tensor([[1, 0]], [1.0, 2.0], is_coalesced=True).is_coalesced()


def test_to_sparse_is_coalesced_and_lists_the_nonzero_entries():
    d = cr.tensor([[0.0, 2.0], [3.0, 0.0]]).to_sparse()
    assert d.is_coalesced() and d._nnz() == 2
    assert d.indices().tolist() == [[0, 1], [1, 0]] and d.values().tolist() == [2.0, 3.0]


def test_a_custom_backward_reads_one_coordinate_per_given_value():
    # pyGAT's SpecialSpmmFunction: grad_values = dense_grad.view(-1)[a._indices() as flat]
    indices = cr.tensor([[0, 1, 1], [1, 0, 1]])
    values = cr.tensor([2.0, 0.0, 3.0])        # an explicit zero (a dropped-out edge)
    a = cr.sparse_coo_tensor(indices, values, (2, 2))
    flat = a._indices()[0, :] * 2 + a._indices()[1, :]
    assert flat.tolist() == [1, 2, 3] and a._values().shape == values.shape


def test_legacy_sparse_constructors_warn_and_build_coo_tensors():
    with pytest.warns(UserWarning, match="sparse_coo_tensor"):
        s = cr.sparse.FloatTensor(cr.tensor([[0, 1], [1, 0]]), cr.tensor([1.0, 2.0]),
                                  cr.Size([2, 2]))
    assert s.is_sparse and s.dtype == cr.float32 and not s.is_coalesced()
    assert s.to_dense().tolist() == [[0.0, 1.0], [2.0, 0.0]]
    with pytest.warns(UserWarning):
        assert cr.sparse.DoubleTensor(cr.tensor([[0]]), cr.tensor([1.0])).dtype == cr.float64


def test_hybrid_values_fill_whole_rows():
    h = cr.sparse_coo_tensor([[0, 2]], cr.tensor([[1.0, 2.0], [3.0, 4.0]]), (3, 2))
    assert h.tolist() == [[1.0, 2.0], [0.0, 0.0], [3.0, 4.0]]
    assert (h.sparse_dim(), h.dense_dim()) == (1, 1)
    h = h.coalesce()
    assert h.indices().tolist() == [[0, 2]] and h.values().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_results_of_ops_are_dense_and_products_match_dense_ones():
    a = cr.tensor([[0.0, 1.0], [2.0, 0.0]])
    s = a.to_sparse()
    assert s is not a and s.is_sparse and not a.is_sparse and a.layout is cr.strided
    b = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    for product in (cr.spmm(s, b), cr.sparse.mm(s, b), s @ b, cr.eye(2) + s):
        assert product.layout is cr.strided
    np.testing.assert_array_equal(cr.spmm(s, b).numpy(), a.numpy() @ b.numpy())
    assert cr.sparse.sum(s).item() == 3.0
    assert s.to_dense().tolist() == a.tolist() and not s.to_dense().is_sparse
    assert a.to_dense() is a  # as PyTorch: a dense tensor's to_dense() is itself


def test_gradients_flow_to_the_values():
    values = cr.tensor([1.0, 2.0], requires_grad=True)
    t = cr.sparse_coo_tensor([[0, 0]], values, (3,))
    (t.to_dense() * cr.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert values.grad.tolist() == [1.0, 1.0]  # both duplicates land on entry 0
    w = cr.tensor([[1.0, 0.0], [0.0, 2.0]], requires_grad=True)
    cr.spmm(w.to_sparse(), cr.ones(2, 1)).sum().backward()
    assert w.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]


@pytest.mark.parametrize("method, message", [
    ("coalesce", "coalesce expected sparse coordinate tensor layout but got Strided"),
    ("indices", "indices expected sparse coordinate tensor layout but got Strided"),
    ("_indices", "_indices expected sparse coordinate tensor layout but got Strided"),
    ("values", "values expected sparse tensor layout but got Strided"),
    ("is_coalesced", "is_coalesced expected sparse coordinate tensor layout"),
])
def test_sparse_methods_on_a_dense_tensor_raise_as_in_pytorch(method, message):
    with pytest.raises(RuntimeError, match=message):
        getattr(cr.ones(2, 2), method)()


def test_bad_construction_is_named():
    with pytest.raises(RuntimeError, match="same nnz"):
        cr.sparse_coo_tensor([[0, 1]], [1.0])
    with pytest.raises(RuntimeError, match="size is inconsistent"):
        cr.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
