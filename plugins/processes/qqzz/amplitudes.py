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

The same arithmetic runs on complex128 arrays (the compiled fast path), in compiled
double-double (:mod:`.ddamp`: the kernels of this module rewritten operation by operation by
:mod:`.ddgen`; the rescue of the few points where the double-precision result fails the
stability test) and on numpy object arrays of gmpy2/mpmath numbers (the rescue where
double-double is not enough: the threshold-and-beam corner, :data:`DD_MAX_LOSS`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import mpmath
import numpy as np
from numba import njit

from zoo.plugins.processes.qqzz import loopfunctions as lf
from zoo.plugins.processes.qqzz.spinors import spinor_products  # noqa: F401 (public re-export)

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


#: the four three-particle invariants t_{a b c} (0-based labels; a quark, (b, c) a lepton pair)
_TRIPLES: tuple[tuple[int, int, int], ...] = ((0, 2, 3), (1, 2, 3), (0, 4, 5), (1, 4, 5))


def _tkey(a: int, b: int, c: int) -> tuple[int, int, int]:
    """Key of ``t_{abc}`` (quark label first, pair sorted) in :data:`_TRIPLES`."""
    return (a, min(b, c), max(b, c))


@dataclass
class _Shared:
    """Invariants and loop functions shared by all 16 orderings of one set of points.

    ``t`` maps each triple of :data:`_TRIPLES` to ``t_{abc} = s_ab + s_ac + s_bc``; each such
    ``t`` is always paired with the invariant ``m = s_bc`` of its lepton pair (and
    ``t - m = s_ab + s_ac`` is formed without cancellation). Every ordering uses the
    ``t_{abc}`` of its own labels (momentum conservation, e.g. t134 = t256, is not used, so
    that the result does not depend on which of two equal invariants is taken when the
    input momenta conserve momentum only to rounding).
    """

    s: object  # (6, 6, N) s_ij
    t: dict  # triple -> t
    s12: object
    V: object = None
    I3: object = None
    Ls: dict | None = None  # triple -> Ls_{-1}^{2mh}(s12, t; s34, s56) without the I3m part
    L0: dict | None = None  # triple -> L0(-t, -m)
    L1: dict | None = None  # triple -> L1(-m, -t)
    Lt: dict | None = None  # triple -> ln(-t/-m) + ln(-s12/-m)
    Lsm: dict | None = None  # pair (b, c) -> ln(-m/-s12)


def _shared(s, mu2, loop: bool, fns: dict) -> _Shared:
    """Fill :class:`_Shared`; ``fns`` holds the (numpy or mpmath-vectorised) loop functions."""
    s12, s34, s56 = s[0, 1], s[2, 3], s[4, 5]
    tv = {(a, b, c): s[a, b] + s[a, c] + s[b, c] for (a, b, c) in _TRIPLES}
    sh = _Shared(s, tv, s12)
    if not loop:
        return sh
    lr = fns["log_ratio"]
    lmu = lr(s12, -mu2 + 0 * s12)  # ln(-s12 - i0) - ln(mu2)
    sh.V = -lmu * lmu / 2 + 3 * lmu / 2 - 3.5
    sh.I3 = fns["i3m"](s12, s34, s56)
    sh.Lsm = {(2, 3): lr(s34, s12), (4, 5): lr(s56, s12)}
    sh.Ls, sh.L0, sh.L1, sh.Lt = {}, {}, {}, {}
    for (a, b, c), t in tv.items():
        m = s[b, c]
        d = s[a, b] + s[a, c]  # t - m
        sh.Ls[(a, b, c)] = fns["ls2mh_t"](s12, t, s34, s56)
        sh.L0[(a, b, c)] = fns["l0"](t, m, d)
        sh.L1[(a, b, c)] = fns["l1"](m, t, -d)
        sh.Lt[(a, b, c)] = lr(t, m) - sh.Lsm[(b, c)]
    return sh


_NUMPY_FNS = {
    "log_ratio": lf.log_ratio,
    "i3m": lf.i3m,
    "ls2mh_t": lf.ls2mh_t,
    "l0": lf.l0,
    "l1": lf.l1,
}


def _mp_vec(fun):
    return np.frompyfunc(fun, fun.__code__.co_argcount, 1)


_MP_FNS = {
    "log_ratio": _mp_vec(lf.mp_log_ratio),
    "i3m": _mp_vec(lf.mp_i3m),
    "ls2mh_t": _mp_vec(lf.mp_ls2mh_t),
    "l0": _mp_vec(lf.mp_l0),
    "l1": _mp_vec(lf.mp_l1),
}


def _gm_fns() -> dict:
    """The gmpy2 loop functions, vectorised over object arrays (gmpy2 must be importable)."""
    return {
        "log_ratio": _mp_vec(lf.gm_log_ratio),
        "i3m": _mp_vec(lf.gm_i3m),
        "ls2mh_t": _mp_vec(lf.gm_ls2mh_t),
        "l0": _mp_vec(lf.gm_l0),
        "l1": _mp_vec(lf.gm_l1),
    }


def _flip_part(za, zb, q, sh: _Shared):
    """The L0/L1/log part of F^a ("G") for local labels q (0-based global indices) with the
    products ``za``, ``zb`` (swapped by the caller for the conjugate term)."""
    i1, i2, i3, i4, i5, i6 = q
    s = sh.s
    s12, s34, s56 = s[i1, i2], s[i3, i4], s[i5, i6]
    key = _tkey(i1, i3, i4)
    t = sh.t[key]
    tb = sh.t[_tkey(i2, i3, i4)]
    d12 = s12 - s34 - s56
    d56 = s56 - s12 - s34
    D3 = s12 * s12 + s34 * s34 + s56 * s56 - 2.0 * (s12 * s34 + s12 * s56 + s34 * s56)
    X = _sandwich(za, zb, i2, i5, i6, i1)
    K = _sandwich(za, zb, i6, i2, i5, i4)
    c = 1.0 / (zb[i3, i4] * za[i5, i6] * X)
    a61b14 = za[i6, i1] * zb[i1, i4]
    z26 = za[i2, i6]
    b14 = zb[i1, i4]
    L0 = sh.L0[key]
    Lt = sh.Lt[key]
    g = 0.5 * a61b14 * a61b14 * c / t * sh.L1[key]
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
        a34b45 * zb[i4, i5] / zb[i5, i6]
        + zb[i3, i4] * a36 * a36 / za[i5, i6]
        - 2.0 * a36 * zb[i4, i5]
    )
    h = (
        h
        + (_sandwich(za, zb, i3, i1, i4, i5) / zb[i5, i6] - za[i3, i4] * b14 * z26 / X)
        * (zb[i4, i5] * d12 - 2.0 * zb[i4, i3] * a36 * zb[i6, i5])
        / xd3
    )
    h = h + 4.0 * (a34b45 * s6_134 + za[i6, i3] * zb[i3, i4] * s3_245) / xd3
    h = h + 2.0 * d12 / xd3 * (zb[i4, i5] * s3_245 / zb[i5, i6] - a36 * s6_134 / za[i5, i6])
    return g + h * sh.Lsm[(key[1], key[2])]


