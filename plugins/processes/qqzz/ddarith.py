"""Double-double (dd) arithmetic in numba: real and complex numbers to ~32 significant digits.

Conventions
-----------
* A dd real is a tuple ``(hi, lo)`` of float64 with ``|lo| <= ulp(hi) / 2`` (normalised), value
  ``hi + lo``; a dd complex is a tuple ``(re_hi, re_lo, im_hi, im_lo)``.
* ``two_prod`` uses the hardware fused multiply-add (LLVM ``llvm.fma.f64``; a libm call where
  the CPU has none), ``two_sum`` is Knuth's branch-free error-free sum. ``dd_add`` is the
  "sloppy" dd addition (error a few 1e-32 of ``|a| + |b|``: a cancellation loses digits as
  in 106-bit arithmetic, which is what the digit-loss estimates assume),
  ``dd_add_accurate`` the "IEEE" one (a few 1e-32 of the result); multiplication and
  division have a relative error of a few 1e-32.
* Elementary functions take and return dd reals: ``dd_log`` (atanh series after reduction to
  [1/sqrt 2, sqrt 2]), ``dd_log1p``, ``dd_sqrt`` (one Newton step from float64), ``dd_li2``
  (real dilogarithm for arguments <= 1: Bernoulli series in ``-ln(1 - x)`` on [-1, 1/2],
  inversion and reflection elsewhere), ``dd_cos_sin_2pi`` (``cos``/``sin`` of ``2 pi u``
  with the argument reduced exactly to ``|2 pi r| <= pi / 4``).
* Constants (pi, ln 2, zeta(2), series coefficients) are rounded from 50-digit mpmath values
  to dd at import time.

All functions are pure, compiled with ``cache=True`` and inlined into their callers.
"""

from __future__ import annotations

import math
from fractions import Fraction
from math import factorial

import mpmath
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def _fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (LLVM ``llvm.fma.f64``)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], ir.FunctionType(d, [d, d, d]))
        return builder.call(fn, args)

    return sig, codegen


def _dd_const(v) -> tuple[float, float]:
    """A 50-digit mpmath number (or a Fraction) rounded to dd."""
    with mpmath.workdps(50):
        if isinstance(v, Fraction):
            v = mpmath.mpf(v.numerator) / v.denominator
        hi = float(v)
        lo = float(v - hi)
    return hi, lo


with mpmath.workdps(50):
    PI = _dd_const(mpmath.pi)
    TWO_PI = _dd_const(2 * mpmath.pi)
    LN2 = _dd_const(mpmath.log(2))
    ZETA2 = _dd_const(mpmath.zeta(2))

_PI_H, _PI_L = PI
_2PI_H, _2PI_L = TWO_PI
_LN2_H, _LN2_L = LN2
_Z2_H, _Z2_L = ZETA2

#: atanh series: 1 / (2k + 1), k = 0 .. 29 (|t| <= 0.25: remainder < 1e-36)
_N_ATANH = 30
_ATANH = np.array([_dd_const(Fraction(1, 2 * k + 1)) for k in range(_N_ATANH)])


def _bernoulli(n: int) -> list[Fraction]:
    """Bernoulli numbers B_0 .. B_n (B_1 = -1/2), exact:
    ``B_m = -1/(m+1) sum_{k<m} C(m+1, k) B_k``."""
    from math import comb

    b = [Fraction(1)]
    for m in range(1, n + 1):
        b.append(-sum(comb(m + 1, k) * b[k] for k in range(m)) / (m + 1))
    return b


