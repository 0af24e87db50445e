"""3x3 convolutions (stride 1, no dilation, one group) by Winograd's F(2x2, 3x3) (Lavin &
Gray, "Fast Algorithms for Convolutional Neural Networks", 2015): each 2x2 block of outputs
from its 4x4 block of inputs with 16 multiplications per input channel where im2col's GEMM
makes 36, as 16 GEMMs (one per position of the 4x4 transform) instead of one 2.25x bigger.

Why: the GEMMs of the cnn workload's second conv (64 x 32 x 26 x 26 -> 64 channels) were 10.4
of its 14 ms forward at one thread, already at 90% of OpenBLAS's peak; fewer multiplications is
the way left. A sample a block: its 144 tiles make (64 x 32) @ (32 x 144) products, measured
109 GFLOPS, the best of 144 to 9216 tiles a block (79 at 9216). Measured at one thread, that
conv's forward 14.0 -> 8.4 ms (GEMMs 10.4 -> 4.1, the two transforms 1.7 and 1.2). Its weight
gradient goes the same way backwards, dw = G^T (sum over tiles of (A dy A^T) * (B^T d B)) G,
16 products of (C x tiles) by (tiles x O) summed over the samples: 15.3 -> 8.8 ms. Its input
gradient is the forward's adjoint: dy's tiles as for the weight gradient, times U^T, then the
input transform's adjoint added up over the overlapping tiles: 14.5 -> 10.6 ms (taken instead
as the same kind of conv as the forward, of dy padded by 2 with the weight flipped: 13.2, 64
channels of 28 x 28 to transform). Float32 error: the transforms add and subtract at most 4
terms at a time before and after the GEMMs (measured on that conv against float64: forward
1.5e-6 at most, outputs up to 6.7; input gradient 2.2e-6, up to 7.2; weight gradient 4.6e-4,
entries up to 900); the tests hold all three to the float64 im2col reference.
Each transform kernel begins with ``wide_vectors()`` (512-bit vectors, ``_jit``): measured,
the gradient's tiles for 64 samples 1.9 -> 1.4-1.5 ms, the other transforms within noise.

Transforms (d the 4x4 input tile, g the 3x3 filter, y the 2x2 output):
V = B^T d B, U = G g G^T, y = A^T (sum over channels of U * V) A, with
B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]], A^T = [[1, 1, 1, 0], [0, 1, -1, -1]].
"""

import numpy as np

from ._jit import jit, wide_vectors

_G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])
# Fewer input channels than this: the GEMMs' inner dimension is too short to gain (the MNIST
# net's first conv has 1: im2col's 9-deep products are already tiny).
MIN_CHANNELS = 16


def applies(kernel, stride, dilation, groups, out, channels):
    """Whether a conv of these shapes goes this way: 3x3, stride 1, no dilation, one group,
    an even output (whole 2x2 tiles) and enough input channels."""
    return (tuple(kernel) == (3, 3) and tuple(stride) == (1, 1) and tuple(dilation) == (1, 1)
            and groups == 1 and out[0] % 2 == 0 and out[1] % 2 == 0
            and channels >= MIN_CHANNELS)


def filters(w):
    """U (16, O, C) = G w G^T for every (output, input) channel pair of w (O, C, 3, 3), in
    float64 then rounded once."""
    u = np.einsum("ai,ocij,bj->aboc", _G, w.astype(np.float64), _G, optimize=True)
    return np.ascontiguousarray(u.reshape(16, w.shape[0], w.shape[1]), dtype=np.float32)