def _abelian(za, zb, p, sh: _Shared, loop: bool, track: bool = False):
    """``(A^a_tree, A^a_1loop, size)`` for the ordering p (0-based global indices).

    ``size`` (only with ``track``) is the sum of the moduli of the large pieces of ``F^a``
    (the coefficients times Ls, I3m, the L0/L1 parts, and the total): divided by
    ``|A_1loop|`` it measures the cancellation, i.e. the loss of relative precision."""
    i1, i2, i3, i4, i5, i6 = p
    s = sh.s
    key = _tkey(i1, i3, i4)
    s12, s34, s56 = s[i1, i2], s[i3, i4], s[i5, i6]
    t = sh.t[key]
    K = _sandwich(za, zb, i6, i2, i5, i4)
    a13b25 = za[i1, i3] * zb[i2, i5]
    tree = a13b25 * K / (s34 * s56 * t)
    if not loop:
        return tree, None, None
    tb = sh.t[_tkey(i2, i3, i4)]
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
    f = cls * sh.Ls[key]
    # L0, L1, log parts and their conjugates
    g1 = _flip_part(za, zb, p, sh)
    g2 = _flip_part(zb, za, (i2, i1, i5, i6, i3, i4), sh)
    if track:
        mag = np.abs(f) + np.abs(g1) + np.abs(g2)
    f = f + g1 - g2

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
    T = (
        T
        + 0.5
        * (
            3.0 * za[i6, i2] * zb[i2, i4] * za[i6, i1] * zb[i1, i4] / b34a56
            + za[i3, i2] * zb[i2, i5] * za[i3, i1] * zb[i1, i5] / a34b56
            + zb[i1, i4] * za[i1, i6] * zb[i4, i5] / zb[i3, i4]
            - zb[i2, i4] * za[i2, i6] * za[i3, i6] / za[i5, i6]
            + za[i2, i3] * zb[i2, i5] * za[i3, i6] / za[i3, i4]
            - za[i1, i3] * zb[i1, i5] * zb[i4, i5] / zb[i5, i6]
            + 4.0 * a36b45
        )
        / X
    )
    a16b24 = za[i1, i6] * zb[i2, i4]
    T = T + 0.5 * (a16b24 * a16b24 / b34a56 - a13b25 * a13b25 / a34b56) / Xb
    T = T - 0.5 * b14a26 * b14a26 * (t * d12 + 2.0 * s34 * s56) / (b34a56 * X * X * X)
    ti3 = T * sh.I3
    f = f + ti3

    # rational terms
    f = f + 0.5 * (tb * d12 + 2.0 * s34 * s56) / xd3 * (
        zb[i4, i5] * zb[i4, i5] / (zb[i3, i4] * zb[i5, i6])
        + za[i3, i6] * za[i3, i6] / (za[i3, i4] * za[i5, i6])
    )
    f = f + a36b45 * (t - tb) / xd3 - 0.5 * K * K / (b34a56 * t * X)
    if track:
        return tree, tree * sh.V + f, mag + np.abs(ti3) + np.abs(f)
    return tree, tree * sh.V + f, None


def _orderings() -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    out = []
    for lab in LABEL_ORDER:
        p = tuple(i - 1 for i in lab)
        q = (p[0], p[1], p[5], p[4], p[3], p[2])
        out.append((p, q))
    return out


_ORDERINGS = _orderings()


def _amplitudes_core(za, zb, sh: _Shared, loop: bool, dtype, track: bool = False, columns=None):
    """``(tree, loop, cond)``: amplitudes (N, 8) and, with ``track``, the cancellation
    ratio ``cond`` (N, 8) = (sum of moduli of the large pieces) / |A_1loop|.
    ``columns`` restricts the work to some columns (the others are left zero)."""
    n = sh.s12.shape[0]
    tree = np.zeros((n, 8), dtype=dtype)
    one = np.zeros((n, 8), dtype=dtype) if loop else None
    cond = np.zeros((n, 8), dtype=np.float64) if (loop and track) else None
    for j, (p, q) in enumerate(_ORDERINGS):
        if columns is not None and j not in columns:
            continue
        t1, l1, m1 = _abelian(za, zb, p, sh, loop, track)
        t2, l2, m2 = _abelian(za, zb, q, sh, loop, track)
        tree[:, j] = t1 + t2
        if loop:
            one[:, j] = l1 + l2
            if track:
                a1 = np.abs(one[:, j])
                cond[:, j] = (m1 + m2 + np.abs(tree[:, j] * sh.V)) / np.where(a1 > 0, a1, 1e-300)
    return tree, one, cond


# ----------------------------------------------------------------------------------------
# compiled fast path (numba): the same arithmetic as :func:`_abelian` / :func:`_flip_part`,
# one point at a time with scalar temporaries (no (N,) arrays per operation)
# ----------------------------------------------------------------------------------------


@njit(cache=True, inline="always", error_model="numpy")
def _sw(za, zb, m, a, b, c, d):
    """``<a|(b + c)|d]`` (numba)."""
    return za[m, a, b] * zb[m, b, d] + za[m, a, c] * zb[m, c, d]


@njit(cache=True, inline="always", error_model="numpy")
def _tidx(a, b, c):
    """Index in :data:`_TRIPLES` of ``t_{abc}`` (a in {0, 1}, (b, c) = a lepton pair)."""
    return a + (2 if min(b, c) == 4 else 0)


@njit(cache=True, inline="always", error_model="numpy")
def _inv(z):
    """``1/z`` for complex ``z`` (no overflow care needed: |z|^2 stays far from the limits)."""
    r = 1.0 / (z.real * z.real + z.imag * z.imag)
    return complex(z.real * r, -z.imag * r)


