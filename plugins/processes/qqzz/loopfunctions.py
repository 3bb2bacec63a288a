"""One-loop functions of Dixon-Kunszt-Signer (hep-ph/9803250, appendix; BDK hep-ph/9708239).

All functions are written in terms of Mandelstam invariants ``s`` with the Feynman
prescription ``s -> s + i0``, i.e. ``ln(-s) = ln|s| - i pi theta(s)``:

* ``log_ratio(a, b) = ln(-a) - ln(-b) = ln|a/b| - i pi (theta(a) - theta(b))``
  (DKS/BDK ``ln((-a)/(-b))``);
* ``l0(a, b, a - b) = L0(-a, -b) = ln((-a)/(-b)) / (1 - a/b)``;
* ``l1(a, b, a - b) = L1(-a, -b) = (L0(-a, -b) + 1) / (1 - a/b)``;
* ``ls2mh_t(s, t, m1sq, m2sq) = -Li2(1 - m1sq/t) - Li2(1 - m2sq/t)
  + 1/2 [ln((-s)/(-m1sq)) ln((-s)/(-m2sq)) - ln^2((-s)/(-t))]``: the two-mass-hard
  ``Ls_{-1}^{2mh}`` without its three-mass-triangle part (that part, with coefficient
  ``1/2 (s - m1sq - m2sq) + m1sq m2sq / t``, is absorbed into the coefficient of ``I3m``
  in the amplitude), dilogarithms continued with ``ratio -> ratio`` of ``(-m^2 - i0)/(-t - i0)``;
* ``i3m(s1, s2, s3) = int d^3a delta(1 - sum a) / (-a1 a2 s1 - a2 a3 s2 - a3 a1 s3 - i0)``,
  the massless three-mass triangle (BDK eq. II.9), here for **all three invariants positive**
  with ``sqrt(s1) >= sqrt(s2) + sqrt(s3)`` (the only case of q qbar -> Z Z: s12 >= (m1 + m2)^2),
  where it is real: ``i3m = -Phi(s2/s1, s3/s1) / s1`` with the Davydychev-Ussyukina function
  ``Phi(x, y) = [2 Li2(-rho x) + 2 Li2(-rho y) + ln(y/x) ln((1 + rho y)/(1 + rho x))
  + ln(rho x) ln(rho y) + pi^2/3] / lam``, ``lam = sqrt((1 - x - y)^2 - 4 x y)``,
  ``rho = 2 / (1 - x - y + lam)``. ``lam -> 0`` (the Gram determinant
  ``Delta_3 = s1^2 lam^2``) is a spurious 0/0: see :func:`i3m` and the rescue in
  :mod:`.amplitudes`.

Numpy versions take float64 arrays and return complex128 (float64 for :func:`i3m`); the
``mp_*`` versions take mpmath numbers (scalars) and serve the high-precision rescue.
"""

from __future__ import annotations

import mpmath
import numpy as np
from scipy.special import spence

PI = np.pi
ZETA2 = PI * PI / 6.0


def li2_real(z: np.ndarray) -> np.ndarray:
    """Real dilogarithm ``Li2(z)`` for real ``z <= 1`` (float64)."""
    return spence(1.0 - np.asarray(z, dtype=np.float64))


def log_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``ln((-a - i0)/(-b - i0))`` (complex128) for real invariants ``a``, ``b``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    im = -PI * ((a > 0.0).astype(np.float64) - (b > 0.0).astype(np.float64))
    return np.log(np.abs(a / b)) + 1j * im


_L0_SERIES = 18
_L1_SERIES = 20


def _log1p_over(v: np.ndarray) -> np.ndarray:
    """``log1p(v)/v`` for real ``v > -1`` with the limit 1 at ``v = 0``."""
    small = np.abs(v) < 1e-4
    vs = np.where(small, v, 0.0)
    series = 1.0 - vs / 2.0 + vs * vs / 3.0 - vs**3 / 4.0 + vs**4 / 5.0
    safe = np.where(small, 1.0, v)
    return np.where(small, series, np.log1p(np.where(small, 0.0, v)) / safe)


def _log1p_minus(w: np.ndarray) -> np.ndarray:
    """``(log1p(w) - w)/w^2`` for real ``w > -1``; series for ``|w| < 0.1``."""
    small = np.abs(w) < 0.1
    ws = np.where(small, w, 0.0)
    series = np.zeros_like(ws)
    for k in range(_L1_SERIES, -1, -1):
        series = series * ws + (-1.0) ** (k + 1) / (k + 2)
    safe = np.where(small, 1.0, w)
    direct = (np.log1p(np.where(small, 0.0, w)) - w) / (safe * safe)
    return np.where(small, series, direct)


