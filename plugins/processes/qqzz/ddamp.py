"""The q qbar -> ZZ -> 4l amplitudes in compiled double-double arithmetic (~32 digits).

The compiled rescue of :func:`.amplitudes.amplitudes_x` / :func:`.amplitudes.amplitudes`:
kinematics from x, spinor products, loop functions and the DKS formulas, all in double-double
(:mod:`.ddarith`; the formulas are the generated :mod:`.dd_kernels`, i.e. the float64 kernels
of :mod:`.amplitudes` rewritten operation by operation), vectorised over points by a numba
loop, only the requested columns. Same conventions as :mod:`.amplitudes` (momenta all
outgoing, spinor phases of :mod:`.spinors`, ``mu`` GeV, the DKS finite part).

Precision: relative error ~1e-30 times the cancellation of the point; about 32 - L digits
remain, with L the digits the formulas lose at the point (1 per decade of x1 towards the
threshold, 1.5 per decade of min(x2, 1 - x2) towards the beam: :func:`dd_loss_digits`).
Where L is too large (the threshold-and-beam corner) the caller falls back to MPFR.

Array conventions: a dd real is the trailing axis of 2 float64 (hi, lo), a dd complex the
trailing axis of 4 (re_hi, re_lo, im_hi, im_lo).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from zoo.plugins.processes.qqzz.amplitudes import _ORDER_ARRAY, _TRIPLES, MU_DEFAULT
from zoo.plugins.processes.qqzz.dd_kernels import dd_abelian
from zoo.plugins.processes.qqzz.ddarith import (
    _PI_H,
    _PI_L,
    _Z2_H,
    _Z2_L,
    c_add,
    c_addf,
    c_div,
    c_make,
    c_mul,
    c_mul_dd,
    c_mulf,
    c_sub,
    dd_abs,
    dd_add,
    dd_add_d,
    dd_cos_sin_2pi,
    dd_div,
    dd_l1_series,
    dd_ldexp,
    dd_li2_pair,
    dd_log,
    dd_log1p,
    dd_log1p_over,
    dd_mul,
    dd_mul_d,
    dd_neg,
    dd_sqrt,
    dd_sub,
    two_prod,
)
from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, SQRT_S_MAX

_JIT = dict(cache=True, error_model="numpy")
_TRIPLE_ARRAY = np.array(_TRIPLES, dtype=np.int64)  # (4, 3)
_ZERO = (0.0, 0.0)
_ONE = (1.0, 0.0)

# ------------------------------------------------------------------------------------------
# kinematics: x (dd) -> momenta (dd), the map of kinematics.x_to_momenta_mp
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def _decay(mass, n0, n2, xp0, xp2, yp1, gamma, gbeta, xc, xph, kf, ka):
    """Massless decay of a boson of mass ``mass`` along the unit vector ``n = (n0, 0, n2)``
    with axes ``x' = (xp0, 0, xp2)``, ``y' = (0, yp1, 0)`` (dd reals; ``yp1`` a float +-1):
    the fermion (``kf`` (4, 2)) with ``cos = 2 xc - 1``, ``sin = 2 sqrt(xc (1 - xc))``,
    ``phi = 2 pi xph``, and its partner (``ka``), boosted with ``gamma``, ``gamma beta``."""
    cos_t = dd_add_d(dd_ldexp(xc, 1), -1.0)
    sin_t = dd_ldexp(dd_sqrt(dd_mul(xc, dd_sub(_ONE, xc))), 1)
    cphi, sphi = dd_cos_sin_2pi(xph)
    a = dd_mul(sin_t, cphi)
    b = dd_mul(sin_t, sphi)
    d0 = dd_add(dd_mul(a, xp0), dd_mul(cos_t, n0))
    d1 = dd_mul_d(b, yp1)
    d2 = dd_add(dd_mul(a, xp2), dd_mul(cos_t, n2))
    half = dd_ldexp(mass, -1)
    for sgi in range(2):
        sg = 1.0 if sgi == 0 else -1.0
        out = kf if sgi == 0 else ka
        hs = dd_mul_d(half, sg)
        pl = dd_mul(hs, cos_t)
        e_new = dd_add(dd_mul(gamma, half), dd_mul(gbeta, pl))
        pl_new = dd_add(dd_mul(gamma, pl), dd_mul(gbeta, half))
        dpl = dd_sub(pl_new, pl)
        c0 = dd_add(dd_mul(hs, d0), dd_mul(dpl, n0))
        c1 = dd_mul(hs, d1)
        c2 = dd_add(dd_mul(hs, d2), dd_mul(dpl, n2))
        out[0, 0], out[0, 1] = e_new
        out[1, 0], out[1, 1] = c0
        out[2, 0], out[2, 1] = c1
        out[3, 0], out[3, 1] = c2


@njit(**_JIT)
def x_to_momenta_dd_point(xd, k):
    """Momenta ``k`` (6, 4, 2) of one point ``xd`` (8, 2) (dd coordinates): the map of
    :func:`.kinematics.x_to_momenta_mp` (forms without cancellation near the faces)."""
    x1 = (xd[0, 0], xd[0, 1])
    x2 = (xd[1, 0], xd[1, 1])
    m1 = dd_add_d(dd_mul_d((xd[2, 0], xd[2, 1]), M_RANGE), M_MIN)
    m2 = dd_add_d(dd_mul_d((xd[3, 0], xd[3, 1]), M_RANGE), M_MIN)
    msum = dd_add(m1, m2)
    above = dd_mul(dd_add_d(dd_neg(msum), SQRT_S_MAX), x1)
    rs = dd_add(msum, above)
    s = dd_mul(rs, rs)
    m1s = dd_mul(m1, m1)
    m2s = dd_mul(m2, m2)
    dm = dd_sub(m1, m2)
    lam = dd_mul(dd_mul(above, dd_add(rs, msum)), dd_sub(s, dd_mul(dm, dm)))
    rs2 = dd_ldexp(rs, 1)
    p = dd_div(dd_sqrt(lam), rs2)
    e1 = dd_div(dd_sub(dd_add(s, m1s), m2s), rs2)
    e2 = dd_div(dd_sub(dd_add(s, m2s), m1s), rs2)
    cos_t = dd_add_d(dd_ldexp(x2, 1), -1.0)
    sin_t = dd_ldexp(dd_sqrt(dd_mul(x2, dd_sub(_ONE, x2))), 1)
    if sin_t[0] > 0.0:
        xp0, xp2, ypp1, xpp0, xpp2 = cos_t, dd_neg(sin_t), -1.0, cos_t, dd_neg(sin_t)
    else:
        xp0, xp2, ypp1, xpp0, xpp2 = cos_t, _ZERO, 1.0, dd_neg(cos_t), _ZERO
    _decay(m1, sin_t, cos_t, xp0, xp2, 1.0, dd_div(e1, m1), dd_div(p, m1),
           (xd[4, 0], xd[4, 1]), (xd[5, 0], xd[5, 1]), k[2], k[3])
    _decay(m2, dd_neg(sin_t), dd_neg(cos_t), xpp0, xpp2, ypp1, dd_div(e2, m2), dd_div(p, m2),
           (xd[6, 0], xd[6, 1]), (xd[7, 0], xd[7, 1]), k[5], k[4])
    half = dd_ldexp(rs, -1)
    for i in range(2):
        for c in range(4):
            k[i, c, 0] = 0.0
            k[i, c, 1] = 0.0
        k[i, 0, 0], k[i, 0, 1] = dd_neg(half)
    k[0, 3, 0], k[0, 3, 1] = half
    k[1, 3, 0], k[1, 3, 1] = dd_neg(half)


# ------------------------------------------------------------------------------------------
# spinor products (conventions of spinors.py) and loop functions
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def spinors_dd_point(k, za, zb, s, lam):
    """``<ij>``, ``[ij]``, ``s_ij`` into ``za``, ``zb``, ``s`` (1, 6, 6, 4) (dd complex; s real)
    and the spinors ``lambda`` into ``lam`` (6, 2, 4) (particle, component, dd complex) from
    momenta ``k`` (6, 4, 2) (dd): the conventions and branch choice of :mod:`.spinors`."""
    sgn = np.empty(6)
    for i in range(6):
        sg = -1.0 if k[i, 0, 0] < 0.0 else 1.0
        e = dd_mul_d((k[i, 0, 0], k[i, 0, 1]), sg)
        px = dd_mul_d((k[i, 1, 0], k[i, 1, 1]), sg)
        py = dd_mul_d((k[i, 2, 0], k[i, 2, 1]), sg)
        pz = dd_mul_d((k[i, 3, 0], k[i, 3, 1]), sg)
        kp = dd_add(e, pz)
        km = dd_sub(e, pz)
        if dd_sub(kp, km)[0] >= 0.0:
            big = dd_sqrt(kp)
            l1 = c_make(big, _ZERO)
            l2 = c_div(c_make(px, py), l1)
        else:
            big = dd_sqrt(km)
            l2 = c_make(big, _ZERO)
            l1 = c_div(c_make(px, dd_neg(py)), l2)
        if sg < 0.0:  # times i
            l1 = (-l1[2], -l1[3], l1[0], l1[1])
            l2 = (-l2[2], -l2[3], l2[0], l2[1])
        for c in range(4):
            lam[i, 0, c] = l1[c]
            lam[i, 1, c] = l2[c]
        sgn[i] = sg
    for i in range(6):
        li1 = (lam[i, 0, 0], lam[i, 0, 1], lam[i, 0, 2], lam[i, 0, 3])
        li2 = (lam[i, 1, 0], lam[i, 1, 1], lam[i, 1, 2], lam[i, 1, 3])
        for j in range(6):
            lj1 = (lam[j, 0, 0], lam[j, 0, 1], lam[j, 0, 2], lam[j, 0, 3])
            lj2 = (lam[j, 1, 0], lam[j, 1, 1], lam[j, 1, 2], lam[j, 1, 3])
            v = c_sub(c_mul(li1, lj2), c_mul(li2, lj1))
            f = -(sgn[i] * sgn[j])
            for c in range(4):
                za[0, i, j, c] = v[c]
            zb[0, i, j, 0] = f * v[0]
            zb[0, i, j, 1] = f * v[1]
            zb[0, i, j, 2] = -f * v[2]
            zb[0, i, j, 3] = -f * v[3]
            acc = dd_mul((k[i, 0, 0], k[i, 0, 1]), (k[j, 0, 0], k[j, 0, 1]))
            for c in range(1, 4):
                acc = dd_sub(acc, dd_mul((k[i, c, 0], k[i, c, 1]), (k[j, c, 0], k[j, c, 1])))
            acc = dd_ldexp(acc, 1)
            s[0, i, j, 0], s[0, i, j, 1] = acc
            s[0, i, j, 2] = 0.0
            s[0, i, j, 3] = 0.0


@njit(**_JIT)
def log_ratio_dd(a, b):
    """``ln((-a - i0)/(-b - i0))`` (dd complex) of dd reals."""
    im = (1.0 if b[0] > 0.0 else 0.0) - (1.0 if a[0] > 0.0 else 0.0)
    return c_make(dd_log(dd_abs(dd_div(a, b))), (_PI_H * im, _PI_L * im))


@njit(**_JIT)
def l0_dd(a, b, d):
    """``L0(-a, -b)``; ``d = a - b``."""
    v = dd_div(d, b)
    if (a[0] > 0.0) == (b[0] > 0.0):
        return c_make(dd_neg(dd_log1p_over(v)), _ZERO)
    return c_mul_dd(log_ratio_dd(a, b), dd_div((-1.0, 0.0), v))


@njit(**_JIT)
def l1_dd(a, b, d):
    """``L1(-a, -b)``; ``d = a - b``."""
    w = dd_div(d, b)
    if (a[0] > 0.0) == (b[0] > 0.0):
        return c_make(dd_l1_series(w), _ZERO)
    mw = dd_div((-1.0, 0.0), w)
    return c_mul_dd(c_addf(c_mul_dd(log_ratio_dd(a, b), mw), 1.0), mw)


@njit(**_JIT)
def _li2_one_minus_dd(m2, t):
    """``Li2(1 - (-m2 - i0)/(-t - i0))`` for ``m2 > 0`` (dd complex)."""
    r = dd_div(m2, t)
    if r[0] > 0.0:
        return c_make(dd_li2_pair(dd_sub(_ONE, r), r), _ZERO)
    re = dd_sub((_Z2_H, _Z2_L), dd_li2_pair(r, dd_sub(_ONE, r)))
    return c_sub(c_make(re, _ZERO), c_mul_dd(log_ratio_dd(m2, t), dd_log1p(dd_neg(r))))


@njit(**_JIT)
def ls2mh_t_dd(s, t, m1sq, m2sq):
    """``Ls_{-1}^{2mh}`` without its I3m part (see :func:`.loopfunctions.ls2mh_t`)."""
    ls1 = log_ratio_dd(s, m1sq)
    ls2 = log_ratio_dd(s, m2sq)
    lst = log_ratio_dd(s, t)
    r = c_mulf(c_sub(c_mul(ls1, ls2), c_mul(lst, lst)), 0.5)
    return c_sub(c_sub(r, _li2_one_minus_dd(m1sq, t)), _li2_one_minus_dd(m2sq, t))


@njit(**_JIT)
def i3m_dd(s1, s2, s3):
    """Three-mass triangle (real dd) for ``s1 >= (sqrt(s2) + sqrt(s3))^2`` (see
    :func:`.loopfunctions.i3m`); at ``lam = 0`` exactly, ``s1`` is perturbed by 1e-16."""
    x = dd_div(s2, s1)
    y = dd_div(s3, s1)
    a = dd_sub(dd_sub(_ONE, x), y)
    disc = dd_sub(dd_mul(a, a), dd_ldexp(dd_mul(x, y), 2))
    if not disc[0] > 0.0:
        s1 = dd_mul(s1, dd_add_d(_ONE, 1e-16))
        x = dd_div(s2, s1)
        y = dd_div(s3, s1)
        a = dd_sub(dd_sub(_ONE, x), y)
        disc = dd_sub(dd_mul(a, a), dd_ldexp(dd_mul(x, y), 2))
    lam = dd_sqrt(disc)
    rho = dd_div((2.0, 0.0), dd_add(a, lam))
    rx = dd_mul(rho, x)
    ry = dd_mul(rho, y)
    num = dd_ldexp(
        dd_add(dd_li2_pair(dd_neg(rx), dd_add_d(rx, 1.0)), dd_li2_pair(dd_neg(ry), dd_add_d(ry, 1.0))),
        1,
    )
    num = dd_add(num, dd_mul(dd_log(dd_div(y, x)), dd_sub(dd_log1p(ry), dd_log1p(rx))))
    num = dd_add(num, dd_mul(dd_log(rx), dd_log(ry)))
    num = dd_add(num, dd_ldexp((_Z2_H, _Z2_L), 1))
    return dd_neg(dd_div(dd_div(num, lam), s1))


@njit(**_JIT)
def _sre(s, i, j):
    return (s[0, i, j, 0], s[0, i, j, 1])


@njit(**_JIT)
def _put(arr, i, v):
    for c in range(4):
        arr[0, i, c] = v[c]


@njit(**_JIT)
def shared_dd_point(s, mu, tt, fls, fl0, fl1, flt, flsm):
    """Invariants ``t`` and loop functions of one point into ``tt``, ``fls``, ``fl0``, ``fl1``,
    ``flt`` (1, 4, 4), ``flsm`` (1, 2, 4) (as :func:`.amplitudes._shared_arrays`); returns
    ``(V, I3)`` (dd complex)."""
    s12 = _sre(s, 0, 1)
    s34 = _sre(s, 2, 3)
    s56 = _sre(s, 4, 5)
    mu2 = two_prod(mu, mu)
    lmu = log_ratio_dd(s12, dd_neg(mu2))
    V = c_addf(c_add(c_mulf(c_mul(lmu, lmu), -0.5), c_mulf(lmu, 1.5)), -3.5)
    i3 = i3m_dd(s12, s34, s56)
    I3 = c_make(i3, _ZERO)
    lsm0 = log_ratio_dd(s34, s12)
    lsm1 = log_ratio_dd(s56, s12)
    _put(flsm, 0, lsm0)
    _put(flsm, 1, lsm1)
    for j in range(4):
        a = _TRIPLE_ARRAY[j, 0]
        b = _TRIPLE_ARRAY[j, 1]
        c = _TRIPLE_ARRAY[j, 2]
        m = _sre(s, b, c)
        d = dd_add(_sre(s, a, b), _sre(s, a, c))
        t = dd_add(d, m)
        _put(tt, j, c_make(t, _ZERO))
        _put(fls, j, ls2mh_t_dd(s12, t, s34, s56))
        _put(fl0, j, l0_dd(t, m, d))
        _put(fl1, j, l1_dd(m, t, dd_neg(d)))
        _put(flt, j, c_sub(log_ratio_dd(t, m), lsm0 if b == 2 else lsm1))
    return V, I3


# ------------------------------------------------------------------------------------------
# drivers
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def _amplitudes_point(k, cols, mu, loop, orders, tree, one, m, work):
    """Tree and one-loop amplitudes (dd complex) of the columns ``cols[j]`` of one point with
    momenta ``k`` (6, 4, 2) into ``tree[m, j]``, ``one[m, j]`` (4,)."""
    za, zb, s, tt, fls, fl0, fl1, flt, flsm, o, lam = work
    spinors_dd_point(k, za, zb, s, lam)
    V, I3 = shared_dd_point(s, mu, tt, fls, fl0, fl1, flt, flsm)
    _columns_point(cols, loop, orders, tree, one, m, work, V, I3)


@njit(**_JIT)
def _columns_point(cols, loop, orders, tree, one, m, work, V, I3):
    """The columns ``cols[j]`` of one point into ``tree[m, j]``, ``one[m, j]`` (4,) from the
    spinor products and the invariants / loop functions already in ``work`` (and ``V``,
    ``I3``)."""
    za, zb, s, tt, fls, fl0, fl1, flt, flsm, o, lam = work
    for j in range(8):
        if not cols[j]:
            continue
        for h in range(2):
            p = orders[j, h]
            dd_abelian(za, zb, 0, p[0], p[1], p[2], p[3], p[4], p[5], s, tt, fls, fl0, fl1,
                       flt, flsm, V, I3, False, o[h])
        for c in range(4):
            tree[m, j, c] = 0.0
            one[m, j, c] = 0.0
        t = c_add((o[0, 0, 0], o[0, 0, 1], o[0, 0, 2], o[0, 0, 3]),
                  (o[1, 0, 0], o[1, 0, 1], o[1, 0, 2], o[1, 0, 3]))
        for c in range(4):
            tree[m, j, c] = t[c]
        if loop:
            lp = c_add((o[0, 1, 0], o[0, 1, 1], o[0, 1, 2], o[0, 1, 3]),
                       (o[1, 1, 0], o[1, 1, 1], o[1, 1, 2], o[1, 1, 3]))
            for c in range(4):
                one[m, j, c] = lp[c]


@njit(**_JIT)
def _work():
    return (
        np.empty((1, 6, 6, 4)),
        np.empty((1, 6, 6, 4)),
        np.empty((1, 6, 6, 4)),
        np.empty((1, 4, 4)),
        np.empty((1, 4, 4)),
        np.empty((1, 4, 4)),
        np.empty((1, 4, 4)),
        np.empty((1, 4, 4)),
        np.empty((1, 2, 4)),
        np.empty((2, 3, 4)),
        np.empty((6, 2, 4)),
    )


@njit(**_JIT)
def _amplitudes_x_kernel(xd, cols, mu, loop, orders, tree, one):
    """Points ``xd`` (N, 8, 2) -> ``tree``, ``one`` (N, 8, 4) for the columns ``cols`` (N, 8)."""
    work = _work()
    k = np.empty((6, 4, 2))
    for m in range(xd.shape[0]):
        x_to_momenta_dd_point(xd[m], k)
        _amplitudes_point(k, cols[m], mu, loop, orders, tree, one, m, work)


@njit(**_JIT)
def _amplitudes_k_kernel(kd, cols, mu, loop, orders, tree, one):
    """Momenta ``kd`` (N, 6, 4, 2) -> ``tree``, ``one`` (N, 8, 4) for the columns ``cols``."""
    work = _work()
    for m in range(kd.shape[0]):
        _amplitudes_point(kd[m], cols[m], mu, loop, orders, tree, one, m, work)


def _cols(columns, n: int) -> np.ndarray:
    """``columns`` (None = all, one iterable for all points, or a list of N iterables, or an
    (N, 8) bool array) as an (N, 8) bool array."""
    if columns is None:
        return np.ones((n, 8), dtype=np.bool_)
    if isinstance(columns, np.ndarray) and columns.dtype == np.bool_:
        return np.ascontiguousarray(np.broadcast_to(columns, (n, 8)))
    out = np.zeros((n, 8), dtype=np.bool_)
    if isinstance(columns, list) and len(columns) == n and n and not np.isscalar(columns[0]):
        for i, c in enumerate(columns):
            out[i, list(c)] = True
    else:
        out[:, list(columns)] = True
    return out


def to_dd(a: np.ndarray) -> np.ndarray:
    """float64 array -> dd array (trailing axis (hi, lo) with lo = 0)."""
    a = np.asarray(a, dtype=np.float64)
    out = np.zeros(a.shape + (2,), dtype=np.float64)
    out[..., 0] = a
    return out


def dd_to_complex(a: np.ndarray) -> np.ndarray:
    """dd complex array (..., 4) -> complex128 (rounded)."""
    return (a[..., 0] + a[..., 1]) + 1j * (a[..., 2] + a[..., 3])


def amplitudes_x_dd_raw(
    x: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, columns=None
) -> tuple[np.ndarray, np.ndarray]:
    """Tree and one-loop amplitudes (N, 8, 4) dd complex at the exact kinematics of the points
    ``x``: (N, 8) float64 (exact) or (N, 8, 2) dd coordinates. Columns not requested are 0."""
    x = np.asarray(x, dtype=np.float64)
    xd = np.ascontiguousarray(to_dd(x) if x.ndim == 2 else x)
    n = xd.shape[0]
    tree = np.zeros((n, 8, 4))
    one = np.zeros((n, 8, 4))
    _amplitudes_x_kernel(xd, _cols(columns, n), float(mu), bool(loop), _ORDER_ARRAY, tree, one)
    return tree, one


def amplitudes_x_dd(
    x: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, columns=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """As :func:`amplitudes_x_dd_raw`, rounded to complex128 (N, 8)."""
    t, lo = amplitudes_x_dd_raw(x, mu=mu, loop=loop, columns=columns)
    return dd_to_complex(t), (dd_to_complex(lo) if loop else None)


def amplitudes_k_dd(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, columns=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Amplitudes (N, 8) complex128 at momenta ``k`` (N, 6, 4) float64 taken exactly (or
    (N, 6, 4, 2) dd), evaluated in double-double, then rounded."""
    k = np.asarray(k, dtype=np.float64)
    kd = np.ascontiguousarray(to_dd(k) if k.ndim == 3 else k)
    n = kd.shape[0]
    tree = np.zeros((n, 8, 4))
    one = np.zeros((n, 8, 4))
    _amplitudes_k_kernel(kd, _cols(columns, n), float(mu), bool(loop), _ORDER_ARRAY, tree, one)
    return dd_to_complex(tree), (dd_to_complex(one) if loop else None)