@njit(cache=True, inline="always", error_model="numpy")
def _nb_flip(za, zb, m, i1, i2, i3, i4, i5, i6, s, tt, fl0, fl1, flt, flsm):
    """Numba version of :func:`_flip_part` for one point (divisions by reciprocals)."""
    s12 = s[m, i1, i2]
    s34 = s[m, i3, i4]
    s56 = s[m, i5, i6]
    key = _tidx(i1, i3, i4)
    t = tt[m, key]
    tb = tt[m, _tidx(i2, i3, i4)]
    d12 = s12 - s34 - s56
    d56 = s56 - s12 - s34
    D3 = s12 * s12 + s34 * s34 + s56 * s56 - 2.0 * (s12 * s34 + s12 * s56 + s34 * s56)
    X = _sw(za, zb, m, i2, i5, i6, i1)
    K = _sw(za, zb, m, i6, i2, i5, i4)
    rX = _inv(X)
    rD3 = 1.0 / D3
    rxd3 = rX * rD3
    rt = 1.0 / t
    r56a = _inv(za[m, i5, i6])
    r56b = _inv(zb[m, i5, i6])
    c = _inv(zb[m, i3, i4]) * r56a * rX
    a61b14 = za[m, i6, i1] * zb[m, i1, i4]
    z26 = za[m, i2, i6]
    b14 = zb[m, i1, i4]
    g = 0.5 * a61b14 * a61b14 * c * rt * fl1[m, key]
    g = g + (2.0 * a61b14 * K - za[m, i1, i6] * z26 * b14 * b14 * t * rX) * c * fl0[m, key] * (
        1.0 / s34
    )
    g = g - (0.5 * z26 * b14 * K * rX + 0.75 * K * K * rt) * c * flt[m, key]

    a34b45 = za[m, i3, i4] * zb[m, i4, i5]
    a36 = za[m, i3, i6]
    s3_124 = _sw(za, zb, m, i3, i1, i2, i4)
    s6_125 = _sw(za, zb, m, i6, i1, i2, i5)
    s6_134 = _sw(za, zb, m, i6, i1, i3, i4)
    s3_245 = _sw(za, zb, m, i3, i2, i4, i5)
    bit1 = (zb[m, i4, i1] * za[m, i1, i3] + zb[m, i4, i2] * za[m, i2, i3]) * zb[m, i3, i5] + (
        zb[m, i4, i1] * za[m, i1, i4] + zb[m, i4, i2] * za[m, i2, i4]
    ) * zb[m, i4, i5]
    bit2 = (zb[m, i4, i5] * za[m, i5, i1] + zb[m, i4, i6] * za[m, i6, i1]) * zb[m, i1, i5] + (
        zb[m, i4, i5] * za[m, i5, i2] + zb[m, i4, i6] * za[m, i6, i2]
    ) * zb[m, i2, i5]
    h = 1.5 * d56 * (t - tb) * rD3 * s3_124 * s6_125
    h = h + 1.5 * a36 * bit1
    h = h + 0.5 * a34b45 * bit2 * r56b
    h = h + b14 * z26 * t * (a36 * d12 - 2.0 * a34b45 * za[m, i5, i6]) * r56a * rX
    h = h + 0.5 * t * (
        a34b45 * zb[m, i4, i5] * r56b + zb[m, i3, i4] * a36 * a36 * r56a - 2.0 * a36 * zb[m, i4, i5]
    )
    h = h + (_sw(za, zb, m, i3, i1, i4, i5) * r56b - za[m, i3, i4] * b14 * z26 * rX) * (
        zb[m, i4, i5] * d12 - 2.0 * zb[m, i4, i3] * a36 * zb[m, i6, i5]
    )
    h = h + 4.0 * (a34b45 * s6_134 + za[m, i6, i3] * zb[m, i3, i4] * s3_245)
    h = h + 2.0 * d12 * (zb[m, i4, i5] * s3_245 * r56b - a36 * s6_134 * r56a)
    return g + h * rxd3 * flsm[m, 0 if min(i3, i4) == 2 else 1]


