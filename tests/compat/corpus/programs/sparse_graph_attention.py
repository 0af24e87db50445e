"""Graph attention over a sparse adjacency, in the style of pyGAT's sparse model and Kipf's
pygcn: the adjacency is built from a scipy-style COO triple with the legacy
torch.sparse.FloatTensor, propagated with torch.spmm; attention coefficients per edge go
through a custom autograd Function whose backward reads the sparse tensor's _indices() (one
entry per given value: an edge masked to zero stays an entry).

    python sparse_graph_attention.py --epochs 4
"""

import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SpecialSpmmFunction(torch.autograd.Function):
    """sparse (indices, values) @ dense, with the gradient for the values only at the edges."""

    @staticmethod
    def forward(ctx, indices, values, shape, b):
        a = torch.sparse_coo_tensor(indices, values, shape)
        ctx.save_for_backward(a, b)
        ctx.N = shape[0]
        return torch.matmul(a, b)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        grad_values = grad_b = None
        if ctx.needs_input_grad[1]:
            grad_a_dense = grad_output.matmul(b.t())
            edge_idx = a._indices()[0, :] * ctx.N + a._indices()[1, :]
            grad_values = grad_a_dense.view(-1)[edge_idx]
        if ctx.needs_input_grad[3]:
            grad_b = a.t().matmul(grad_output)
        return None, grad_values, None, grad_b


class SpGraphAttention(nn.Module):
    def __init__(self, in_features, out_features, alpha):
        super().__init__()
        self.W = nn.Parameter(torch.zeros(size=(in_features, out_features)))
        self.a = nn.Parameter(torch.zeros(size=(1, 2 * out_features)))
        self.leakyrelu = nn.LeakyReLU(alpha)

    def forward(self, x, edge, edge_mask):
        n = x.size(0)
        h = torch.mm(x, self.W)
        edge_h = torch.cat((h[edge[0, :], :], h[edge[1, :], :]), dim=1).t()
        edge_e = torch.exp(-self.leakyrelu(self.a.mm(edge_h).squeeze()))
        rowsum = SpecialSpmmFunction.apply(edge, edge_e, torch.Size([n, n]),
                                           torch.ones(size=(n, 1)))
        edge_e = edge_e * edge_mask                   # a fixed "dropout" of some edges
        h_prime = SpecialSpmmFunction.apply(edge, edge_e, torch.Size([n, n]), h)
        return F.elu(h_prime.div(rowsum))


class Net(nn.Module):
    def __init__(self, n_feat, n_hid, n_class):
        super().__init__()
        self.att = SpGraphAttention(n_feat, n_hid, alpha=0.2)
        self.out = nn.Linear(n_hid, n_class)

    def forward(self, x, adj, edge, edge_mask):
        x = torch.spmm(adj, x)                        # pygcn-style propagation
        return F.log_softmax(self.out(self.att(x, edge, edge_mask)), dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=6)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()

    rng = np.random.default_rng(11)
    n, n_feat, n_class = 12, 5, 3
    labels_np = rng.integers(0, n_class, n)
    rows, cols = np.nonzero(np.eye(n) + (rng.random((n, n)) < 0.25))
    degree = np.bincount(rows, minlength=n).astype(np.float64)
    adj = torch.sparse.FloatTensor(torch.from_numpy(np.vstack((rows, cols)).astype(np.int64)),
                                   torch.from_numpy((1.0 / degree[rows]).astype(np.float32)),
                                   torch.Size([n, n]))
    adj = adj.to(torch.get_default_dtype())
    features = torch.tensor(rng.normal(size=(n, n_feat)) + labels_np[:, None],
                            dtype=torch.get_default_dtype())
    edge = torch.from_numpy(np.vstack((rows, cols)).astype(np.int64))
    edge_mask = torch.tensor((np.arange(len(rows)) % 4 != 0).astype(np.float64),
                             dtype=torch.get_default_dtype())
    labels = torch.from_numpy(labels_np)

    model = Net(n_feat, args.hidden, n_class)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=5e-4)
    for epoch in range(args.epochs):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj, edge, edge_mask)
        loss = F.nll_loss(output, labels)
        loss.backward()
        optimizer.step()
        accuracy = (output.max(1)[1] == labels).float().mean()
        print(f"epoch {epoch}: loss {loss.item():.4f} accuracy {accuracy.item():.2f}")


if __name__ == "__main__":
    main()
