"""Exponentials, logarithms and weighted sums that give the same bits on every CPU.

numpy's `exp`, `log` and `power` dispatch to SIMD kernels chosen by the CPU at run time
(AVX-512 has float64 kernels of its own), and those kernels differ from each other and from
the C library in the last bit. In the model such a bit decides discrete outcomes (a dwell
time that ends before or after a bus, a weighted draw on its boundary) and ends up in every
float metric. These functions use only the basic IEEE-754 operations (add, multiply,
divide, rint, ldexp, frexp), which are correctly rounded and so identical on every x86-64
and ARM machine, whatever numpy dispatches. Accuracy: within 3 ulp of the true value
(tested against `math`), far finer than any parameter of the model.

Every model module takes its exponentials, logarithms and powers from here;
`tests/test_portable.py` checks that none calls numpy's or the C library's.
"""

from __future__ import annotations

import math

import numpy as np

# ln 2 split in two (Cody and Waite 1980): the high part has 11 trailing zero bits, so
# k x LN2_HI is exact for |k| < 2**11 and the reduction loses nothing.
LN2_HI = float.fromhex("0x1.62e42fee00000p-1")
LN2_LO = float.fromhex("0x1.a39ef35793c76p-33")
INV_LN2 = float.fromhex("0x1.71547652b82fep+0")
EXP_MAX, EXP_MIN = 709.0, -746.0  # e**-746 underflows to 0

# 1/n! for the Taylor series of exp on |r| <= ln2/2 (truncation error below 1e-17)
_EXP_TERMS = 14
_INV_FACTORIAL = [1.0]
for _n in range(1, _EXP_TERMS):
    _INV_FACTORIAL.append(_INV_FACTORIAL[-1] / _n)
_EXP_COEF = tuple(reversed(_INV_FACTORIAL))

# 2/(2n+1) for log(m) = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172 (error below 1e-17)
_LOG_TERMS = 11
_LOG_COEF = tuple(reversed([2.0 / (2 * n + 1) for n in range(_LOG_TERMS)]))
SQRT_HALF = float.fromhex("0x1.6a09e667f3bcdp-1")


def _horner(coef: tuple[float, ...], z):
    acc = coef[0]
    for c in coef[1:]:
        acc = acc * z + c
    return acc


def exp(x: np.ndarray | float) -> np.ndarray | float:
    """e**x, the same bits on every CPU (an array for an array, a float for a float)."""
    if isinstance(x, np.ndarray):
        return _exp_array(x)
    x = min(max(float(x), EXP_MIN), EXP_MAX)
    if math.isnan(x):
        return x
    k = round(x * INV_LN2)
    r = (x - k * LN2_HI) - k * LN2_LO
    half = k // 2
    return math.ldexp(math.ldexp(_horner(_EXP_COEF, r), half), k - half)


USUAL = 700.0  # |x| below this: e**x is a normal float, scaled by 2**k in one exact step
SMALL = 16  # arrays up to this size go element by element: faster than the array path's calls
CHUNK = 8192  # elements per block: the series' dozen passes then stay in the CPU's cache


def _exp_array(x: np.ndarray) -> np.ndarray:
    if x.size <= SMALL:
        return np.array([exp(v) for v in x.ravel().tolist()]).reshape(x.shape)
    flat = x.astype(np.float64, copy=False).ravel()
    out = np.empty(flat.size)
    for start in range(0, flat.size, CHUNK):
        out[start : start + CHUNK] = _exp_chunk(flat[start : start + CHUNK])
    return out.reshape(x.shape)


def _exp_chunk(x: np.ndarray) -> np.ndarray:
    """The array exp of one block: the same operations in the same order, done in place.

    The block's least and largest values (NaN if any is) choose the path: the usual block
    is already within the clipping bounds and far from the subnormal range, so the passes
    that clip, carry NaN and scale in two steps are skipped; scaling in one step by a power
    of two is then exact, as the two steps are.
    """
    usual = float(x.min()) > -USUAL and float(x.max()) < USUAL  # False for a NaN
    nan = None if usual else np.isnan(x)
    has_nan = nan is not None and bool(nan.any())
    if not usual:
        x = np.clip(np.where(nan, 0.0, x) if has_nan else x, EXP_MIN, EXP_MAX)
    k = np.rint(x * INV_LN2)
    r = (x - k * LN2_HI) - k * LN2_LO
    acc = r * _EXP_COEF[0]
    acc += _EXP_COEF[1]
    for c in _EXP_COEF[2:]:  # Horner's rule, one rounding per multiply and per add
        acc *= r
        acc += c
    if usual:
        return np.ldexp(acc, k.astype(np.int32), out=acc)
    # two steps so that results near the subnormal range do not overflow the scale factor
    half = np.floor(k * 0.5)
    out = np.ldexp(np.ldexp(acc, half.astype(np.int32)), (k - half).astype(np.int32))
    return np.where(nan, np.nan, out) if has_nan else out


def log(x: float) -> float:
    """Natural logarithm of x > 0, the same bits on every CPU."""
    if not x > 0.0:
        raise ValueError(f"log of {x!r}: the model takes logarithms of positive numbers only")
    if x == math.inf:
        return x
    m, e = math.frexp(x)  # x = m * 2**e, 0.5 <= m < 1
    if m < SQRT_HALF:
        m, e = m * 2.0, e - 1
    s = (m - 1.0) / (m + 1.0)
    return e * LN2_HI + (s * _horner(_LOG_COEF, s * s) + e * LN2_LO)


def power(base: float, exponent: np.ndarray | float) -> np.ndarray | float:
    """base**exponent for 0 <= base, the same bits on every CPU (0**0 is 1)."""
    if base == 0.0:
        zero = np.asarray(exponent) == 0
        return np.where(zero, 1.0, 0.0) if isinstance(exponent, np.ndarray) else float(zero)
    return exp(exponent * log(base))


def weighted_sum(values: np.ndarray, weights: np.ndarray) -> float:
    """Sum of values x weights in numpy's fixed pairwise order.

    A BLAS dot product (`@`) adds in an order that depends on the CPU.
    """
    return float(np.sum(values * weights))


def hypot(dx: np.ndarray | float, dy: np.ndarray | float) -> np.ndarray | float:
    """sqrt(dx**2 + dy**2) from correctly rounded operations (the C library's hypot varies)."""
    return np.sqrt(dx * dx + dy * dy)