@njit(cache=True, inline="always", error_model="numpy")
def _nb_abelian(
    za, zb, m, i1, i2, i3, i4, i5, i6, s, tt, fls, fl0, fl1, flt, flsm, V, I3, track, out
):
    """Numba version of :func:`_abelian` (one-loop part) for one point and ordering ``p``;
    writes ``out[0] = tree``, ``out[1] = loop``, ``out[2] = size`` (real part)."""
    key = _tidx(i1, i3, i4)
    s12 = s[m, i1, i2]
    s34 = s[m, i3, i4]
    s56 = s[m, i5, i6]
    t = tt[m, key]
    rt = 1.0 / t
    K = _sw(za, zb, m, i6, i2, i5, i4)
    a13b25 = za[m, i1, i3] * zb[m, i2, i5]
    tree = a13b25 * K * (1.0 / (s34 * s56 * t))
    out[0] = tree
    tb = tt[m, _tidx(i2, i3, i4)]
    d12 = s12 - s34 - s56
    d34 = s34 - s12 - s56
    d56 = s56 - s12 - s34
    D3 = s12 * s12 + s34 * s34 + s56 * s56 - 2.0 * (s12 * s34 + s12 * s56 + s34 * s56)
    X = _sw(za, zb, m, i2, i5, i6, i1)
    Xb = _sw(za, zb, m, i1, i5, i6, i2)
    Kc = _sw(za, zb, m, i6, i2, i5, i1)
    K2 = _sw(za, zb, m, i2, i5, i6, i4)
    rX = _inv(X)
    rX3 = rX * rX * rX
    rXb = _inv(Xb)
    rD3 = 1.0 / D3
    rxd3 = rX * rD3
    r34a = _inv(za[m, i3, i4])
    r34b = _inv(zb[m, i3, i4])
    r56a = _inv(za[m, i5, i6])
    r56b = _inv(zb[m, i5, i6])
    rb34a56 = r34b * r56a
    ra34b56 = r34a * r56b
    a34b56 = za[m, i3, i4] * zb[m, i5, i6]
    a36b45 = za[m, i3, i6] * zb[m, i4, i5]

    kk = K2 * Kc
    cls = (a13b25 * a13b25 * ra34b56 * rXb - kk * kk * rb34a56 * rX3) * rt
    f = cls * fls[m, key]
    g1 = _nb_flip(za, zb, m, i1, i2, i3, i4, i5, i6, s, tt, fl0, fl1, flt, flsm)
    g2 = _nb_flip(zb, za, m, i2, i1, i5, i6, i3, i4, s, tt, fl0, fl1, flt, flsm)
    mag = 0.0
    if track:
        mag = abs(f) + abs(g1) + abs(g2)
    f = f + g1 - g2

    s6_125 = _sw(za, zb, m, i6, i1, i2, i5)
    s3_124 = _sw(za, zb, m, i3, i1, i2, i4)
    s6_124 = _sw(za, zb, m, i6, i1, i2, i4)
    s3_265 = _sw(za, zb, m, i3, i2, i6, i5)
    b14a26 = zb[m, i1, i4] * za[m, i2, i6]
    b15a23 = zb[m, i1, i5] * za[m, i2, i3]
    u56 = za[m, i6, i5] * zb[m, i5, i4] * d56 - za[m, i6, i3] * zb[m, i3, i4] * d34
    prod = s6_125 * s3_124
    T = 1.5 * s12 * d12 * (t - tb) * rD3 * prod
    T = T - 0.5 * (3.0 * s12 + 2.0 * t) * prod
    T = T + t * rX * (
        b14a26 * (za[m, i3, i6] * zb[m, i6, i5] * d56 - za[m, i3, i4] * zb[m, i4, i5] * d34)
        - b15a23 * u56
    )
    T = T + a36b45 * s12 * t - a34b56 * s6_124 * s6_124
    T = T + 2.0 * K * (
        (
            za[m, i6, i5] * zb[m, i5, i2] * za[m, i2, i1] * zb[m, i1, i4] * d56
            - za[m, i6, i2] * zb[m, i2, i1] * za[m, i1, i3] * zb[m, i3, i4] * d34
            + K * s12 * d12
        )
        * rb34a56
        + 2.0 * s3_265 * s12
    )
    T = T * rxd3
    T = T + 2.0 * za[m, i1, i6] * zb[m, i2, i4] * u56 * rb34a56 * rD3
    T = T + (2.0 * b15a23 * K - b14a26 * s3_265 - b14a26 * K * d12 * rb34a56) * rX * rX
    T = (
        T
        + 0.5
        * (
            3.0 * za[m, i6, i2] * zb[m, i2, i4] * za[m, i6, i1] * zb[m, i1, i4] * rb34a56
            + za[m, i3, i2] * zb[m, i2, i5] * za[m, i3, i1] * zb[m, i1, i5] * ra34b56
            + zb[m, i1, i4] * za[m, i1, i6] * zb[m, i4, i5] * r34b
            - zb[m, i2, i4] * za[m, i2, i6] * za[m, i3, i6] * r56a
            + za[m, i2, i3] * zb[m, i2, i5] * za[m, i3, i6] * r34a
            - za[m, i1, i3] * zb[m, i1, i5] * zb[m, i4, i5] * r56b
            + 4.0 * a36b45
        )
        * rX
    )
    a16b24 = za[m, i1, i6] * zb[m, i2, i4]
    T = T + 0.5 * (a16b24 * a16b24 * rb34a56 - a13b25 * a13b25 * ra34b56) * rXb
    T = T - 0.5 * b14a26 * b14a26 * (t * d12 + 2.0 * s34 * s56) * rb34a56 * rX3
    ti3 = T * I3
    f = f + ti3

    f = f + 0.5 * (tb * d12 + 2.0 * s34 * s56) * rxd3 * (
        zb[m, i4, i5] * zb[m, i4, i5] * r34b * r56b + za[m, i3, i6] * za[m, i3, i6] * r34a * r56a
    )
    f = f + a36b45 * (t - tb) * rxd3 - 0.5 * K * K * rb34a56 * rt * rX
    out[1] = tree * V + f
    if track:
        out[2] = mag + abs(ti3) + abs(f)


@njit(cache=True, error_model="numpy")
def _nb_tree(za, zb, s, tt, orders, tree):
    """Tree amplitudes (N, 8) of all columns (``za``, ``zb``, ``s`` (N, 6, 6), ``tt`` (N, 4))."""
    for m in range(za.shape[0]):
        for j in range(8):
            acc = 0j
            for h in range(2):
                p = orders[j, h]
                i1, i2, i3, i4, i5, i6 = p[0], p[1], p[2], p[3], p[4], p[5]
                K = za[m, i6, i2] * zb[m, i2, i4] + za[m, i6, i5] * zb[m, i5, i4]
                a13b25 = za[m, i1, i3] * zb[m, i2, i5]
                acc += a13b25 * K * (1.0 / (s[m, i3, i4] * s[m, i5, i6] * tt[m, _tidx(i1, i3, i4)]))
            tree[m, j] = acc


@njit(cache=True, error_model="numpy")
def _nb_core(za, zb, s, tt, fls, fl0, fl1, flt, flsm, V, I3, orders, track, tree, one, cond):
    """Tree and one-loop amplitudes of all columns: ``za``, ``zb``, ``s`` (N, 6, 6); ``tt``
    ... (N, 4); ``flsm`` (N, 2); ``V``, ``I3`` (N,); ``orders`` (8, 2, 6); outputs (N, 8)."""
    o = np.zeros((2, 3), dtype=np.complex128)  # both boson orderings of A6 (see docstring)
    for m in range(za.shape[0]):
        for j in range(8):
            for k in range(2):
                p = orders[j, k]
                _nb_abelian(za, zb, m, p[0], p[1], p[2], p[3], p[4], p[5], s, tt, fls, fl0,
                            fl1, flt, flsm, V[m], I3[m], track, o[k])
            o1, o2 = o[0], o[1]
            tr = o1[0] + o2[0]
            lp = o1[1] + o2[1]
            tree[m, j] = tr
            one[m, j] = lp
            if track:
                a1 = abs(lp)
                if not a1 > 0.0:
                    a1 = 1e-300
                cond[m, j] = (o1[2].real + o2[2].real + abs(tr * V[m])) / a1


@njit(cache=True, error_model="numpy")
def _nb_spinors(k, za, zb, s):
    """``<ij>``, ``[ij]``, ``s_ij`` (N, 6, 6) of momenta ``k`` (N, 6, 4), conventions of
    :mod:`.spinors` (same arithmetic as :func:`.spinors.spinor_products`)."""
    n, npart = k.shape[0], k.shape[1]
    l1 = np.empty(npart, dtype=np.complex128)
    l2 = np.empty(npart, dtype=np.complex128)
    es = np.empty(npart)
    for m in range(n):
        for i in range(npart):
            sg = -1.0 if k[m, i, 0] < 0.0 else 1.0
            q0 = k[m, i, 0] * sg
            q1 = k[m, i, 1] * sg
            q2 = k[m, i, 2] * sg
            q3 = k[m, i, 3] * sg
            kp = q0 + q3
            km = q0 - q3
            kperp = complex(q1, q2)
            if kp >= km:
                big = np.sqrt(kp)
                inv = 1.0 / big if big > 0.0 else 1.0
                a = complex(big, 0.0)
                b = kperp * inv
            else:
                big = np.sqrt(km)
                inv = 1.0 / big if big > 0.0 else 1.0
                a = kperp.conjugate() * inv
                b = complex(big, 0.0)
            if sg < 0.0:
                a = a * 1j
                b = b * 1j
            l1[i] = a
            l2[i] = b
            es[i] = sg
        for i in range(npart):
            for j in range(npart):
                v = l1[i] * l2[j] - l2[i] * l1[j]
                za[m, i, j] = v
                zb[m, i, j] = -(es[i] * es[j]) * v.conjugate()
                s[m, i, j] = 2.0 * (
                    k[m, i, 0] * k[m, j, 0]
                    - k[m, i, 1] * k[m, j, 1]
                    - k[m, i, 2] * k[m, j, 2]
                    - k[m, i, 3] * k[m, j, 3]
                )