@jit
def _input_tiles(x, n, tiles_h, tiles_w, v):
    """v[k, c, t] = (B^T d B)[k // 4, k % 4] for tile t = (th, tw) of sample n of x (N, C, H, W),
    d = x[n, c, 2 th : 2 th + 4, 2 tw : 2 tw + 4]; unsigned flat offsets (no wraparound
    checks). NOTE: a tile at a time, scalar code; written as whole-row passes that vectorise
    (one store stream a loop), it was slower: rows of 12 tiles leave mostly loop overhead
    (the cnn's second conv, 64 samples: 1.7 ms this way, 2.0 that)."""
    wide_vectors()
    u = np.uint64
    channels, height, width = x.shape[1], x.shape[2], x.shape[3]
    flat_x, flat_v = x.reshape(-1), v.reshape(-1)
    tiles = tiles_h * tiles_w
    stride_k = u(channels * tiles)
    for c in range(channels):
        plane = u((n * channels + c) * height * width)
        for th in range(tiles_h):
            into = u(c * tiles + th * tiles_w)
            for tw in range(tiles_w):
                r0 = plane + u(2 * th * width + 2 * tw)
                r1 = r0 + u(width)
                r2 = r1 + u(width)
                r3 = r2 + u(width)
                # P = B^T d, one column j at a time
                p00 = flat_x[r0] - flat_x[r2]
                p01 = flat_x[r0 + u(1)] - flat_x[r2 + u(1)]
                p02 = flat_x[r0 + u(2)] - flat_x[r2 + u(2)]
                p03 = flat_x[r0 + u(3)] - flat_x[r2 + u(3)]
                p10 = flat_x[r1] + flat_x[r2]
                p11 = flat_x[r1 + u(1)] + flat_x[r2 + u(1)]
                p12 = flat_x[r1 + u(2)] + flat_x[r2 + u(2)]
                p13 = flat_x[r1 + u(3)] + flat_x[r2 + u(3)]
                p20 = flat_x[r2] - flat_x[r1]
                p21 = flat_x[r2 + u(1)] - flat_x[r1 + u(1)]
                p22 = flat_x[r2 + u(2)] - flat_x[r1 + u(2)]
                p23 = flat_x[r2 + u(3)] - flat_x[r1 + u(3)]
                p30 = flat_x[r1] - flat_x[r3]
                p31 = flat_x[r1 + u(1)] - flat_x[r3 + u(1)]
                p32 = flat_x[r1 + u(2)] - flat_x[r3 + u(2)]
                p33 = flat_x[r1 + u(3)] - flat_x[r3 + u(3)]
                # V = P B
                t = into + u(tw)
                flat_v[t] = p00 - p02
                flat_v[t + stride_k] = p01 + p02
                flat_v[t + u(2) * stride_k] = p02 - p01
                flat_v[t + u(3) * stride_k] = p01 - p03
                flat_v[t + u(4) * stride_k] = p10 - p12
                flat_v[t + u(5) * stride_k] = p11 + p12
                flat_v[t + u(6) * stride_k] = p12 - p11
                flat_v[t + u(7) * stride_k] = p11 - p13
                flat_v[t + u(8) * stride_k] = p20 - p22
                flat_v[t + u(9) * stride_k] = p21 + p22
                flat_v[t + u(10) * stride_k] = p22 - p21
                flat_v[t + u(11) * stride_k] = p21 - p23
                flat_v[t + u(12) * stride_k] = p30 - p32
                flat_v[t + u(13) * stride_k] = p31 + p32
                flat_v[t + u(14) * stride_k] = p32 - p31
                flat_v[t + u(15) * stride_k] = p31 - p33


@jit
def _output_tiles(m, bias, n, tiles_h, tiles_w, y):
    """y[n, o, 2 th : 2 th + 2, 2 tw : 2 tw + 2] = A^T M A + bias[o], M[k // 4, k % 4] =
    m[k, o, t] for tile t = (th, tw); m is overwritten. In three passes: Z = A^T M, then Z A,
    each a few whole planes of m (O x T, contiguous) combined into one of them, then the four
    2x2 positions copied into y's rows. NOTE: a tile at a time (16 planes read, 4 places of y
    written per step) did not vectorise: 2.6 ms for the cnn's second conv, 64 samples."""
    wide_vectors()
    u = np.uint64
    outputs, height, width = y.shape[1], y.shape[2], y.shape[3]
    flat_m, flat_y = m.reshape(-1), y.reshape(-1)
    tiles = tiles_h * tiles_w
    size = outputs * tiles
    for j in range(4):  # Z[0, j] into plane j, Z[1, j] into plane 4 + j (its M[1, j]'s)
        p0, p1, p2, p3 = u(j * size), u((4 + j) * size), u((8 + j) * size), u((12 + j) * size)
        for e in range(size):
            a, b, c = flat_m[p1 + u(e)], flat_m[p2 + u(e)], flat_m[p3 + u(e)]
            flat_m[p0 + u(e)] += a + b
            flat_m[p1 + u(e)] = a - b - c
    for i in range(2):  # Y[i, 1] into plane 4i + 3 first (it reads Z[i, 1..3]), Y[i, 0] into 4i
        z0, z1, z2, z3 = u(4 * i * size), u((4 * i + 1) * size), u((4 * i + 2) * size), \
            u((4 * i + 3) * size)
        for e in range(size):
            a, b = flat_m[z1 + u(e)], flat_m[z2 + u(e)]
            flat_m[z3 + u(e)] = a - b - flat_m[z3 + u(e)]
            flat_m[z0 + u(e)] += a + b
    for o in range(outputs):
        bias_o = bias[o]
        plane = u((n * outputs + o) * height * width)
        for th in range(tiles_h):
            source = u(o * tiles + th * tiles_w)
            row = plane + u(2 * th * width)
            for tw in range(tiles_w):
                t = source + u(tw)
                at = row + u(2 * tw)
                flat_y[at] = flat_m[t] + bias_o
                flat_y[at + u(1)] = flat_m[u(3 * size) + t] + bias_o
                flat_y[at + u(width)] = flat_m[u(4 * size) + t] + bias_o
                flat_y[at + u(width + 1)] = flat_m[u(7 * size) + t] + bias_o