def l0(a: np.ndarray, b: np.ndarray, a_minus_b: np.ndarray) -> np.ndarray:
    """``L0(-a, -b) = ln((-a)/(-b)) / (1 - a/b)`` (complex128); ``a_minus_b`` is ``a - b``
    computed without cancellation by the caller."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    v = np.asarray(a_minus_b, dtype=np.float64) / b  # a/b - 1
    same = (a > 0.0) == (b > 0.0)
    real = -_log1p_over(np.where(same, v, 0.0))
    cplx = log_ratio(a, b) / (-np.where(same, 1.0, v))
    return np.where(same, real + 0j, cplx)


def l1(a: np.ndarray, b: np.ndarray, a_minus_b: np.ndarray) -> np.ndarray:
    """``L1(-a, -b) = (L0(-a, -b) + 1) / (1 - a/b)`` (complex128); ``a_minus_b = a - b``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    w = np.asarray(a_minus_b, dtype=np.float64) / b  # a/b - 1 = -(1 - a/b)
    same = (a > 0.0) == (b > 0.0)
    real = _log1p_minus(np.where(same, w, 0.0))
    wd = np.where(same, 1.0, w)
    cplx = (log_ratio(a, b) / (-wd) + 1.0) / (-wd)
    return np.where(same, real + 0j, cplx)