_ORDER_ARRAY = np.array([[p, q] for p, q in _ORDERINGS], dtype=np.int64)  # (8, 2, 6)


def _shared_arrays(s, mu2: float, loop: bool):
    """Invariants and loop functions for the compiled path from ``s`` (N, 6, 6): ``t`` (N, 4)
    in the order of :data:`_TRIPLES` and, with ``loop``, ``(Ls, L0, L1, Lt)`` (N, 4),
    ``Lsm`` (N, 2) (pairs (3, 4), (5, 6)), ``V``, ``I3`` (N,); as :func:`_shared`."""
    n = s.shape[0]
    s12, s34, s56 = s[:, 0, 1], s[:, 2, 3], s[:, 4, 5]
    tt = np.empty((n, 4))
    for j, (a, b, c) in enumerate(_TRIPLES):
        tt[:, j] = s[:, a, b] + s[:, a, c] + s[:, b, c]
    if not loop:
        z = np.zeros((n, 4), dtype=np.complex128)
        return tt, z, z, z, z, z[:, :2], z[:, 0], np.zeros(n)
    lr = lf.log_ratio
    lmu = lr(s12, -mu2 + 0 * s12)
    V = -lmu * lmu / 2 + 3 * lmu / 2 - 3.5
    I3 = lf.i3m(s12, s34, s56)
    lsm = np.empty((n, 2), dtype=np.complex128)
    lsm[:, 0] = lr(s34, s12)
    lsm[:, 1] = lr(s56, s12)
    fls = np.empty((n, 4), dtype=np.complex128)
    fl0 = np.empty((n, 4), dtype=np.complex128)
    fl1 = np.empty((n, 4), dtype=np.complex128)
    flt = np.empty((n, 4), dtype=np.complex128)
    for j, (a, b, c) in enumerate(_TRIPLES):
        t = tt[:, j]
        m = s[:, b, c]
        d = s[:, a, b] + s[:, a, c]
        fls[:, j] = lf.ls2mh_t(s12, t, s34, s56)
        fl0[:, j] = lf.l0(t, m, d)
        fl1[:, j] = lf.l1(m, t, -d)
        flt[:, j] = lr(t, m) - lsm[:, 0 if b == 2 else 1]
    return tt, fls, fl0, fl1, flt, lsm, V, I3


def _amplitudes_fast(k: np.ndarray, mu: float, loop: bool, track: bool, group: int = 1):
    """``(tree, loop, cond)`` (N, 8) by the compiled path (see :func:`_amplitudes_core`).
    ``group``: consecutive blocks of this many points share their production kinematics
    (k1, k2 and the boson momenta k3 + k4, k5 + k6, e.g. the decay nodes of one 2D/4D point):
    the invariants t_abc, s12, s34, s56 and all loop functions are then taken from the first
    point of each block (they differ between the points of a block only by rounding)."""
    k = np.ascontiguousarray(k, dtype=np.float64)
    n = k.shape[0]
    za = np.empty((n, 6, 6), dtype=np.complex128)
    zb = np.empty((n, 6, 6), dtype=np.complex128)
    s = np.empty((n, 6, 6))
    _nb_spinors(k, za, zb, s)
    if group > 1:
        if n % group:
            raise ValueError(f"{n} points are not blocks of {group}")
        shared = _shared_arrays(np.ascontiguousarray(s[::group]), mu * mu, loop)
        tt, fls, fl0, fl1, flt, lsm, V, I3 = (np.repeat(a, group, axis=0) for a in shared)
    else:
        tt, fls, fl0, fl1, flt, lsm, V, I3 = _shared_arrays(s, mu * mu, loop)
    tree = np.zeros((n, 8), dtype=np.complex128)
    one = np.zeros((n, 8), dtype=np.complex128)
    cond = np.zeros((n, 8)) if track else np.zeros((0, 8))
    if loop:
        _nb_core(
            za, zb, s, tt, fls, fl0, fl1, flt, lsm, V, I3, _ORDER_ARRAY, track, tree, one, cond
        )
    else:
        _nb_tree(za, zb, s, tt, _ORDER_ARRAY, tree)
    return tree, (one if loop else None), (cond if track else None)


