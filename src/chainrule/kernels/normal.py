"""The normal distribution's special functions on float arrays: erf, erfc and Phi (``ndtr``).

This is the reference the ops compute with (``ops/activation.py``'s GELU and ndtr,
``ops/math.py``'s erf and erfc, ``nn.init.trunc_normal_``) and the one home of the float32
fit that the compiled GELU kernel (``kernels/activation.py``) shares. It knows only NumPy.

- float64 and other dtypes: erf and erfc by the rational approximations of the Cephes library.
- float32: Phi(x) by one branch-free formula, erfc(z) = t exp(-z^2 + P(t)) with
  t = 1 / (1 + NDTR_FIT_SCALE z), whose polynomial P is our own minimax fit over the range
  float32 needs (|x| <= 20), derived by ``bench/fit_ndtr.py``: relative error of the fit below
  NDTR_FIT_BOUND, of the whole float32 formula below NDTR_FLOAT32_BOUND
  (``tests/ops/test_normal.py`` holds both, and that the coefficients are the script's).
"""

import math

import numpy as np

INV_SQRT_2 = 1.0 / math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# Rational approximations of erf and erfc from the Cephes library (S. L. Moshier, ndtr.c):
# relative error below 4e-16 in float64 over the whole real line (tests compare to math.erf).
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)
_ERFC_R = (5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
           6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0)
_ERFC_S = (1.0, 2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
           1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0)


def _polyval(coefficients, x):
    """Horner's rule, highest power first, in x's dtype."""
    result = np.full_like(x, coefficients[0])
    for c in coefficients[1:]:
        result *= x
        result += c
    return result


def erfc(x):
    """erfc(x) elementwise, in x's (floating) dtype, accurate in the tails too."""
    out = np.empty_like(x)
    ax = np.abs(x)
    small = ax < 1.0
    out[small] = 1.0 - _erf_near_zero(x[small])
    large = ~small  # NaN lands here and stays NaN
    x_large = x[large]
    a = np.minimum(ax[large], 30.0)  # erfc(30) underflows to 0; keeps inf out of P/Q
    with np.errstate(under="ignore"):
        ratio = np.empty_like(a)
        middle = a < 8.0
        ratio[middle] = _polyval(_ERFC_P, a[middle]) / _polyval(_ERFC_Q, a[middle])
        ratio[~middle] = _polyval(_ERFC_R, a[~middle]) / _polyval(_ERFC_S, a[~middle])
        erfc_abs = np.exp(-a * a) * ratio
    out[large] = np.where(x_large < 0, 2.0 - erfc_abs, erfc_abs)
    return out


def _erf_near_zero(x):
    """erf(x) for |x| < 1."""
    z = x * x
    return x * _polyval(_ERF_T, z) / _polyval(_ERF_U, z)


def erf(x):
    """erf(x) elementwise, in x's (floating) dtype."""
    out = np.empty_like(x)
    small = np.abs(x) < 1.0
    out[small] = _erf_near_zero(x[small])
    out[~small] = 1.0 - erfc(x[~small])
    return out


# Phi for float32: P(t), highest power first, t = 1 / (1 + NDTR_FIT_SCALE z), z = |x| / sqrt 2.
# Written by bench/fit_ndtr.py (degree 9, minimax on t in [0.1239, 1], i.e. |x| <= 20: largest
# error 6.0e-8). One formula, no branches to gather and scatter: about 3x cheaper than the
# rationals above.
NDTR_FIT_SCALE = 0.5
NDTR_FIT = (0.161376417355896, -0.77006276244174743, 1.3657516007034818, -0.97279946499021974,
            0.14670728088080204, -0.11813653230278651, 0.074691310528334248, 0.3783930027319185,
            0.99957216667266968, -1.265492958700529)
NDTR_FIT_BOUND = 6.1e-8  # largest error of the fit (of P; the relative error of Phi), float64
# largest relative error of ndtr_float32 where Phi(x) is a normal float32 (x >= -12.95): the
# fit's error plus float32 rounding (bench/fit_ndtr.py measures 5.2e-7)
NDTR_FLOAT32_BOUND = 6e-7


_BLOCK = 32768  # elements per pass: the dozen temporaries of a block stay in the CPU cache


def ndtr_float32(x, pdf=None):
    """Phi(x) = erfc(-x / sqrt 2) / 2 for a float32 array, within a few float32 ulps (relative,
    also in the left tail, where Phi(x) is tiny); phi(x) into ``pdf`` too if given."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    flat, flat_out = x.reshape(-1), out.reshape(-1)
    flat_pdf = pdf.reshape(-1) if pdf is not None else None
    with np.errstate(under="ignore"):
        for start in range(0, flat.size, _BLOCK):
            block = slice(start, start + _BLOCK)
            _ndtr_float32_block(flat[block], flat_out[block],
                                flat_pdf[block] if pdf is not None else None)
    return out


def _ndtr_float32_block(x, out, pdf):
    f = np.float32
    ax = np.abs(x)
    np.minimum(ax, f(20.0), out=ax)  # Phi(-20) underflows float32; NaN stays NaN
    t = ax * f(NDTR_FIT_SCALE * INV_SQRT_2)
    t += f(1.0)
    np.reciprocal(t, out=t)  # t = 1 / (1 + SCALE z), z = |x| / sqrt 2
    power = np.full_like(t, NDTR_FIT[0])
    for c in NDTR_FIT[1:]:
        power *= t
        power += f(c)
    np.exp(power, out=power)
    # exp(-x^2/2) loses ~x^2 ulps if x^2/2 is rounded: split x = high + low with 12 bits in high,
    # so high^2/2 is exact, and the rest r = high*low + low^2/2 is small (< 0.1 for |x| <= 20):
    # exp(-r) by five terms of its series.
    high = ax * f(4097.0)
    high -= high - ax
    rest = ax - high
    rest *= f(0.5)
    rest += high
    rest *= ax - high
    series = np.ones_like(rest)
    for k in (5.0, 4.0, 3.0, 2.0, 1.0):
        series *= rest
        series *= f(-1.0 / k)
        series += f(1.0)
    high *= high
    high *= f(-0.5)
    np.exp(high, out=high)
    high *= series  # = exp(-x^2 / 2)
    if pdf is not None:
        np.multiply(high, f(INV_SQRT_2PI), out=pdf)
    power *= high
    power *= t
    power *= f(0.5)  # = Phi(-|x|)
    # Phi(x) = Phi(-|x|) + [x >= 0] (1 - 2 Phi(-|x|)): exact in the left tail, and branch-free
    # (np.where or a masked ufunc costs as much as the two exps here)
    np.multiply(power, f(-2.0), out=out)
    out += f(1.0)
    out *= x >= 0
    out += power


def ndtr(x):
    """Phi(x) on arrays: float32 by ``ndtr_float32``, other dtypes by erfc."""
    if x.dtype == np.float32:
        return ndtr_float32(x)
    return 0.5 * erfc(x * -INV_SQRT_2)