def _li2_one_minus(m2: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``Li2(1 - (-m2 - i0)/(-t - i0))`` for ``m2 > 0`` and real ``t`` (complex128)."""
    r = m2 / t
    pos = r > 0.0
    rp = np.where(pos, r, 1.0)
    rn = np.where(pos, -1.0, r)
    val_pos = spence(rp) + 0j  # Li2(1 - r), r > 0
    val_neg = ZETA2 - spence(1.0 - rn) - log_ratio(m2, np.where(pos, -1.0, t)) * np.log1p(-rn)
    return np.where(pos, val_pos, val_neg)


def ls2mh_t(s: np.ndarray, t: np.ndarray, m1sq: np.ndarray, m2sq: np.ndarray) -> np.ndarray:
    """``Ls_{-1}^{2mh}(s, t; m1sq, m2sq)`` minus its ``I3m`` term (complex128); see module doc."""
    ls1 = log_ratio(s, m1sq)
    ls2 = log_ratio(s, m2sq)
    lst = log_ratio(s, t)
    return -_li2_one_minus(m1sq, t) - _li2_one_minus(m2sq, t) + 0.5 * (ls1 * ls2 - lst * lst)


def i3m(s1: np.ndarray, s2: np.ndarray, s3: np.ndarray) -> np.ndarray:
    """Three-mass triangle for ``s1 >= (sqrt(s2) + sqrt(s3))^2``, all positive (float64).

    Accurate to ~1e-16/lam relative, lam^2 = Delta_3/s1^2; at lam = 0 the limit is used.
    """
    s1 = np.asarray(s1, dtype=np.float64)
    x = np.asarray(s2, dtype=np.float64) / s1
    y = np.asarray(s3, dtype=np.float64) / s1
    a = 1.0 - x - y
    lam = np.sqrt(np.clip(a * a - 4.0 * x * y, 0.0, None))
    rho = 2.0 / (a + lam)
    rx, ry = rho * x, rho * y
    num = (
        2.0 * (li2_real(-rx) + li2_real(-ry))
        + np.log(y / x) * (np.log1p(ry) - np.log1p(rx))
        + np.log(rx) * np.log(ry)
        + 2.0 * ZETA2
    )
    zero = lam <= 0.0  # exact threshold (spurious 0/0): left to the amplitude-level rescue
    phi = num / np.where(zero, 1.0, lam)
    return -phi / s1


# ----------------------------------------------------------------------------------------
# mpmath versions (scalars), used by the high-precision rescue
# ----------------------------------------------------------------------------------------


def mp_log_ratio(a, b):
    """mpmath ``ln((-a - i0)/(-b - i0))``."""
    im = -mpmath.pi * ((1 if a > 0 else 0) - (1 if b > 0 else 0))
    return mpmath.mpc(mpmath.log(abs(a / b)), im)


def mp_l0(a, b, a_minus_b):
    """mpmath ``L0(-a, -b)``; ``a_minus_b = a - b``."""
    v = a_minus_b / b
    if (a > 0) == (b > 0):
        if v == 0:
            return mpmath.mpc(-1)
        return mpmath.mpc(-mpmath.log1p(v) / v)
    return mp_log_ratio(a, b) / (-v)


def mp_l1(a, b, a_minus_b):
    """mpmath ``L1(-a, -b)``; ``a_minus_b = a - b``."""
    w = a_minus_b / b
    if (a > 0) == (b > 0):
        if abs(w) < mpmath.mpf(10) ** (-(mpmath.mp.dps // 3)):
            return mpmath.mpc(-mpmath.mpf(1) / 2 + w / 3 - w * w / 4 + w**3 / 5)
        return mpmath.mpc((mpmath.log1p(w) - w) / (w * w))
    return (mp_log_ratio(a, b) / (-w) + 1) / (-w)


def _mp_li2_one_minus(m2, t):
    r = m2 / t
    if r > 0:
        return mpmath.mpc(mpmath.polylog(2, 1 - r))
    return mpmath.zeta(2) - mpmath.polylog(2, r) - mp_log_ratio(m2, t) * mpmath.log(1 - r)


def mp_ls2mh_t(s, t, m1sq, m2sq):
    """mpmath version of :func:`ls2mh_t`."""
    ls1 = mp_log_ratio(s, m1sq)
    ls2 = mp_log_ratio(s, m2sq)
    lst = mp_log_ratio(s, t)
    return -_mp_li2_one_minus(m1sq, t) - _mp_li2_one_minus(m2sq, t) + (ls1 * ls2 - lst * lst) / 2


def mp_i3m(s1, s2, s3):
    """mpmath version of :func:`i3m` (same domain); at ``lam = 0`` exactly, the limit is
    taken from a tiny perturbation of ``s1`` in the working precision."""
    x = s2 / s1
    y = s3 / s1
    a = 1 - x - y
    disc = a * a - 4 * x * y
    if disc <= 0:
        eps = mpmath.mpf(10) ** (-(mpmath.mp.dps // 2))
        return mp_i3m(s1 * (1 + eps), s2, s3)
    lam = mpmath.sqrt(disc)
    rho = 2 / (a + lam)
    rx, ry = rho * x, rho * y
    num = (
        2 * (mpmath.polylog(2, -rx) + mpmath.polylog(2, -ry))
        + mpmath.log(y / x) * (mpmath.log1p(ry) - mpmath.log1p(rx))
        + mpmath.log(rx) * mpmath.log(ry)
        + 2 * mpmath.zeta(2)
    )
    return -(num / lam) / s1


# ----------------------------------------------------------------------------------------
# gmpy2 (MPFR) versions (scalars): the same formulas as the mpmath ones, ~5x faster; the
# working precision is that of the current gmpy2 context (bits)
# ----------------------------------------------------------------------------------------


def gm_log_ratio(a, b):
    """gmpy2 ``ln((-a - i0)/(-b - i0))``."""
    import gmpy2

    im = -gmpy2.const_pi() * ((1 if a > 0 else 0) - (1 if b > 0 else 0))
    return gmpy2.mpc(gmpy2.log(abs(a / b)), im)


def gm_l0(a, b, a_minus_b):
    """gmpy2 ``L0(-a, -b)``; ``a_minus_b = a - b``."""
    import gmpy2

    v = a_minus_b / b
    if (a > 0) == (b > 0):
        if v == 0:
            return gmpy2.mpc(-1)
        return gmpy2.mpc(-gmpy2.log1p(v) / v)
    return gm_log_ratio(a, b) / (-v)


def gm_l1(a, b, a_minus_b):
    """gmpy2 ``L1(-a, -b)``; ``a_minus_b = a - b``."""
    import gmpy2

    w = a_minus_b / b
    if (a > 0) == (b > 0):
        digits = gmpy2.get_context().precision * 0.30103
        if abs(w) < gmpy2.mpfr(10) ** (-(int(digits) // 3)):
            return gmpy2.mpc(-gmpy2.mpfr(1) / 2 + w / 3 - w * w / 4 + w**3 / 5)
        return gmpy2.mpc((gmpy2.log1p(w) - w) / (w * w))
    return (gm_log_ratio(a, b) / (-w) + 1) / (-w)


def _gm_li2_one_minus(m2, t):
    import gmpy2

    r = m2 / t
    if r > 0:
        return gmpy2.mpc(gmpy2.li2(1 - r))
    zeta2 = gmpy2.const_pi() ** 2 / 6
    return zeta2 - gmpy2.li2(r) - gm_log_ratio(m2, t) * gmpy2.log(1 - r)


def gm_ls2mh_t(s, t, m1sq, m2sq):
    """gmpy2 version of :func:`ls2mh_t`."""
    ls1 = gm_log_ratio(s, m1sq)
    ls2 = gm_log_ratio(s, m2sq)
    lst = gm_log_ratio(s, t)
    return -_gm_li2_one_minus(m1sq, t) - _gm_li2_one_minus(m2sq, t) + (ls1 * ls2 - lst * lst) / 2


def gm_i3m(s1, s2, s3):
    """gmpy2 version of :func:`i3m` (same domain and limit at ``lam = 0``)."""
    import gmpy2

    x = s2 / s1
    y = s3 / s1
    a = 1 - x - y
    disc = a * a - 4 * x * y
    if disc <= 0:
        digits = gmpy2.get_context().precision * 0.30103
        eps = gmpy2.mpfr(10) ** (-(int(digits) // 2))
        return gm_i3m(s1 * (1 + eps), s2, s3)
    lam = gmpy2.sqrt(disc)
    rho = 2 / (a + lam)
    rx, ry = rho * x, rho * y
    num = (
        2 * (gmpy2.li2(-rx) + gmpy2.li2(-ry))
        + gmpy2.log(y / x) * (gmpy2.log1p(ry) - gmpy2.log1p(rx))
        + gmpy2.log(rx) * gmpy2.log(ry)
        + gmpy2.const_pi() ** 2 / 3
    )
    return -(num / lam) / s1
