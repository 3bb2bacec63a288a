"""Tree and one-loop helicity amplitudes of q qbar -> Z Z -> l- l+ l'- l'+ (Dixon, Kunszt,
Signer, Nucl. Phys. B531 (1998) 3, hep-ph/9803250), vectorised over phase-space points.

Definitions (as in the reference data, ``shared/data/README.md``):

* ``A6(1..6) = A6^a(1,2,3,4,5,6) + A6^a(1,2,6,5,4,3)``, coupling stripped;
* ``A6^a_tree`` = DKS eq. (2.8) times ``-i``:
  ``<13>[25]<6|(2+5)|4] / (s34 s56 t134)``;
* ``A6^a_1loop = A6^a_tree V_fin(s12) + F^a`` (DKS eqs. 2.10-2.14, ``-i`` included, the
  epsilon poles of V dropped): ``V_fin = -L^2/2 + 3 L/2 - 7/2``, ``L = ln(-s12/mu^2)`` with
  ``s12 -> s12 + i0``, default ``mu = 91.1876`` GeV;
* the eight helicity configurations are the label permutations of :data:`LABEL_ORDER`
  (column j evaluates ``A6(sigma_j(1..6))``); names (quark line, lepton line 1, lepton
  line 2) in :data:`HELICITIES`. ``L`` is the left-handed (``R`` the right-handed)
  chirality of the incoming quark / of the lepton l- of that boson: column 0 = ``LLL``
  (``<13>`` ... : outgoing label 1 and the leptons 3, 6 carry negative helicity).

Spinor products and their phase convention: :mod:`.spinors`; only ``|A|^2`` and
``Re(conj(A_tree) A_loop)`` are convention independent.

The same arithmetic runs on complex128 arrays (fast path) and on numpy object arrays of
mpmath numbers (the high-precision rescue of :func:`amplitudes`, for the few points where
the double-precision result fails the stability test).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mpmath
import numpy as np

from zoo.plugins.processes.qqzz import loopfunctions as lf
from zoo.plugins.processes.qqzz.spinors import spinor_products

MU_DEFAULT = 91.1876

#: label permutations of the 8 columns (1-based, as ``label_order`` of the reference data)
LABEL_ORDER: tuple[tuple[int, ...], ...] = (
    (1, 2, 3, 4, 5, 6),
    (2, 1, 3, 4, 5, 6),
    (1, 2, 4, 3, 5, 6),
    (2, 1, 4, 3, 5, 6),
    (1, 2, 3, 4, 6, 5),
    (2, 1, 3, 4, 6, 5),
    (1, 2, 4, 3, 6, 5),
    (2, 1, 4, 3, 6, 5),
)
#: helicity names of the columns: (quark line, lepton line of boson 1, of boson 2)
HELICITIES: tuple[str, ...] = ("LLL", "RLL", "LRL", "RRL", "LLR", "RLR", "LRR", "RRR")


def _sandwich(za, zb, a: int, b: int, c: int, d: int):
    """``<a|(b + c)|d] = <ab>[bd] + <ac>[cd]``."""
    return za[a, b] * zb[b, d] + za[a, c] * zb[c, d]


@dataclass
class _Shared:
    """Invariants and loop functions shared by all 16 orderings of one set of points."""

    s: object  # (6, 6, N) s_ij
    t: tuple  # (t134, t234)
    tm: dict  # (tkey, mkey) -> t - m computed without cancellation
    m: tuple  # (s34, s56)
    s12: object
    V: object
    I3: object
    Ls: tuple  # per tkey
    L0: dict  # (tkey, mkey) -> L0(-t, -m)
    L1: dict  # (tkey, mkey) -> L1(-m, -t)
    Lt: dict  # (tkey, mkey) -> ln(-t/-m) + ln(-s12/-m)
    Lsm: tuple  # per mkey: ln(-m/-s12)


def _shared_numpy(s: np.ndarray, mu2: float, loop: bool) -> _Shared:
    s12, s34, s56 = s[0, 1], s[2, 3], s[4, 5]
    t134 = s[0, 2] + s[0, 3] + s34
    t234 = s[1, 2] + s[1, 3] + s34
    tm = {
        (0, 0): s[0, 2] + s[0, 3],
        (0, 1): s[1, 4] + s[1, 5],
        (1, 0): s[1, 2] + s[1, 3],
        (1, 1): s[0, 4] + s[0, 5],
    }
    sh = _Shared(s, (t134, t234), tm, (s34, s56), s12, None, None, (), {}, {}, {}, ())
    if not loop:
        return sh
    lmu = lf.log_ratio(s12, np.full_like(s12, -mu2))  # ln(-s12 - i0) - ln(mu2)
    sh.V = -0.5 * lmu * lmu + 1.5 * lmu - 3.5
    sh.I3 = lf.i3m(s12, s34, s56)
    sh.Ls = tuple(lf.ls2mh_t(s12, t, s34, s56) for t in (t134, t234))
    lsm = tuple(lf.log_ratio(m, s12) for m in (s34, s56))
    sh.Lsm = lsm
    for tk, t in enumerate((t134, t234)):
        for mk, m in enumerate((s34, s56)):
            d = tm[(tk, mk)]
            sh.L0[(tk, mk)] = lf.l0(t, m, d)
            sh.L1[(tk, mk)] = lf.l1(m, t, -d)
            sh.Lt[(tk, mk)] = lf.log_ratio(t, m) - lsm[mk]
    return sh


def _mp_vec(fun):
    return np.frompyfunc(fun, fun.__code__.co_argcount, 1)


def _shared_mp(s: np.ndarray, mu2, loop: bool) -> _Shared:
    """As :func:`_shared_numpy` for object arrays of mpmath numbers."""
    s12, s34, s56 = s[0, 1], s[2, 3], s[4, 5]
    t134 = s[0, 2] + s[0, 3] + s34
    t234 = s[1, 2] + s[1, 3] + s34
    tm = {
        (0, 0): s[0, 2] + s[0, 3],
        (0, 1): s[1, 4] + s[1, 5],
        (1, 0): s[1, 2] + s[1, 3],
        (1, 1): s[0, 4] + s[0, 5],
    }
    sh = _Shared(s, (t134, t234), tm, (s34, s56), s12, None, None, (), {}, {}, {}, ())
    if not loop:
        return sh
    lr = _mp_vec(lf.mp_log_ratio)
    lmu = lr(s12, np.full(s12.shape, -mpmath.mpf(mu2), dtype=object))
    sh.V = -lmu * lmu / 2 + 3 * lmu / 2 - mpmath.mpf(7) / 2
    sh.I3 = _mp_vec(lf.mp_i3m)(s12, s34, s56)
    ls = _mp_vec(lf.mp_ls2mh_t)
    sh.Ls = tuple(ls(s12, t, s34, s56) for t in (t134, t234))
    lsm = tuple(lr(m, s12) for m in (s34, s56))
    sh.Lsm = lsm
    l0v, l1v = _mp_vec(lf.mp_l0), _mp_vec(lf.mp_l1)
    for tk, t in enumerate((t134, t234)):
        for mk, m in enumerate((s34, s56)):
            d = tm[(tk, mk)]
            sh.L0[(tk, mk)] = l0v(t, m, d)
            sh.L1[(tk, mk)] = l1v(m, t, -d)
            sh.Lt[(tk, mk)] = lr(t, m) - lsm[mk]
    return sh


def _keys(p: tuple[int, ...]) -> tuple[int, int]:
    """(tkey, mkey) of an ordering p (0-based): which of t134/t234 is ``t_{p1 p3 p4}`` and which
    of s34/s56 is ``s_{p3 p4}``."""
    first_pair = {p[2], p[3]} == {2, 3}
    mkey = 0 if first_pair else 1
    if first_pair:
        tkey = 0 if p[0] == 0 else 1
    else:
        tkey = 1 if p[0] == 0 else 0
    return tkey, mkey


def _flip_part(za, zb, q, sh: _Shared, tkey: int, mkey: int):
    """The L0/L1/log part of F^a ("G") for local labels q (0-based global indices) with the
    products ``za``, ``zb`` (swapped by the caller for the conjugate term)."""
    i1, i2, i3, i4, i5, i6 = q
    s = sh.s
    s12, s34, s56 = s[i1, i2], s[i3, i4], s[i5, i6]
    t = sh.t[tkey]
    tb = sh.t[1 - tkey]
    d12 = s12 - s34 - s56
    d56 = s56 - s12 - s34
    D3 = s12 * s12 + s34 * s34 + s56 * s56 - 2.0 * (s12 * s34 + s12 * s56 + s34 * s56)
    X = _sandwich(za, zb, i2, i5, i6, i1)
    K = _sandwich(za, zb, i6, i2, i5, i4)
    c = 1.0 / (zb[i3, i4] * za[i5, i6] * X)
    a61b14 = za[i6, i1] * zb[i1, i4]
    z26 = za[i2, i6]
    b14 = zb[i1, i4]
    L0 = sh.L0[(tkey, mkey)]
    Lt = sh.Lt[(tkey, mkey)]
    g = 0.5 * a61b14 * a61b14 * c / t * sh.L1[(tkey, mkey)]
    g = g + (2.0 * a61b14 * K - za[i1, i6] * z26 * b14 * b14 * t / X) * c * L0 / s34
    g = g - (0.5 * z26 * b14 * K / X + 0.75 * K * K / t) * c * Lt

    # coefficient of ln(-s34/-s12)
    xd3 = X * D3
    a34b45 = za[i3, i4] * zb[i4, i5]
    a36 = za[i3, i6]
    s3_124 = _sandwich(za, zb, i3, i1, i2, i4)
    s6_125 = _sandwich(za, zb, i6, i1, i2, i5)
    s6_134 = _sandwich(za, zb, i6, i1, i3, i4)
    s3_245 = _sandwich(za, zb, i3, i2, i4, i5)
    bit1 = (zb[i4, i1] * za[i1, i3] + zb[i4, i2] * za[i2, i3]) * zb[i3, i5] + (
        zb[i4, i1] * za[i1, i4] + zb[i4, i2] * za[i2, i4]
    ) * zb[i4, i5]
    bit2 = (zb[i4, i5] * za[i5, i1] + zb[i4, i6] * za[i6, i1]) * zb[i1, i5] + (
        zb[i4, i5] * za[i5, i2] + zb[i4, i6] * za[i6, i2]
    ) * zb[i2, i5]
    h = 1.5 * d56 * (t - tb) * s3_124 * s6_125 / (xd3 * D3)
    h = h + 1.5 * a36 * bit1 / xd3
    h = h + 0.5 * a34b45 * bit2 / (zb[i5, i6] * xd3)
    h = h + b14 * z26 * t * (a36 * d12 - 2.0 * a34b45 * za[i5, i6]) / (za[i5, i6] * X * xd3)
    h = h + 0.5 * t / xd3 * (
        a34b45 * zb[i4, i5] / zb[i5, i6] + zb[i3, i4] * a36 * a36 / za[i5, i6] - 2.0 * a36 * zb[i4, i5]
    )
    h = h + (
        _sandwich(za, zb, i3, i1, i4, i5) / zb[i5, i6] - za[i3, i4] * b14 * z26 / X
    ) * (zb[i4, i5] * d12 - 2.0 * zb[i4, i3] * a36 * zb[i6, i5]) / xd3
    h = h + 4.0 * (a34b45 * s6_134 + za[i6, i3] * zb[i3, i4] * s3_245) / xd3
    h = h + 2.0 * d12 / xd3 * (zb[i4, i5] * s3_245 / zb[i5, i6] - a36 * s6_134 / za[i5, i6])
    return g + h * sh.Lsm[mkey]


def _abelian(za, zb, p, sh: _Shared, loop: bool):
    """``(A^a_tree, A^a_1loop)`` for the ordering p (0-based global indices)."""
    i1, i2, i3, i4, i5, i6 = p
    s = sh.s
    tkey, mkey = _keys(p)
    s12, s34, s56 = s[i1, i2], s[i3, i4], s[i5, i6]
    t = sh.t[tkey]
    K = _sandwich(za, zb, i6, i2, i5, i4)
    a13b25 = za[i1, i3] * zb[i2, i5]
    tree = a13b25 * K / (s34 * s56 * t)
    if not loop:
        return tree, None
    tb = sh.t[1 - tkey]
    d12 = s12 - s34 - s56
    d34 = s34 - s12 - s56
    d56 = s56 - s12 - s34
    D3 = s12 * s12 + s34 * s34 + s56 * s56 - 2.0 * (s12 * s34 + s12 * s56 + s34 * s56)
    X = _sandwich(za, zb, i2, i5, i6, i1)
    Xb = _sandwich(za, zb, i1, i5, i6, i2)
    Kc = _sandwich(za, zb, i6, i2, i5, i1)
    K2 = _sandwich(za, zb, i2, i5, i6, i4)
    b34a56 = zb[i3, i4] * za[i5, i6]
    a34b56 = za[i3, i4] * zb[i5, i6]
    a36b45 = za[i3, i6] * zb[i4, i5]
    xd3 = X * D3

    # coefficient of Ls_{-1}^{2mh}
    cls = a13b25 * a13b25 / (a34b56 * t * Xb) - (K2 * Kc) ** 2 / (b34a56 * t * X * X * X)
    f = cls * sh.Ls[tkey]
    # L0, L1, log parts and their conjugates
    f = f + _flip_part(za, zb, p, sh, tkey, mkey)
    f = f - _flip_part(zb, za, (i2, i1, i5, i6, i3, i4), sh, tkey, 1 - mkey)

    # coefficient T of the three-mass triangle
    s6_125 = _sandwich(za, zb, i6, i1, i2, i5)
    s3_124 = _sandwich(za, zb, i3, i1, i2, i4)
    s6_124 = _sandwich(za, zb, i6, i1, i2, i4)
    s3_265 = _sandwich(za, zb, i3, i2, i6, i5)
    b14a26 = zb[i1, i4] * za[i2, i6]
    b15a23 = zb[i1, i5] * za[i2, i3]
    u56 = za[i6, i5] * zb[i5, i4] * d56 - za[i6, i3] * zb[i3, i4] * d34
    prod = s6_125 * s3_124
    T = 1.5 * s12 * d12 * (t - tb) * prod / (xd3 * D3)
    T = T - 0.5 * (3.0 * s12 + 2.0 * t) * prod / xd3
    T = T + t / (X * xd3) * (
        b14a26 * (za[i3, i6] * zb[i6, i5] * d56 - za[i3, i4] * zb[i4, i5] * d34) - b15a23 * u56
    )
    T = T + a36b45 * s12 * t / xd3 - a34b56 * s6_124 * s6_124 / xd3
    T = T + 2.0 * za[i1, i6] * zb[i2, i4] * u56 / (b34a56 * D3)
    T = T + 2.0 * K / xd3 * (
        (
            za[i6, i5] * zb[i5, i2] * za[i2, i1] * zb[i1, i4] * d56
            - za[i6, i2] * zb[i2, i1] * za[i1, i3] * zb[i3, i4] * d34
            + K * s12 * d12
        )
        / b34a56
        + 2.0 * s3_265 * s12
    )
    T = T + (2.0 * b15a23 * K - b14a26 * s3_265 - b14a26 * K * d12 / b34a56) / (X * X)
    T = T + 0.5 * (
        3.0 * za[i6, i2] * zb[i2, i4] * za[i6, i1] * zb[i1, i4] / b34a56
        + za[i3, i2] * zb[i2, i5] * za[i3, i1] * zb[i1, i5] / a34b56
        + zb[i1, i4] * za[i1, i6] * zb[i4, i5] / zb[i3, i4]
        - zb[i2, i4] * za[i2, i6] * za[i3, i6] / za[i5, i6]
        + za[i2, i3] * zb[i2, i5] * za[i3, i6] / za[i3, i4]
        - za[i1, i3] * zb[i1, i5] * zb[i4, i5] / zb[i5, i6]
        + 4.0 * a36b45
    ) / X
    a16b24 = za[i1, i6] * zb[i2, i4]
    T = T + 0.5 * (a16b24 * a16b24 / b34a56 - a13b25 * a13b25 / a34b56) / Xb
    T = T - 0.5 * b14a26 * b14a26 * (t * d12 + 2.0 * s34 * s56) / (b34a56 * X * X * X)
    f = f + T * sh.I3

    # rational terms
    f = f + 0.5 * (tb * d12 + 2.0 * s34 * s56) / xd3 * (
        zb[i4, i5] * zb[i4, i5] / (zb[i3, i4] * zb[i5, i6])
        + za[i3, i6] * za[i3, i6] / (za[i3, i4] * za[i5, i6])
    )
    f = f + a36b45 * (t - tb) / xd3 - 0.5 * K * K / (b34a56 * t * X)
    return tree, tree * sh.V + f


def _orderings() -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    out = []
    for lab in LABEL_ORDER:
        p = tuple(i - 1 for i in lab)
        q = (p[0], p[1], p[5], p[4], p[3], p[2])
        out.append((p, q))
    return out


_ORDERINGS = _orderings()


def _amplitudes_core(za, zb, sh: _Shared, loop: bool, dtype) -> tuple[np.ndarray, np.ndarray | None]:
    n = sh.s12.shape[0]
    tree = np.empty((n, 8), dtype=dtype)
    one = np.empty((n, 8), dtype=dtype) if loop else None
    for j, (p, q) in enumerate(_ORDERINGS):
        t1, l1 = _abelian(za, zb, p, sh, loop)
        t2, l2 = _abelian(za, zb, q, sh, loop)
        tree[:, j] = t1 + t2
        if loop:
            one[:, j] = l1 + l2
    return tree, one


def amplitudes_double(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Tree and one-loop amplitudes (N, 8) complex128 at outgoing momenta ``k`` (N, 6, 4),
    plain double precision (no stability test)."""
    za, zb, s = spinor_products(k)
    sh = _shared_numpy(s, mu * mu, loop)
    return _amplitudes_core(za, zb, sh, loop, np.complex128)


def amplitudes_mp(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, dps: int = 40
) -> tuple[np.ndarray, np.ndarray | None]:
    """As :func:`amplitudes_double` in mpmath arithmetic with ``dps`` digits (slow: a few
    ms per point and configuration); momenta taken exactly as given, results rounded to
    complex128."""
    from zoo.plugins.processes.qqzz.spinors import spinor_products_mp

    with mpmath.workdps(dps):
        za, zb, s = spinor_products_mp(np.asarray(k))
        sh = _shared_mp(s, mpmath.mpf(mu) ** 2, loop)
        tree, one = _amplitudes_core(za, zb, sh, loop, object)
        to_c = np.vectorize(complex, otypes=[np.complex128])
        return to_c(tree), (to_c(one) if loop else None)