#: dilogarithm: Li2(x) = u - u^2/4 + sum_k B_2k u^(2k+1) / (2k+1)!, u = -ln(1 - x);
#: coefficients B_2k / (2k+1)! for k = 1 .. 22 (|u| <= ln 2: remainder < 1e-40)
_N_LI2 = 22
_B = _bernoulli(2 * _N_LI2)
_LI2 = np.array(
    [
        _dd_const(_B[2 * k] / factorial(2 * k + 1))
        for k in range(1, _N_LI2 + 1)
    ]
)
#: (log1p(w) - w) / w^2 = sum_k (-1)^(k+1) w^k / (k + 2), k = 0 .. 35 (|w| < 0.1)
_N_L1 = 36
_L1 = np.array([_dd_const(Fraction((-1) ** (k + 1), k + 2)) for k in range(_N_L1)])
#: sin/cos Taylor coefficients 1/n!, n = 0 .. 29 (|theta| <= pi/4)
_N_TRIG = 30
_INVFACT = np.array(
    [_dd_const(Fraction(1, factorial(n))) for n in range(_N_TRIG)]
)

_JIT = dict(cache=True, error_model="numpy")

# ------------------------------------------------------------------------------------------
# error-free transformations and dd reals
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly."""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    return s, e


@njit(**_JIT)
def quick_two_sum(a, b):
    """As :func:`two_sum` for ``|a| >= |b|``."""
    s = a + b
    return s, b - (s - a)


@njit(**_JIT)
def two_prod(a, b):
    """``(p, e)`` with ``p = fl(a b)`` and ``p + e = a b`` exactly (FMA)."""
    p = a * b
    return p, _fma(a, b, -p)


@njit(**_JIT)
def dd(a):
    """A float64 as a dd real."""
    return (a, 0.0)


@njit(**_JIT)
def dd_add_accurate(a, b):
    """``a + b`` with a relative error of a few 1e-32 of the result (the "IEEE" dd addition)."""
    s, e = two_sum(a[0], b[0])
    t, f = two_sum(a[1], b[1])
    e += t
    s, e = quick_two_sum(s, e)
    e += f
    return quick_two_sum(s, e)


@njit(**_JIT)
def dd_add(a, b):
    """``a + b`` (the "sloppy" dd addition: error a few 1e-32 of ``|a| + |b|``, i.e. like
    106-bit arithmetic that rounds both operands; half the operations of
    :func:`dd_add_accurate`)."""
    s, e = two_sum(a[0], b[0])
    e += a[1] + b[1]
    return quick_two_sum(s, e)


@njit(**_JIT)
def dd_neg(a):
    return (-a[0], -a[1])


@njit(**_JIT)
def dd_sub(a, b):
    return dd_add(a, (-b[0], -b[1]))


@njit(**_JIT)
def dd_add_d(a, b):
    """dd ``a`` + float64 ``b``."""
    s, e = two_sum(a[0], b)
    e += a[1]
    return quick_two_sum(s, e)


@njit(**_JIT)
def dd_mul(a, b):
    p = a[0] * b[0]
    e = _fma(a[0], b[0], -p)
    e = _fma(a[0], b[1], e)
    e = _fma(a[1], b[0], e)
    return quick_two_sum(p, e)


@njit(**_JIT)
def dd_mul_d(a, b):
    """dd ``a`` times float64 ``b``."""
    p, e = two_prod(a[0], b)
    e += a[1] * b
    return quick_two_sum(p, e)


@njit(**_JIT)
def dd_div(a, b):
    q1 = a[0] / b[0]
    r = dd_sub(a, dd_mul_d(b, q1))
    q2 = r[0] / b[0]
    r = dd_sub(r, dd_mul_d(b, q2))
    q3 = r[0] / b[0]
    q = quick_two_sum(q1, q2)
    return dd_add_d(q, q3)


@njit(**_JIT)
def dd_inv(b):
    return dd_div((1.0, 0.0), b)


@njit(**_JIT)
def dd_sqr(a):
    return dd_mul(a, a)


@njit(**_JIT)
def dd_sqrt(a):
    """``sqrt(a)`` for ``a >= 0`` (0 for a = 0, NaN below)."""
    if a[0] == 0.0:
        return (0.0, 0.0)
    if a[0] < 0.0:
        return (np.nan, np.nan)
    x = 1.0 / np.sqrt(a[0])
    y = a[0] * x
    p, e = two_prod(y, y)
    r = dd_sub(a, (p, e))
    return dd_add_d((y, 0.0), r[0] * (0.5 * x))


@njit(**_JIT)
def dd_ldexp(a, e):
    """``a * 2**e`` (exact)."""
    return (math.ldexp(a[0], e), math.ldexp(a[1], e))


@njit(**_JIT)
def dd_gt0(a):
    return a[0] > 0.0


@njit(**_JIT)
def dd_abs(a):
    return (-a[0], -a[1]) if a[0] < 0.0 else a


@njit(**_JIT)
def dd_round(a):
    """The float64 nearest to ``a``."""
    return a[0] + a[1]


# ------------------------------------------------------------------------------------------
# elementary functions
# ------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _atanh_series(t):
    """``S(t) = sum_k t^(2k) / (2k + 1)`` so that ``atanh(t) = t S(t)`` (|t| <= 0.25)."""
    t2 = dd_mul(t, t)
    acc = (_ATANH[_N_ATANH - 1, 0], _ATANH[_N_ATANH - 1, 1])
    for k in range(_N_ATANH - 2, -1, -1):
        acc = dd_add(dd_mul(acc, t2), (_ATANH[k, 0], _ATANH[k, 1]))
    return acc


@njit(cache=True, error_model="numpy")
def dd_log(a):
    """Natural logarithm of a dd real ``a > 0``."""
    if not a[0] > 0.0:
        return (np.nan, np.nan)
    mant, ex = math.frexp(a[0])
    if mant < 0.7071067811865476:
        ex -= 1
    m = dd_ldexp(a, -ex)  # in [1/sqrt 2, sqrt 2)
    t = dd_div(dd_add_d(m, -1.0), dd_add_d(m, 1.0))
    lm = dd_ldexp(dd_mul(t, _atanh_series(t)), 1)
    return dd_add(dd_mul_d((_LN2_H, _LN2_L), float(ex)), lm)


@njit(cache=True, error_model="numpy")
def dd_log1p_over(v):
    """``log1p(v) / v`` for a dd real ``v > -1`` (1 at v = 0), without cancellation."""
    if v[0] == 0.0:
        return (1.0, 0.0)
    if abs(v[0]) < 0.4:  # t = v / (2 + v), |t| < 0.25: log1p(v) / v = 2 S(t) / (2 + v)
        tw = dd_add_d(v, 2.0)
        t = dd_div(v, tw)
        return dd_div(dd_ldexp(_atanh_series(t), 1), tw)
    return dd_div(dd_log(dd_add_d(v, 1.0)), v)


@njit(cache=True, error_model="numpy")
def dd_log1p(v):
    """``log1p(v)`` for a dd real ``v > -1``."""
    return dd_mul(v, dd_log1p_over(v))


@njit(cache=True, error_model="numpy")
def dd_l1_series(w):
    """``(log1p(w) - w) / w^2`` for a dd real ``w > -1`` (series for |w| < 0.1, -1/2 at 0)."""
    if abs(w[0]) < 0.1:
        acc = (_L1[_N_L1 - 1, 0], _L1[_N_L1 - 1, 1])
        for k in range(_N_L1 - 2, -1, -1):
            acc = dd_add(dd_mul(acc, w), (_L1[k, 0], _L1[k, 1]))
        return acc
    return dd_div(dd_sub(dd_log1p(w), w), dd_mul(w, w))


@njit(cache=True, error_model="numpy")
def _li2_core(x):
    """``Li2(x)`` for ``-1 <= x <= 1/2`` (Bernoulli series in ``u = -log1p(-x)``)."""
    u = dd_neg(dd_log1p(dd_neg(x)))
    u2 = dd_mul(u, u)
    acc = (_LI2[_N_LI2 - 1, 0], _LI2[_N_LI2 - 1, 1])
    for k in range(_N_LI2 - 2, -1, -1):
        acc = dd_add(dd_mul(acc, u2), (_LI2[k, 0], _LI2[k, 1]))
    # u - u^2/4 + u^3 acc
    res = dd_mul(dd_mul(u2, u), acc)
    res = dd_add(res, dd_mul_d(u2, -0.25))
    return dd_add(res, u)


@njit(cache=True, error_model="numpy")
def dd_li2_pair(x, omx):
    """Real dilogarithm ``Li2(x)`` for a dd real ``x <= 1`` given ``omx = 1 - x`` exactly
    (so that ``Li2`` near x = 1 keeps the digits of ``1 - x``)."""
    z2 = (_Z2_H, _Z2_L)
    if x[0] == 0.0:
        return (0.0, 0.0)
    if omx[0] == 0.0:
        return z2
    if x[0] < -1.0:
        # Li2(x) = -zeta2 - ln^2(-x) / 2 - Li2(1/x)
        lx = dd_log(dd_neg(x))
        ix = dd_inv(x)
        r = _li2_core(ix)
        return dd_sub(dd_sub(dd_neg(z2), dd_mul_d(dd_mul(lx, lx), 0.5)), r)
    if x[0] > 0.5:
        # Li2(x) = zeta2 - ln(x) ln(1 - x) - Li2(1 - x)
        r = _li2_core(omx)
        return dd_sub(dd_sub(z2, dd_mul(dd_log(x), dd_log(omx))), r)
    return _li2_core(x)


@njit(cache=True, error_model="numpy")
def dd_li2(x):
    """Real dilogarithm ``Li2(x)`` of a dd real ``x <= 1``."""
    return dd_li2_pair(x, dd_sub((1.0, 0.0), x))


@njit(cache=True, error_model="numpy")
def dd_cos_sin_2pi(u):
    """``(cos(2 pi u), sin(2 pi u))`` of a dd real ``u``: ``u = j/4 + r`` with ``|r| <= 1/8``
    (exact subtraction), Taylor series of ``theta = 2 pi r``."""
    j = np.rint(4.0 * u[0])
    r = dd_add_d(u, -0.25 * j)
    th = dd_mul(r, (_2PI_H, _2PI_L))
    th2 = dd_mul(th, th)
    # cos = sum_k (-1)^k th^2k / (2k)!, sin = th sum_k (-1)^k th^2k / (2k+1)!, k <= K
    kmax = (_N_TRIG - 2) // 2
    sg = 1.0 if kmax % 2 == 0 else -1.0
    cs = (sg * _INVFACT[2 * kmax, 0], sg * _INVFACT[2 * kmax, 1])
    sn = (sg * _INVFACT[2 * kmax + 1, 0], sg * _INVFACT[2 * kmax + 1, 1])
    for kk in range(kmax - 1, -1, -1):
        sg = 1.0 if kk % 2 == 0 else -1.0
        cs = dd_add(dd_mul(cs, th2), (sg * _INVFACT[2 * kk, 0], sg * _INVFACT[2 * kk, 1]))
        sn = dd_add(dd_mul(sn, th2), (sg * _INVFACT[2 * kk + 1, 0], sg * _INVFACT[2 * kk + 1, 1]))
    sn = dd_mul(sn, th)
    q = int(j) % 4
    if q == 0:
        return cs, sn
    if q == 1:
        return dd_neg(sn), cs
    if q == 2:
        return dd_neg(cs), dd_neg(sn)
    return sn, dd_neg(cs)


# ------------------------------------------------------------------------------------------
# dd complex
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def c_make(re, im):
    """dd complex from two dd reals."""
    return (re[0], re[1], im[0], im[1])


@njit(**_JIT)
def c_re(z):
    return (z[0], z[1])


@njit(**_JIT)
def c_im(z):
    return (z[2], z[3])


@njit(**_JIT)
def c_add(a, b):
    r = dd_add((a[0], a[1]), (b[0], b[1]))
    i = dd_add((a[2], a[3]), (b[2], b[3]))
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_sub(a, b):
    r = dd_sub((a[0], a[1]), (b[0], b[1]))
    i = dd_sub((a[2], a[3]), (b[2], b[3]))
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_neg(a):
    return (-a[0], -a[1], -a[2], -a[3])


@njit(**_JIT)
def c_conj(a):
    return (a[0], a[1], -a[2], -a[3])


@njit(**_JIT)
def c_mul(a, b):
    ar, ai = (a[0], a[1]), (a[2], a[3])
    br, bi = (b[0], b[1]), (b[2], b[3])
    r = dd_sub(dd_mul(ar, br), dd_mul(ai, bi))
    i = dd_add(dd_mul(ar, bi), dd_mul(ai, br))
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_mul_dd(a, b):
    """dd complex ``a`` times dd real ``b``."""
    r = dd_mul((a[0], a[1]), b)
    i = dd_mul((a[2], a[3]), b)
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_mulf(a, f):
    """dd complex ``a`` times float64 ``f``."""
    r = dd_mul_d((a[0], a[1]), f)
    i = dd_mul_d((a[2], a[3]), f)
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_addf(a, f):
    """dd complex ``a`` plus float64 ``f``."""
    r = dd_add_d((a[0], a[1]), f)
    return (r[0], r[1], a[2], a[3])


@njit(**_JIT)
def c_inv(b):
    """``1 / b`` for a dd complex ``b``."""
    br, bi = (b[0], b[1]), (b[2], b[3])
    if bi[0] == 0.0:
        r = dd_inv(br)
        return (r[0], r[1], 0.0, 0.0)
    d = dd_inv(dd_add(dd_mul(br, br), dd_mul(bi, bi)))
    r = dd_mul(br, d)
    i = dd_neg(dd_mul(bi, d))
    return (r[0], r[1], i[0], i[1])


@njit(**_JIT)
def c_div(a, b):
    if b[2] == 0.0:
        return c_mul_dd(a, dd_inv((b[0], b[1])))
    return c_mul(a, c_inv(b))


@njit(**_JIT)
def c_fdiv(f, b):
    """float64 ``f`` divided by a dd complex ``b``."""
    return c_mulf(c_inv(b), f)


@njit(**_JIT)
def c_fsub(f, a):
    """float64 ``f`` minus a dd complex ``a``."""
    return c_addf(c_neg(a), f)


@njit(**_JIT)
def c_round(a):
    """The complex128 nearest to ``a``."""
    return complex(a[0] + a[1], a[2] + a[3])


# mixed dd complex / dd real operations (the real invariants of the generated kernels)


@njit(**_JIT)
def c_add_r(a, r):
    """dd complex ``a`` plus dd real ``r``."""
    x = dd_add((a[0], a[1]), r)
    return (x[0], x[1], a[2], a[3])


@njit(**_JIT)
def c_sub_r(a, r):
    """dd complex ``a`` minus dd real ``r``."""
    x = dd_sub((a[0], a[1]), r)
    return (x[0], x[1], a[2], a[3])


@njit(**_JIT)
def c_rsub(r, a):
    """dd real ``r`` minus dd complex ``a``."""
    x = dd_sub(r, (a[0], a[1]))
    return (x[0], x[1], -a[2], -a[3])


@njit(**_JIT)
def c_div_r(a, r):
    """dd complex ``a`` divided by dd real ``r``."""
    return c_mul_dd(a, dd_inv(r))


@njit(**_JIT)
def c_rdiv(r, a):
    """dd real ``r`` divided by dd complex ``a``."""
    return c_mul_dd(c_inv(a), r)


@njit(**_JIT)
def dd_fsub(f, r):
    """float64 ``f`` minus dd real ``r``."""
    return dd_add_d(dd_neg(r), f)


@njit(**_JIT)
def dd_fdiv(f, r):
    """float64 ``f`` divided by dd real ``r``."""
    return dd_div((f, 0.0), r)