@jit
def _gradient_tiles(dy, n, tiles_h, tiles_w, m, by_tile):
    """m[k, o, t] = (A e A^T)[k // 4, k % 4] for the 2x2 block e of sample n of dy (N, O, OH,
    OW) at tile t = (th, tw), or m[k, t, o] if ``by_tile``: the adjoint of ``_output_tiles``,
    in its passes backwards (the four places of each block gathered into planes 0, 1, 4, 5,
    then A's rows, then its columns), so that the loops over whole planes vectorise. By tile
    (channels along the rows) for the weight gradient, whose GEMMs (C x T) @ (T x O) then read
    both operands contiguous (measured, 64 samples' GEMMs 4.1 ms, 8.2 with a transposed
    view)."""
    wide_vectors()
    u = np.uint64
    outputs, height, width = dy.shape[1], dy.shape[2], dy.shape[3]
    flat_m, flat_dy = m.reshape(-1), dy.reshape(-1)
    tiles = tiles_h * tiles_w
    size = outputs * tiles
    sample = u(n * outputs * height * width)
    plane = u(height * width)
    if by_tile:
        for th in range(tiles_h):  # (channels innermost: written in order, each line of dy
            for tw in range(tiles_w):  # read for 8 tiles in a row while in the first cache)
                corner = sample + u(2 * th * width + 2 * tw)
                into = u((th * tiles_w + tw) * outputs)
                for o in range(outputs):
                    t = into + u(o)
                    at = corner + u(o) * plane
                    flat_m[t] = flat_dy[at]
                    flat_m[u(size) + t] = flat_dy[at + u(1)]
                    flat_m[u(4 * size) + t] = flat_dy[at + u(width)]
                    flat_m[u(5 * size) + t] = flat_dy[at + u(width + 1)]
    else:
        for o in range(outputs):
            for th in range(tiles_h):
                row = sample + u(o) * plane + u(2 * th * width)
                into = u(o * tiles + th * tiles_w)
                for tw in range(tiles_w):
                    t = into + u(tw)
                    at = row + u(2 * tw)
                    flat_m[t] = flat_dy[at]
                    flat_m[u(size) + t] = flat_dy[at + u(1)]
                    flat_m[u(4 * size) + t] = flat_dy[at + u(width)]
                    flat_m[u(5 * size) + t] = flat_dy[at + u(width + 1)]
    for i in range(2):  # Z[i] = A Y[i]: (y0, y0 + y1, y0 - y1, -y1), in planes 4i .. 4i + 3
        z0, z1, z2, z3 = u(4 * i * size), u((4 * i + 1) * size), u((4 * i + 2) * size), \
            u((4 * i + 3) * size)
        for e in range(size):
            a, b = flat_m[z0 + u(e)], flat_m[z1 + u(e)]
            flat_m[z1 + u(e)] = a + b
            flat_m[z2 + u(e)] = a - b
            flat_m[z3 + u(e)] = -b
    for j in range(4):  # M[:, j] = A Z[:, j], in planes j, 4 + j, 8 + j, 12 + j
        p0, p1, p2, p3 = u(j * size), u((4 + j) * size), u((8 + j) * size), u((12 + j) * size)
        for e in range(size):
            a, b = flat_m[p0 + u(e)], flat_m[p1 + u(e)]
            flat_m[p1 + u(e)] = a + b
            flat_m[p2 + u(e)] = a - b
            flat_m[p3 + u(e)] = -b