def dd_loss_digits(x: np.ndarray) -> np.ndarray:
    """Estimated digits lost (N,) by the amplitudes at the exact kinematics of ``x`` (N, 8):
    ``log10(1/x1) + 1.5 log10(1/min(x2, 1 - x2))`` (each clipped at 0; measured by
    ``scripts/qqzz_digit_loss.py``)."""
    x = np.asarray(x, dtype=np.float64)
    b = np.minimum(x[:, 1], 1.0 - x[:, 1])
    with np.errstate(divide="ignore"):
        return np.clip(-np.log10(x[:, 0]), 0.0, None) + 1.5 * np.clip(-np.log10(b), 0.0, None)


# ------------------------------------------------------------------------------------------
# the 2D/4D production projection (production.project_exact) in double-double
# ------------------------------------------------------------------------------------------


@njit(**_JIT)
def _lam(lam, i, c):
    return (lam[i, c, 0], lam[i, c, 1], lam[i, c, 2], lam[i, c, 3])


@njit(**_JIT)
def _c(v):
    """A dd real as a dd complex."""
    return (v[0], v[1], 0.0, 0.0)


@njit(**_JIT)
def pair_phase_dd(xd, k, lam, boson, right):
    """dd twin of :func:`.production._mp_pair_phase`: the phase ``omega`` (dd complex, |omega|
    = 1) that makes the current of lepton pair ``boson`` (1 or 2) canonical, for the lepton
    line chirality ``right`` (False: L, True: R), at the 8D point ``xd`` (8, 2) with momenta
    ``k`` (6, 4, 2) and spinors ``lam`` (6, 2, 4). The boson mass is ``50 + 80 x3`` (x4)."""
    lep, anti = (2, 3) if boson == 1 else (5, 4)
    a, b = (anti, lep) if right else (lep, anti)
    sigma = 1.0 if right else -1.0
    ic = 4 if boson == 1 else 6
    xc = (xd[ic, 0], xd[ic, 1])
    xph = (xd[ic + 1, 0], xd[ic + 1, 1])
    c = dd_add_d(dd_ldexp(xc, 1), -1.0)
    sn = dd_ldexp(dd_sqrt(dd_mul(xc, dd_sub(_ONE, xc))), 1)
    cp, sp = dd_cos_sin_2pi(xph)
    r2 = dd_sqrt((0.5, 0.0))
    # ex = conj((-sigma c cp + i sp) r2), ey = conj((-sigma c sp - i cp) r2), ez = sigma s r2
    scr = dd_mul_d(dd_mul(c, r2), -sigma)
    ex = c_make(dd_mul(scr, cp), dd_neg(dd_mul(sp, r2)))
    ey = c_make(dd_mul(scr, sp), dd_mul(cp, r2))
    ez = dd_mul_d(dd_mul(sn, r2), sigma)
    x2 = (xd[1, 0], xd[1, 1])
    ct = dd_add_d(dd_ldexp(x2, 1), -1.0)
    st = dd_ldexp(dd_sqrt(dd_mul(x2, dd_sub(_ONE, x2))), 1)
    sg = 1.0 if boson == 1 else -1.0
    p0 = dd_add((k[lep, 0, 0], k[lep, 0, 1]), (k[anti, 0, 0], k[anti, 0, 1]))
    p1 = dd_add((k[lep, 1, 0], k[lep, 1, 1]), (k[anti, 1, 0], k[anti, 1, 1]))
    p2 = dd_add((k[lep, 2, 0], k[lep, 2, 1]), (k[anti, 2, 0], k[anti, 2, 1]))
    p3 = dd_add((k[lep, 3, 0], k[lep, 3, 1]), (k[anti, 3, 0], k[anti, 3, 1]))
    pabs = dd_sqrt(dd_add(dd_add(dd_mul(p1, p1), dd_mul(p2, p2)), dd_mul(p3, p3)))
    xm = (xd[2, 0], xd[2, 1]) if boson == 1 else (xd[3, 0], xd[3, 1])
    m = dd_add_d(dd_mul_d(xm, M_RANGE), M_MIN)
    gamma = dd_div(p0, m)
    gbeta = dd_div(pabs, m)
    gez = dd_mul(gamma, ez)
    # X = (ct, 0, -st), Y = (0, sg, 0), Z = sg (st, 0, ct)
    v0 = c_add(c_mul_dd(ex, ct), _c(dd_mul_d(dd_mul(gez, st), sg)))
    v1 = c_mulf(ey, sg)
    v2 = c_add(c_mul_dd(ex, dd_neg(st)), _c(dd_mul_d(dd_mul(gez, ct), sg)))
    j0 = _c(dd_mul(gbeta, ez))
    iv1 = (-v1[2], -v1[3], v1[0], v1[1])  # i v1
    bc00 = c_add(j0, v2)
    bc01 = c_sub(v0, iv1)
    bc10 = c_add(v0, iv1)
    bc11 = c_sub(j0, v2)
    # z = sum conj(lam_a^i conj(lam_b^j)) bc_ij = sum conj(lam_a^i) lam_b^j bc_ij
    la0 = c_conj_(_lam(lam, a, 0))
    la1 = c_conj_(_lam(lam, a, 1))
    lb0 = _lam(lam, b, 0)
    lb1 = _lam(lam, b, 1)
    z = c_mul(c_mul(la0, lb0), bc00)
    z = c_add(z, c_mul(c_mul(la0, lb1), bc01))
    z = c_add(z, c_mul(c_mul(la1, lb0), bc10))
    z = c_add(z, c_mul(c_mul(la1, lb1), bc11))
    az = dd_sqrt(dd_add(dd_mul((z[0], z[1]), (z[0], z[1])), dd_mul((z[2], z[3]), (z[2], z[3]))))
    return c_mul_dd(z, dd_div(_ONE, az))


