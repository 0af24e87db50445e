"""Derive the float32 fit of the normal CDF that chainrule's GELU and ndtr use.

    .venv/bin/python bench/fit_ndtr.py

For a = |x|, Phi(-a) = erfc(z) / 2 with z = a / sqrt 2. We write

    erfc(z) = t * exp(-z^2 + P(t)),    t = 1 / (1 + SCALE * z),

so that P(t) = log(erfc(z) / t) + z^2 is smooth and bounded on the range float32 needs
(a <= A_MAX = 20, where Phi(-20) = 2.8e-89 has long underflowed float32: t in [T_MIN, 1]),
and fit P by a polynomial of degree DEGREE. A relative error e in Phi is an absolute error
log(1 + e) ~ e in P, so the fit minimises the largest absolute error of P: least squares on
Chebyshev points, reweighted by Lawson's algorithm until the weighted fit is the minimax one.
The truth is Python's math.erfc in float64 (relative error ~1e-16, far below what is fitted).

DEGREE and SCALE: the smallest degree whose fit error is at float32's rounding (~6e-8
relative): degree 9 (6.0e-8 with SCALE = 1/2). Degree 8 reaches 9.3e-8 with SCALE = 0.4 (--scan
prints the error for each degree and scale), one multiply-add fewer, but the float32 formula
then errs by 6.4e-7 at worst instead of 5.2e-7, so degree 9 it is: as many operations as
Numerical Recipes' erfcc (the same form, SCALE = 1/2, fitted over the whole half-line to
1.2e-7), which the code used before, and as accurate or better at every percentile measured.

It prints the coefficients (highest power first) for ``chainrule/kernels/normal.py`` and the
error bounds that ``tests/ops/test_normal.py`` holds the library to.

``--mills`` fits the compiled GELU kernel's form instead (``chainrule/kernels/activation.py``):
erfc(z) = t exp(-z^2) Q(t), Q a polynomial of degree MILLS_DEGREE (the Mills ratio over t),
minimax in relative error. Its exp(-z^2) is the normal density's too, so the kernel's backward
needs one exp where the form above needs two. Degree 8 with SCALE = 1/2 errs by 4.4e-8.
"""

import argparse
import math

import numpy as np

DEGREE = 9
SCALE = 0.5
A_MAX = 20.0
POINTS = 1500  # Chebyshev points of the fit
ROUNDS = 60  # Lawson reweighting rounds


def t_min(scale=SCALE):
    return 1.0 / (1.0 + scale * A_MAX / math.sqrt(2.0))


def target(t, scale=SCALE):
    """P(t) = log(erfc(z) / t) + z^2 at the z where t = 1 / (1 + scale z)."""
    z = (1.0 / t - 1.0) / scale
    return np.array([math.log(math.erfc(zi) / ti) + zi * zi for zi, ti in zip(z, t)])


def fit(degree=DEGREE, scale=SCALE):
    """The minimax coefficients of P (highest power first) and the largest fit error."""
    low = t_min(scale)
    k = np.arange(POINTS)
    t = 0.5 * (1 + low) + 0.5 * (1 - low) * np.cos(np.pi * (k + 0.5) / POINTS)
    values = target(t, scale)
    powers = np.vander(t, degree + 1)
    weights = np.full(POINTS, 1.0 / POINTS)
    for _ in range(ROUNDS):  # Lawson: weight the points where the error is largest
        root = np.sqrt(weights)
        coefficients = np.linalg.lstsq(powers * root[:, None], values * root, rcond=None)[0]
        error = np.abs(powers @ coefficients - values)
        weights = weights * error
        weights /= weights.sum()
    dense = np.linspace(low, 1.0, 20001)
    worst = float(np.max(np.abs(np.polyval(coefficients, dense) - target(dense, scale))))
    return coefficients, worst


MILLS_DEGREE = 8


def mills_target(t, scale=SCALE):
    """Q(t) = erfc(z) / (t exp(-z^2)) at the z where t = 1 / (1 + scale z)."""
    z = (1.0 / t - 1.0) / scale
    return np.array([math.erfc(zi) / (ti * math.exp(-zi * zi)) for zi, ti in zip(z, t)])


def fit_mills(degree=MILLS_DEGREE, scale=SCALE):
    """The coefficients of Q (highest power first), minimax in relative error (Lawson, as
    ``fit``), and the largest relative error."""
    low = t_min(scale)
    k = np.arange(POINTS)
    t = 0.5 * (1 + low) + 0.5 * (1 - low) * np.cos(np.pi * (k + 0.5) / POINTS)
    values = mills_target(t, scale)
    powers = np.vander(t, degree + 1) / values[:, None]  # the fit of Q / Q to 1
    weights = np.full(POINTS, 1.0 / POINTS)
    for _ in range(ROUNDS):
        root = np.sqrt(weights)
        coefficients = np.linalg.lstsq(powers * root[:, None], root, rcond=None)[0]
        error = np.abs(powers @ coefficients - 1.0)
        weights = weights * error
        weights /= weights.sum()
    dense = np.linspace(low, 1.0, 20001)
    worst = float(np.max(np.abs(np.polyval(coefficients, dense) / mills_target(dense, scale)
                                - 1.0)))
    return coefficients, worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan", action="store_true", help="print the error for each scale")
    parser.add_argument("--mills", action="store_true",
                        help="fit the compiled GELU kernel's Q(t) instead")
    args = parser.parse_args()
    if args.mills:
        coefficients, worst = fit_mills()
        print(f"degree {MILLS_DEGREE}, scale {SCALE}: largest relative error of Q {worst:.3g}")
        print("MILLS_FIT = (" + ", ".join(f"{c:.17g}" for c in coefficients) + ")")
        return
    if args.scan:
        for degree in (7, 8, 9):
            for scale in np.arange(0.30, 0.605, 0.01):
                print(f"degree {degree}  scale {scale:.2f}  error {fit(degree, scale)[1]:.3g}")
    coefficients, worst = fit()
    print(f"degree {DEGREE}, scale {SCALE}, t in [{t_min():.6f}, 1]: largest error of P "
          f"(= relative error of Phi, in float64) {worst:.3g}")
    print("NDTR_FIT = (" + ", ".join(f"{c:.17g}" for c in coefficients) + ")")
    from chainrule.kernels import normal  # the float32 formula with these coefficients

    grid = np.linspace(-A_MAX, A_MAX, 400001).astype(np.float32)
    exact = 0.5 * np.array([math.erfc(-float(v) / math.sqrt(2.0)) for v in grid])
    fast = normal.ndtr(grid).astype(np.float64)
    normal_range = exact >= np.finfo(np.float32).tiny  # below it float32 has fewer digits
    relative = np.abs(fast - exact)[normal_range] / exact[normal_range]
    print(f"float32 formula in chainrule/kernels/normal.py: largest relative error of Phi "
          f"where it is a normal float32 (x >= {grid[normal_range].min():.4g}) "
          f"{relative.max():.3g}; largest absolute error below "
          f"{np.abs(fast - exact)[~normal_range].max():.3g}")


if __name__ == "__main__":
    main()