@jit
def _input_tiles_adjoint(v, n, tiles_h, tiles_w, dx):
    """dx[n, c, 2 th : 2 th + 4, 2 tw : 2 tw + 4] += B V B^T, V[k // 4, k % 4] = v[k, c, t]
    for tile t = (th, tw): the adjoint of ``_input_tiles`` (overlapping tiles add up). B's
    rows are B^T's columns: (1, 0, 0, 0), (0, 1, -1, 1), (-1, 1, 1, 0), (0, 0, 0, -1)."""
    wide_vectors()
    u = np.uint64
    channels, height, width = dx.shape[1], dx.shape[2], dx.shape[3]
    flat_v, flat_dx = v.reshape(-1), dx.reshape(-1)
    tiles = tiles_h * tiles_w
    stride_k = u(channels * tiles)
    for c in range(channels):
        plane = u((n * channels + c) * height * width)
        for th in range(tiles_h):
            source = u(c * tiles + th * tiles_w)
            for tw in range(tiles_w):
                t = source + u(tw)
                r0 = plane + u(2 * th * width + 2 * tw)
                r1 = r0 + u(width)
                r2 = r1 + u(width)
                r3 = r2 + u(width)
                for j in range(4):  # column j of V: R = B V, then the row combination below
                    a = flat_v[t + u(j) * stride_k]
                    b = flat_v[t + u(4 + j) * stride_k]
                    c2 = flat_v[t + u(8 + j) * stride_k]
                    d = flat_v[t + u(12 + j) * stride_k]
                    if j == 0:
                        q0, q1, q2, q3 = a, b - c2 + d, b + c2 - a, -d
                    elif j == 1:
                        s0, s1, s2, s3 = a, b - c2 + d, b + c2 - a, -d
                    elif j == 2:
                        w0, w1, w2, w3 = a, b - c2 + d, b + c2 - a, -d
                    else:
                        e0, e1, e2, e3 = a, b - c2 + d, b + c2 - a, -d
                # d = R B^T: row r of d from row r of R = (q_r, s_r, w_r, e_r)
                flat_dx[r0] += q0
                flat_dx[r0 + u(1)] += s0 - w0 + e0
                flat_dx[r0 + u(2)] += s0 + w0 - q0
                flat_dx[r0 + u(3)] -= e0
                flat_dx[r1] += q1
                flat_dx[r1 + u(1)] += s1 - w1 + e1
                flat_dx[r1 + u(2)] += s1 + w1 - q1
                flat_dx[r1 + u(3)] -= e1
                flat_dx[r2] += q2
                flat_dx[r2 + u(1)] += s2 - w2 + e2
                flat_dx[r2 + u(2)] += s2 + w2 - q2
                flat_dx[r2 + u(3)] -= e2
                flat_dx[r3] += q3
                flat_dx[r3 + u(1)] += s3 - w3 + e3
                flat_dx[r3 + u(2)] += s3 + w3 - q3
                flat_dx[r3 + u(3)] -= e3


def weight_gradient(products, w_shape):
    """dw (O, C, 3, 3) = G^T Q G from the summed products Q (16, C, O) of the input's and
    the gradient's transformed tiles (the adjoint of ``filters``), in float64."""
    q = products.astype(np.float64).reshape((4, 4) + (w_shape[1], w_shape[0]))
    return np.einsum("ai,abco,bj->ocij", _G, q, _G, optimize=True).astype(np.float32).reshape(
        w_shape)


class Tiles:
    """One call's work: the filters' transforms, and per thread the buffers of one sample's
    transformed input and products."""

    def __init__(self, w_shape, out, w=None):
        self.u = None if w is None else filters(w)
        self.ut = None if w is None else np.ascontiguousarray(self.u.transpose(0, 2, 1))
        self.outputs, self.channels = w_shape[:2]
        self.tiles_h, self.tiles_w = out[0] // 2, out[1] // 2
        self.tiles = self.tiles_h * self.tiles_w

    def buffers(self):
        return (np.empty((16, self.channels, self.tiles), np.float32),
                np.empty((16, self.outputs, self.tiles), np.float32))

    def sample(self, matmul, x, n, bias, y, buffers):
        """y[n] (O, OH, OW) from x[n] (C, OH + 2, OW + 2), bias (O,) added; ``matmul`` as
        ``threads.parallel_claims`` gives it."""
        v, m = buffers
        _input_tiles(x, n, self.tiles_h, self.tiles_w, v)
        matmul(self.u, v, m)  # (16 GEMMs: NumPy's stacked matmul calls BLAS for each)
        _output_tiles(m, bias, n, self.tiles_h, self.tiles_w, y)

    def sample_weight_gradient(self, matmul, x, dy, n, total, buffers):
        """total (16, C, O) += sample n's products of x's and dy's transformed tiles."""
        v, m = buffers
        _input_tiles(x, n, self.tiles_h, self.tiles_w, v)
        _gradient_tiles(dy, n, self.tiles_h, self.tiles_w, m, True)
        total += matmul(v, m.reshape(16, self.tiles, self.outputs), None)

    def sample_input_gradient(self, matmul, dy, n, dx, buffers):
        """dx[n] (C, OH + 2, OW + 2) = the adjoint of the forward in x at sample n of dy: dy's
        tiles transformed (as for the weight gradient), times U^T, the input transform's
        adjoint added into dx[n] (zeroed here)."""
        v, m = buffers
        _gradient_tiles(dy, n, self.tiles_h, self.tiles_w, m, False)
        matmul(self.ut, m, v)
        dx[n] = 0.0
        _input_tiles_adjoint(v, n, self.tiles_h, self.tiles_w, dx)