@njit(**_JIT)
def c_conj_(a):
    return (a[0], a[1], -a[2], -a[3])


@njit(**_JIT)
def _project_kernel(x4, nodes_c, nodes_ph, proj, mu, loop, orders, mt, ml):
    """Production amplitudes ``mt``, ``ml`` (N, 18, 4) (dd complex) of the 4D points ``x4``
    (N, 4): the nodes (per boson the lepton directions ``nodes_c`` (nn, 2) = (1 + cos)/2 and
    ``nodes_ph`` (nn, 2) = phi / (2 pi), dd; all nn x nn pairs), 8D amplitudes, decay phases
    and projection with ``proj`` (2, nn, 3, 4) (s, node, l; dd complex), all in dd."""
    nn = nodes_c.shape[0]
    work = _work()
    lam = work[10]
    k = np.empty((6, 4, 2))
    xd = np.empty((8, 2))
    at = np.zeros((nn * nn, 8, 4))
    al = np.zeros((nn * nn, 8, 4))
    cols = np.ones(8, dtype=np.bool_)
    V = (0.0, 0.0, 0.0, 0.0)
    I3 = (0.0, 0.0, 0.0, 0.0)
    for r in range(x4.shape[0]):
        for ia in range(nn):
            for ib in range(nn):
                node = nn * ia + ib
                for c in range(4):
                    xd[c, 0] = x4[r, c]
                    xd[c, 1] = 0.0
                xd[4, 0], xd[4, 1] = nodes_c[ia, 0], nodes_c[ia, 1]
                xd[5, 0], xd[5, 1] = nodes_ph[ia, 0], nodes_ph[ia, 1]
                xd[6, 0], xd[6, 1] = nodes_c[ib, 0], nodes_c[ib, 1]
                xd[7, 0], xd[7, 1] = nodes_ph[ib, 0], nodes_ph[ib, 1]
                x_to_momenta_dd_point(xd, k)
                spinors_dd_point(k, work[0], work[1], work[2], lam)
                if node == 0:
                    # invariants t_abc = (k_a + P_boson)^2, s12, m^2 and all loop functions
                    # are production-level: the same at every node (to dd rounding)
                    V, I3 = shared_dd_point(work[2], mu, work[3], work[4], work[5], work[6],
                                            work[7], work[8])
                _columns_point(cols, loop, orders, at, al, node, work, V, I3)
                w1l = pair_phase_dd(xd, k, lam, 1, False)
                w1r = pair_phase_dd(xd, k, lam, 1, True)
                w2l = pair_phase_dd(xd, k, lam, 2, False)
                w2r = pair_phase_dd(xd, k, lam, 2, True)
                for col in range(8):  # column = q + 2 s1 + 4 s2
                    s1 = (col // 2) % 2
                    s2 = col // 4
                    w = c_mul(w1r if s1 else w1l, w2r if s2 else w2l)
                    t = c_mul(w, (at[node, col, 0], at[node, col, 1], at[node, col, 2],
                                  at[node, col, 3]))
                    lp = c_mul(w, (al[node, col, 0], al[node, col, 1], al[node, col, 2],
                                   al[node, col, 3]))
                    for c in range(4):
                        at[node, col, c] = t[c]
                        al[node, col, c] = lp[c]
        # M[q, i, j] = sum_{a, b, s1, s2} A[a, b, q + 2 s1 + 4 s2] proj[s1, a, i] proj[s2, b, j]
        for q in range(2):
            for i in range(3):
                for j in range(3):
                    acc_t = (0.0, 0.0, 0.0, 0.0)
                    acc_l = (0.0, 0.0, 0.0, 0.0)
                    for ia in range(nn):
                        for s1 in range(2):
                            pa = (proj[s1, ia, i, 0], proj[s1, ia, i, 1], proj[s1, ia, i, 2],
                                  proj[s1, ia, i, 3])
                            for ib in range(nn):
                                for s2 in range(2):
                                    pb = (proj[s2, ib, j, 0], proj[s2, ib, j, 1],
                                          proj[s2, ib, j, 2], proj[s2, ib, j, 3])
                                    f = c_mul(pa, pb)
                                    node = nn * ia + ib
                                    col = q + 2 * s1 + 4 * s2
                                    acc_t = c_add(acc_t, c_mul(f, (at[node, col, 0],
                                                  at[node, col, 1], at[node, col, 2],
                                                  at[node, col, 3])))
                                    if loop:
                                        acc_l = c_add(acc_l, c_mul(f, (al[node, col, 0],
                                                      al[node, col, 1], al[node, col, 2],
                                                      al[node, col, 3])))
                    out = 9 * q + 3 * i + j
                    for c in range(4):
                        mt[r, out, c] = acc_t[c]
                        ml[r, out, c] = acc_l[c]


def _projection_constants():
    """``(nodes_c (nn, 2), nodes_ph (nn, 2), proj (2, nn, 3, 4))`` in dd from 50-digit mpmath
    for the nodes of the float64 projection (:data:`.production.NODE_X5`, ``NODE_X6``: exact
    binary fractions) and their projectors ``proj[s, a, l] = B^+[l, (s, a)]``
    (:func:`.production._mp_design`)."""
    import mpmath

    from zoo.plugins.processes.qqzz.production import _mp_design

    def dd2(v):
        hi = float(v)
        return hi, float(v - hi)

    with mpmath.workdps(50):
        x5s, x6s, pm = _mp_design(False)
        nn = len(x5s)
        proj = np.zeros((2, nn, 3, 4))
        for si in range(2):
            for a in range(nn):
                for li in range(3):
                    proj[si, a, li, :2] = dd2(pm[si, a, li].real)
                    proj[si, a, li, 2:] = dd2(pm[si, a, li].imag)
        nodes_c = np.array([dd2(v) for v in x5s])
        nodes_ph = np.array([dd2(v) for v in x6s])
        return nodes_c, nodes_ph, proj


_PROJ_CONST = None


def project_dd(
    x4: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Production amplitudes ``(M_tree, M_loop)`` (N, 18) complex128 at the 4D points ``x4``
    (N, 4) in compiled double-double: the projection of the float64 path (the 2 x 2 nodes of
    :data:`.production.NODE_X5` / ``NODE_X6``, exact in binary, with their exact pseudo-inverse)
    with the 8D map, amplitudes and decay phases in dd, then rounded. Equals
    :func:`.production.project_exact` (the 3 x 3 quadrature in MPFR) in exact arithmetic."""
    global _PROJ_CONST
    if _PROJ_CONST is None:
        _PROJ_CONST = _projection_constants()
    nc, nph, proj = _PROJ_CONST
    x4 = np.ascontiguousarray(x4, dtype=np.float64)
    n = x4.shape[0]
    mt = np.zeros((n, 18, 4))
    ml = np.zeros((n, 18, 4))
    _project_kernel(x4, nc, nph, proj, float(mu), bool(loop), _ORDER_ARRAY, mt, ml)
    return dd_to_complex(mt), (dd_to_complex(ml) if loop else None)


def project_loss_digits(x4: np.ndarray) -> np.ndarray:
    """Estimated digits lost (N,) by the projection of the 4D points ``x4`` (N, 4):
    :func:`dd_loss_digits` of the nodes plus ``1.5 log10(1/min(x2, 1 - x2))`` (the
    cancellation of the amplitudes vanishing like sin(theta)^3 at the beam)."""
    x4 = np.asarray(x4, dtype=np.float64)
    b = np.minimum(x4[:, 1], 1.0 - x4[:, 1])
    with np.errstate(divide="ignore"):
        return dd_loss_digits(x4) + 1.5 * np.clip(-np.log10(b), 0.0, None)