def amplitudes_double(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Tree and one-loop amplitudes (N, 8) complex128 at outgoing momenta ``k`` (N, 6, 4),
    plain double precision (no stability test)."""
    tree, one, _ = _amplitudes_fast(k, mu, loop, False)
    return tree, one


def amplitudes_mp_raw(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, columns=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Tree and one-loop amplitudes (N, 8) as object arrays of ``mpmath.mpc`` at the current
    working precision ``mpmath.mp.dps`` (call inside ``mpmath.workdps``); momenta ``k``
    (N, 6, 4) float64 (taken exactly) or object arrays of ``mpmath.mpf`` (e.g. from
    :func:`.kinematics.x_to_momenta_mp`). ``columns`` restricts the work (others are 0)."""
    from zoo.plugins.processes.qqzz.spinors import spinor_products_mp

    cols = None if columns is None else set(int(c) for c in columns)
    za, zb, s = spinor_products_mp(np.asarray(k))
    sh = _shared(s, mpmath.mpf(mu) ** 2, loop, _MP_FNS)
    tree, one, _ = _amplitudes_core(za, zb, sh, loop, object, columns=cols)
    return tree, (one if loop else None)


def have_gmpy2() -> bool:
    """Whether the gmpy2 (MPFR) backend of the rescue is available."""
    try:
        import gmpy2  # noqa: F401
    except ImportError:
        return False
    return True


def _to_gmpy2(v):
    """An ``mpmath.mpf`` as a ``gmpy2.mpfr``, exactly (rounded only to the context precision
    when the mantissa is longer)."""
    import gmpy2

    sign, man, exp, bc = v._mpf_
    if not man:
        return gmpy2.mpfr(0)
    r = gmpy2.mul_2exp(gmpy2.mpfr(int(man), max(int(bc), 2)), int(exp))
    return -r if sign else r


def amplitudes_gm_raw(
    k: np.ndarray, *, mu: float = MU_DEFAULT, loop: bool = True, columns=None
) -> tuple[np.ndarray, np.ndarray | None]:
    """As :func:`amplitudes_mp_raw` with gmpy2 (MPFR) numbers at the precision of the current
    gmpy2 context (``with gmpy2.context(precision=bits)``); momenta ``k`` (N, 6, 4) object
    arrays of ``gmpy2.mpfr`` or ``mpmath.mpf`` (converted exactly) or float64. Results are
    object arrays of ``gmpy2.mpc``. The same formulas as the mpmath path, ~5x faster."""
    import gmpy2

    from zoo.plugins.processes.qqzz.spinors import spinor_products_gm

    k = np.asarray(k)
    if k.dtype == object:
        mpfr_t = type(gmpy2.mpfr(0))

        def conv(v):
            if isinstance(v, mpfr_t):
                return v
            if isinstance(v, mpmath.mpf):
                return _to_gmpy2(v)  # exactly (mpmath.mpf(v) would round to mp.prec)
            return gmpy2.mpfr(float(v))

        k = np.vectorize(conv, otypes=[object])(k)
    cols = None if columns is None else set(int(c) for c in columns)
    za, zb, s = spinor_products_gm(k)
    sh = _shared(s, gmpy2.mpfr(mu) ** 2, loop, _gm_fns())
    tree, one, _ = _amplitudes_core(za, zb, sh, loop, object, columns=cols)
    return tree, (one if loop else None)


def amplitudes_mp(
    k: np.ndarray,
    *,
    mu: float = MU_DEFAULT,
    loop: bool = True,
    dps: int = 32,
    columns=None,
    backend: str = "mpmath",
) -> tuple[np.ndarray, np.ndarray | None]:
    """As :func:`amplitudes_double` in mpmath arithmetic with ``dps`` digits (slow: tens of
    ms per point); momenta taken exactly as given (float64, or object arrays of mpmath
    reals), results rounded to complex128.
    ``columns`` (iterable of column indices) restricts the work; other columns are 0.
    ``backend="gmpy2"``: the same formulas in gmpy2 (MPFR) at ``dps`` digits (~3x faster),
    :func:`amplitudes_gm_raw`."""
    if backend == "gmpy2":
        import gmpy2

        with gmpy2.context(precision=int(np.ceil(dps * 3.3219281)) + 8):
            tree, one = amplitudes_gm_raw(k, mu=mu, loop=loop, columns=columns)
            to_c = np.vectorize(complex, otypes=[np.complex128])
            return to_c(tree), (to_c(one) if loop else None)
    with mpmath.workdps(dps):
        tree, one = amplitudes_mp_raw(k, mu=mu, loop=loop, columns=columns)
        to_c = np.vectorize(complex, otypes=[np.complex128])
        return to_c(tree), (to_c(one) if loop else None)


# ----------------------------------------------------------------------------------------
# stability test and rescue
# ----------------------------------------------------------------------------------------

#: candidates for the stability test: estimated cancellation loss 1e-16 * cond above this
CANDIDATE_LOSS = 1e-13
#: rescue threshold on the relative change of f00/f01/f11 under a rotation of the frame
RESCUE_THRESHOLD = 3e-10
#: entries whose estimated cancellation loss alone exceeds this are rescued without the test
#: (the rotated frame can miss losses of the loop functions near the Gram threshold)
DIRECT_LOSS = 3e-11
# a fixed generic rotation (no symmetry axis of the event); orthonormal to rounding
_ROT = np.linalg.qr(np.array([[0.36, -0.48, 0.8], [0.8, 0.6, 0.0], [-0.48, 0.64, 0.6]]))[0]
# a second one for the x path (the largest change over two frames is the estimate)
_ROT2 = np.linalg.qr(np.array([[0.48, 0.6, -0.64], [-0.6, 0.768, 0.224], [0.64, 0.224, 0.736]]))[0]


@dataclass
class RescueInfo:
    """What the stability test and rescue did for one call."""

    n_points: int = 0
    n_candidates: int = 0  # points given the rotated re-evaluation
    n_rescued_points: int = 0  # points re-evaluated in extended precision (dd or MPFR)
    n_rescued_entries: int = 0  # (point, configuration) entries re-evaluated
    n_rescued_dd: int = 0  # of the rescued points: in compiled double-double (the rest MPFR)
    seconds_test: float = 0.0
    seconds_rescue: float = 0.0


def _rel_changes(t1, l1, t2, l2) -> np.ndarray:
    """Largest relative change of f00, f11 and f01 (relative to sqrt(f00 f11)) per entry."""
    a0, a1 = np.abs(t1), np.abs(l1)
    d00 = np.abs(np.abs(t2) ** 2 - a0**2) / np.maximum(a0**2, 1e-300)
    d11 = np.abs(np.abs(l2) ** 2 - a1**2) / np.maximum(a1**2, 1e-300)
    f01a = 2.0 * (np.conj(t1) * l1).real
    f01b = 2.0 * (np.conj(t2) * l2).real
    d01 = np.abs(f01b - f01a) / np.maximum(a0 * a1, 1e-300)
    return np.maximum(np.maximum(d00, d11), d01)


def amplitudes(
    k: np.ndarray,
    *,
    mu: float = MU_DEFAULT,
    loop: bool = True,
    rescue: bool = True,
    threshold: float = RESCUE_THRESHOLD,
    dps: int = 32,
) -> tuple[np.ndarray, np.ndarray | None, RescueInfo]:
    """Tree and one-loop amplitudes (N, 8) complex128 with stability test and rescue.

    Stability test (loop only): entries whose estimated cancellation loss
    ``1e-16 * cond`` exceeds :data:`CANDIDATE_LOSS` are re-evaluated in double precision in
    a rotated frame; where f00, f01 or f11 change by more than ``threshold`` the entry is
    re-evaluated from the same momenta: in compiled double-double (:mod:`.ddamp`) for
    ``dps <=`` :data:`DPS_BASE`, else at ``dps`` digits (gmpy2 when installed, else mpmath).
    The tree needs no rescue (its cancellations are mild)."""
    k = np.asarray(k, dtype=np.float64)
    info = RescueInfo(n_points=k.shape[0])
    track = loop and rescue
    tree, one, cond = _amplitudes_fast(k, mu, loop, track)
    if not track:
        return tree, one, info
    t0 = time.perf_counter()
    cand = np.flatnonzero((1e-16 * cond > CANDIDATE_LOSS).any(axis=1))
    backend = "gmpy2" if have_gmpy2() else "mpmath"
    info.n_candidates = int(cand.size)
    if cand.size:
        kr = k[cand].copy()
        kr[..., 1:] = kr[..., 1:] @ _ROT.T
        tr, lr_, _ = _amplitudes_fast(kr, mu, True, False)
        bad = (_rel_changes(tree[cand], one[cand], tr, lr_) > threshold) | (
            1e-16 * cond[cand] > DIRECT_LOSS
        )
        info.seconds_test = time.perf_counter() - t0
        t1 = time.perf_counter()
        rows = np.flatnonzero(bad.any(axis=1))
        info.n_rescued_points = int(rows.size)
        if rows.size and dps <= DPS_BASE:  # compiled double-double rescue (~32 digits)
            from zoo.plugins.processes.qqzz.ddamp import amplitudes_k_dd

            idx, mask = cand[rows], bad[rows]
            mt, ml = amplitudes_k_dd(k[idx], mu=mu, loop=True, columns=mask)
            tree[idx] = np.where(mask, mt, tree[idx])
            one[idx] = np.where(mask, ml, one[idx])
            info.n_rescued_entries += int(mask.sum())
            info.n_rescued_dd = int(rows.size)
            rows = rows[:0]
        for r in rows:
            i = cand[r]
            cols = np.flatnonzero(bad[r])
            mt, ml = amplitudes_mp(
                k[i : i + 1], mu=mu, loop=True, dps=dps, columns=cols, backend=backend
            )
            tree[i, cols] = mt[0, cols]
            one[i, cols] = ml[0, cols]
            info.n_rescued_entries += int(cols.size)
        info.seconds_rescue = time.perf_counter() - t1
    return tree, one, info


# ----------------------------------------------------------------------------------------
# f(x) exact: stability test in terms of x, rescue from the exact kinematics of x
# ----------------------------------------------------------------------------------------

#: threshold face: points with x1 below this are always evaluated from the exact kinematics
X1_EXACT = 1e-4
#: beam faces: points with min(x2, 1 - x2) below this likewise
BEAM_EXACT = 1e-4
#: near a zero of the tree of a column (|A_tree| / rms over the 8 columns below this) the
#: entry is a candidate for the rotation test (its f00 is sensitive to the momenta)
TREE_ZERO = 1e-3
#: rotation-test threshold of the x path (the error to the exact f(x) is of the size of the
#: change under a rotation; criterion (b) allows 1e-9)
X_THRESHOLD = 1e-10
#: the x path rescues entries whose estimated cancellation loss alone exceeds this (the
#: rotation test underestimates the loss near the Gram threshold: an edges_4k entry with
#: loss 2e-11 and a rotated change below 1e-10 was off by 1.1e-9)
DIRECT_LOSS_X = 1e-11
#: digits of the rescue away from the faces; ``exact_dps`` adds the losses near them
DPS_BASE = 32
DPS_MAX = 400


def exact_dps(x: np.ndarray) -> np.ndarray:
    """Working precision (decimal digits, (N,) int64) of the rescue from the exact kinematics:
    ``32 + 2 log10(1/x1) + 2 log10(1/min(x2, 1 - x2))`` (each log clipped at 0), at most
    :data:`DPS_MAX`. Measured loss: about 1 digit per decade of x1 (Gram determinant of
    the triangle) and 1.5 per decade of the beam distance (``<2|(5+6)|1]^3`` in the
    denominators), so at x1 = 1e-9, x2 = 1e-11 (68 digits) more than 30 digits remain."""
    x = np.asarray(x, dtype=np.float64)
    b = np.minimum(x[:, 1], 1.0 - x[:, 1])
    with np.errstate(divide="ignore"):
        d1 = np.clip(-np.log10(x[:, 0]), 0.0, DPS_MAX)
        db = np.clip(-np.log10(b), 0.0, DPS_MAX)
    return np.minimum(DPS_BASE + np.ceil(2.0 * d1 + 2.0 * db), DPS_MAX).astype(np.int64)


def amplitudes_x_mp(
    x: np.ndarray,
    *,
    mu: float = MU_DEFAULT,
    loop: bool = True,
    dps=None,
    columns=None,
    backend: str | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Amplitudes (N, 8) complex128 at the exact kinematics of the points ``x`` (N, 8): the
    map of :func:`.kinematics.x_to_momenta_mp` and the amplitudes in mpmath at ``dps``
    digits (an int, or (N,) ints; default :func:`exact_dps`), then rounded. ``columns``: one
    iterable of columns for all points, or a list of N such (None = all 8); the other
    columns are 0. A singular point (x1 = 0, a boson along the beam) gives NaN (or inf).
    ``backend``: "gmpy2" (MPFR, ~5x faster; the default when gmpy2 is installed) or
    "mpmath"; the map itself is always evaluated in mpmath."""
    from zoo.plugins.processes.qqzz.kinematics import x_to_momenta_mp

    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    dps_arr = exact_dps(x) if dps is None else np.broadcast_to(np.asarray(dps), (n,))
    tree = np.zeros((n, 8), dtype=np.complex128)
    one = np.zeros((n, 8), dtype=np.complex128) if loop else None
    to_c = np.vectorize(complex, otypes=[np.complex128])
    gm = have_gmpy2() if backend is None else backend == "gmpy2"
    for i in range(n):
        cols = columns[i] if isinstance(columns, list) else columns
        d = int(dps_arr[i])
        k = x_to_momenta_mp(x[i : i + 1], d + 10)
        if gm:
            import gmpy2

            with gmpy2.context(precision=int(np.ceil(d * 3.3219281)) + 8):
                t, lo = amplitudes_gm_raw(k, mu=mu, loop=loop, columns=cols)
                tree[i] = to_c(t[0])
                if loop:
                    one[i] = to_c(lo[0])
            continue
        try:
            with mpmath.workdps(d):
                t, lo = amplitudes_mp_raw(k, mu=mu, loop=loop, columns=cols)
                tree[i] = to_c(t[0])
                if loop:
                    one[i] = to_c(lo[0])
        except ZeroDivisionError:
            tree[i] = np.nan
            if loop:
                one[i] = np.nan
    return tree, one


def _tree_zero(tree: np.ndarray) -> np.ndarray:
    """``|A_tree| / rms over the 8 columns`` (N, 8) < :data:`TREE_ZERO`."""
    a = np.abs(tree)
    rms = np.sqrt(np.mean(a * a, axis=1, keepdims=True))
    return a < TREE_ZERO * np.where(rms > 0.0, rms, 1.0)


#: the compiled double-double rescue (~32 digits) is used where the estimated digit loss of
#: the point (:func:`.ddamp.dd_loss_digits`: 1 per decade of x1, 1.5 per decade of the beam
#: distance) is at most this; beyond (the threshold-and-beam corner) MPFR at :func:`exact_dps`.
#: Measured on deep_edges_4k (dd against MPFR, f errors, 25 points per bin): loss 14-16:
#: 1.9e-15, 16-18: 2.7e-14, 18-20: 5.3e-10 (fails criterion (b) margins), hence 17
DD_MAX_LOSS = 17.0


def _rescue_x(x, rows, mask, tree, one, mu, loop, dd: bool):
    """Overwrite the entries ``mask`` (R, 8) of the points ``rows`` of ``tree`` / ``one`` with
    their values at the exact kinematics of x: compiled double-double where
    :func:`.ddamp.dd_loss_digits` <= :data:`DD_MAX_LOSS` (and ``dd``), MPFR/mpmath at
    :func:`exact_dps` elsewhere. Returns ``(tree, one, points done in dd)``."""
    from zoo.plugins.processes.qqzz import ddamp

    use_dd = ddamp.dd_loss_digits(x[rows]) <= DD_MAX_LOSS
    if not dd:
        use_dd[:] = False
    if use_dd.any():
        r, mk = rows[use_dd], mask[use_dd]
        mt, ml = ddamp.amplitudes_x_dd(x[r], mu=mu, loop=loop, columns=mk)
        tree[r] = np.where(mk, mt, tree[r])
        if loop:
            one[r] = np.where(mk, ml, one[r])
    r, mk = rows[~use_dd], mask[~use_dd]
    if r.size:
        cols = [np.flatnonzero(m).tolist() for m in mk]
        mt, ml = amplitudes_x_mp(x[r], mu=mu, loop=loop, columns=cols)
        for j, i in enumerate(r):
            tree[i, cols[j]] = mt[j, cols[j]]
            if loop:
                one[i, cols[j]] = ml[j, cols[j]]
    return tree, one, int(use_dd.sum())


def amplitudes_x(
    x: np.ndarray,
    *,
    mu: float = MU_DEFAULT,
    loop: bool = True,
    rescue: bool = True,
    threshold: float = X_THRESHOLD,
    dd: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, RescueInfo]:
    """Tree and one-loop amplitudes (N, 8) complex128 of the points ``x`` (N, 8) of [0,1]^8,
    accurate as functions of x (criterion (b) of the reference data: 1e-9 relative on f00,
    f11 and on f01 / sqrt(f00 f11)).

    Stability test in terms of x: (1) points near the threshold (``x1 <`` :data:`X1_EXACT`)
    or the beam (``min(x2, 1 - x2) <`` :data:`BEAM_EXACT`) are evaluated from the exact
    kinematics of x (:func:`amplitudes_x_mp`) in all columns; (2) elsewhere the compiled
    path runs at the float64 momenta of :func:`.kinematics.x_to_momenta` (a few ulps from the
    exact ones), and the entries with a large estimated cancellation (as in
    :func:`amplitudes`) or near a tree zero (:data:`TREE_ZERO`) are re-evaluated in two
    rotated frames; where f00, f01 or f11 change by more than ``threshold`` in either (or the
    cancellation alone exceeds :data:`DIRECT_LOSS_X`), the entry is recomputed from the exact
    kinematics. ``RescueInfo.n_rescued_points`` counts the points recomputed in extended
    precision (both kinds), ``n_rescued_dd`` those of them done by the compiled double-double
    path (:mod:`.ddamp`; ``dd=True``, where :func:`.ddamp.dd_loss_digits` <=
    :data:`DD_MAX_LOSS`); the rest (the threshold-and-beam corner) in MPFR/mpmath by
    :func:`amplitudes_x_mp` at :func:`exact_dps` digits."""
    from zoo.plugins.processes.qqzz.kinematics import x_to_momenta

    x = np.asarray(x, dtype=np.float64)
    info = RescueInfo(n_points=x.shape[0])
    k = x_to_momenta(x)
    tree, one, cond = _amplitudes_fast(k, mu, loop, rescue and loop)
    if not rescue:
        return tree, one, info
    t0 = time.perf_counter()
    b = np.minimum(x[:, 1], 1.0 - x[:, 1])
    direct = (x[:, 0] < X1_EXACT) | (b < BEAM_EXACT)
    suspect = _tree_zero(tree)
    if loop:
        suspect |= 1e-16 * cond > CANDIDATE_LOSS
    cand = np.flatnonzero(suspect.any(axis=1) & ~direct)
    info.n_candidates = int(cand.size)
    bad = np.zeros((x.shape[0], 8), dtype=bool)
    bad[direct] = True
    if cand.size:
        ch = np.zeros((cand.size, 8))
        for rot in (_ROT, _ROT2):  # two frames: one rotated change can be 20x too small
            kr = k[cand].copy()
            kr[..., 1:] = kr[..., 1:] @ rot.T
            tr, lr_, _ = _amplitudes_fast(kr, mu, loop, False)
            if loop:
                c = _rel_changes(tree[cand], one[cand], tr, lr_)
            else:
                a2, b2 = np.abs(tree[cand]) ** 2, np.abs(tr) ** 2
                c = np.abs(b2 - a2) / np.maximum(a2, 1e-300)
            ch = np.maximum(ch, c)
        if loop:
            ch = np.where(1e-16 * cond[cand] > DIRECT_LOSS_X, np.inf, ch)
        bad[cand] = ch > threshold
    info.seconds_test = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows = np.flatnonzero(bad.any(axis=1))
    info.n_rescued_points = int(rows.size)
    if rows.size:
        info.n_rescued_entries = int(bad.sum())
        tree, one, info.n_rescued_dd = _rescue_x(x, rows, bad[rows], tree, one, mu, loop, dd)
    info.seconds_rescue = time.perf_counter() - t1
    return tree, one, info


def squared(
    tree: np.ndarray, one: np.ndarray | None, terms=("f00", "f01", "f11")
) -> dict[str, np.ndarray]:
    """``{term: (N, 8) float64}`` from amplitudes: f00 = |A_tree|^2,
    f01 = 2 Re(conj(A_tree) A_1loop), f11 = |A_1loop|^2."""
    out: dict[str, np.ndarray] = {}
    for term in terms:
        if term == "f00":
            out[term] = tree.real**2 + tree.imag**2
        elif term == "f01":
            out[term] = 2.0 * (tree.real * one.real + tree.imag * one.imag)
        elif term == "f11":
            out[term] = one.real**2 + one.imag**2
        else:
            raise ValueError(f"unknown term {term!r}; use f00, f01 or f11")
    return out
