"""The ``qqzz-factorised`` model compiled (numba) for one point per call.

The whole prediction of :class:`.factorised.FactorisedLoopRegressor` for one point in one
compiled function, the same formulas in the same order as its numpy path (module doc of
:mod:`.factorised`), so both agree to float rounding:

* production point ``x4`` (2D points embedded on shell at ``x3 = x4 = XZ``, 8D points cut);
* per needed column ``c``: its representative ``rep``, map ``g`` and sign
  (:data:`.factorised.ORBIT`), the mapped point ``g(x4)``, the parts' coordinates (x2 -> the
  angle with ``angle=True``), each fitted part by the ``pwcheb`` kernel
  (:func:`zoo.plugins.regressors.piecewise_kernel.predict_sparse_one`, every part packed in
  the sparse layout: bitwise the tensor kernel's result), times
  ``sign * angular_factor / production_scale``;
* f01: the exact tree in closed form (:func:`.tree.tree_production_xp` compiled with
  ``xp = math``);
* 8D: the decay functions of the lepton angles and ``|A_loop|^2`` or
  ``2 Re(conj(A_tree) A_loop)``.

8D models whose parts share cells, degrees and basis (every shipped one) run
:func:`predict_one8` (:func:`_production8`): the T tables once per axis and distinct
coordinate value of the point (x1; the angle of x2 and of 1 - x2; x3 and x4), the real and
imaginary coefficient rows of a representative interleaved and contracted in one pass, and
the axes-0/1 contraction of a representative shared by its maps with the same x2 side and
cell (id and exchange, cp and exchange-cp): 7 level-0 passes over a (re, im) row instead of
18 over a part's row, and one scratch array per point instead of one per part evaluation;
the same sums in the same order, so bitwise the result of
:func:`predict_one` (~3.5x faster per point, BENCHMARKS section 4).

Batches of such 8D models run :func:`predict_one8` row by row in numba
(:meth:`CompiledFactorised.batch`: :func:`predict8_serial`, or :func:`predict8_parallel` over
blocks of rows from PARALLEL_MIN points on more than one thread, the ``pwcheb`` kernel's
choice of :func:`zoo.plugins.regressors.piecewise_kernel._launch`); measured 2.3-2.7x the points/s
of the numpy path of :mod:`.factorised` (BENCHMARKS section 4), which stays the reference
(``predict``). Other batches (2D/4D, and 8D parts of different layouts) stay with the numpy
path (each part's compiled kernel over the whole batch: 2.5-3x the points/s of the general
point code run row by row, whose 18 part evaluations per 8D point jump between 8 coefficient
tables of ~0.5 MB each). Only ``symmetric=True`` models (every shipped one) are compiled;
:func:`compiled` returns None for the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, SQRT_S_MAX
from zoo.plugins.processes.qqzz.production import XZ
from zoo.plugins.processes.qqzz.tree import tree_production_xp
from zoo.plugins.regressors.piecewise_kernel import (
    SparsePiecewiseKernel,
    _cell,
    _chebyshev,
    _launch,
    predict_sparse_one,
)
from zoo.plugins.transforms.coordinates import angle_coordinate

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
_SQRT3 = math.sqrt(3.0)
_TWO_PI = 2.0 * math.pi
#: map codes of :data:`.factorised.MAPS`
_MAP_CODE = {"id": 0, "cp": 1, "exchange": 2, "exchange-cp": 3}
#: parts per packed model: the most a symmetric model has (4 representatives, re and im)
N_PACKED = 8

_tree_jit = numba.njit(**_JIT)(tree_production_xp)


@numba.njit(**_JIT)
def _tree(x1: float, x2: float, x3: float, x4: float, quark: int,
          out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The 9 tree production amplitudes of quark helicity L (0) or R (1) into ``out``."""
    v = _tree_jit(math, x1, x2, x3, x4, "L" if quark == 0 else "R")
    for j in range(9):
        out[j] = v[j]


@numba.njit(**_JIT)
def f00_point(x: np.ndarray, on_shell: bool, quark: int, col: int) -> float:  # pragma: no cover
    """The production f00 = M_tree^2 of quark helicity ``quark`` (0: L, 1: R) and boson
    column ``col`` at one 4D point x (4,), or 2D with ``on_shell``; ``col = -1``: the sum
    over all 18 helicities (both quark helicities, in the process's column order)."""
    x3 = XZ if on_shell else x[2]
    x4 = XZ if on_shell else x[3]
    tree = np.empty(9)
    if col >= 0:
        _tree(x[0], x[1], x3, x4, quark, tree)
        return tree[col] * tree[col]
    total = 0.0
    for q in range(2):
        _tree(x[0], x[1], x3, x4, q, tree)
        for j in range(9):
            total += tree[j] * tree[j]
    return total


@numba.njit(**_JIT)
def f00_8d_rows(x: np.ndarray, quark: int, sigma1: int, sigma2: int,
                out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The 8D tree f00 = |sum_(l1, l2) M_tree(q; l1, l2)(x1..x4) d1(l1) d2(l2)|^2 of one
    helicity configuration (quark 0 = L, 1 = R; lepton helicities ``sigma1``, ``sigma2`` as
    :data:`.factorisation._SIGMA`) at every row of x (N, 8) into ``out[:, 0]``: the
    closed-form production tree (:mod:`.tree`) and the decay functions (:func:`_decay`), the
    factorisation the 8D models use; its condition number (sum of |terms|)^2 / f00 into
    ``out[:, 1]`` (inf where f00 is 0)."""
    tree = np.empty(9)
    d = np.empty(6, dtype=np.complex128)
    for i in range(x.shape[0]):
        _tree(x[i, 0], x[i, 1], x[i, 2], x[i, 3], quark, tree)
        _decay(2.0 * x[i, 4] - 1.0, _TWO_PI * x[i, 5], sigma1, d[0:3])
        _decay(2.0 * x[i, 6] - 1.0, _TWO_PI * x[i, 7], sigma2, d[3:6])
        t = 0j
        a = 0.0
        for c in range(9):
            w = tree[c] * d[c // 3] * d[3 + c % 3]
            t += w
            a += abs(w)
        f = t.real * t.real + t.imag * t.imag
        out[i, 0] = f
        out[i, 1] = a * a / f if f > 0.0 else np.inf


@numba.njit(parallel=True, **_JIT)
def f00_8d_parallel(x: np.ndarray, quark: int, sigma1: int, sigma2: int, out: np.ndarray,
                    block: int) -> None:  # pragma: no cover - compiled
    """:func:`f00_8d_rows` in blocks of ``block`` rows over numba's threads."""
    n = x.shape[0]
    for b in numba.prange((n + block - 1) // block):
        lo, hi = b * block, min(n, (b + 1) * block)
        f00_8d_rows(x[lo:hi], quark, sigma1, sigma2, out[lo:hi])


def f00_8d(x: np.ndarray, quark: int, sigma1: int, sigma2: int,
           n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(f00, condition)`` (N,) of :func:`f00_8d_rows` at contiguous float64 points x (N, 8),
    on the threads the other kernels would use (``piecewise_kernel._launch``)."""
    out = _launch(f00_8d_rows, f00_8d_parallel, x, (quark, sigma1, sigma2), 8, n_threads,
                  out=np.empty((x.shape[0], 2)))
    return out[:, 0].copy(), out[:, 1].copy()


@numba.njit(**_JIT)
def _scale(x1: float, x2: float, x3: float, x4: float) -> float:  # pragma: no cover
    """:func:`.factorised.production_scale` of one point."""
    m1 = M_MIN + M_RANGE * x3
    m2 = M_MIN + M_RANGE * x4
    rs = m1 + m2 + (SQRT_S_MAX - m1 - m2) * x1
    s = rs * rs
    cos_t = 2.0 * x2 - 1.0
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    p = math.sqrt(max(lam, 0.0)) / (2.0 * rs)
    e1 = (s + m1 * m1 - m2 * m2) / (2.0 * rs)
    t = m1 * m1 - rs * (e1 - p * cos_t)
    u = m2 * m2 - rs * (rs - e1 + p * cos_t)
    return (m1 * m2) ** 2 * math.sqrt(t * u) / s


@numba.njit(**_JIT)
def _angular(x2: float, col: int, cos_zero: int, endpoints: bool,
             quark: int) -> float:  # pragma: no cover
    """:func:`.factorisation.angular_factor_xp` of one point (``quark`` 0 = L, 1 = R; used
    with ``endpoints`` only; ``cos_zero`` the code of :func:`.factorisation.cos_zero_columns`:
    columns 4, or 0, 4, 8 for code 2)."""
    if endpoints:
        sigma = -1 if quark == 0 else 1
        lam = col // 3 - col % 3
        out = 1.0
        for _ in range(abs(sigma + lam)):
            out *= math.sqrt(x2)
        for _ in range(abs(sigma - lam)):
            out *= math.sqrt(1.0 - x2)
    else:
        out = math.sqrt(x2 * (1.0 - x2)) if (col // 3 - col % 3) % 2 == 0 else 1.0
    if cos_zero != 0 and (col == 4 or (cos_zero == 2 and (col == 0 or col == 8))):
        out = out * (2.0 * x2 - 1.0)
    return out


@numba.njit(**_JIT)
def _angle(x: float) -> float:  # pragma: no cover
    """:func:`zoo.plugins.transforms.coordinates.angle_coordinate` of one number."""
    v = math.asin(math.sqrt(min(x, 1.0 - x)))
    return (2.0 / math.pi) * (math.pi / 2 - v if x > 0.5 else v)


@numba.njit(**_JIT)
def _amplitude(x4: np.ndarray, col: int, table: np.ndarray, flags: np.ndarray, edges: Any,
               offsets: Any, degrees: Any, coef: Any, seglen: Any, gather: Any,
               u: np.ndarray) -> complex:  # pragma: no cover - compiled
    """The learned M_loop of column ``col`` at the production point ``x4`` (4,):
    ``sign * M_rep(g x4)`` (imaginary part NaN for a real-only model)."""
    k, code, rep = table[col, 0], table[col, 1], table[col, 2]
    sign = 1.0 if table[col, 3] > 0 else -1.0
    g1, g2, g3, g4 = x4[0], x4[1], x4[2], x4[3]
    if code == 1 or code == 2:
        g2 = 1.0 - x4[1]
    if code == 2 or code == 3:
        g3, g4 = x4[3], x4[2]
    u[0] = g1
    u[1] = _angle(g2) if flags[0] else g2
    if u.shape[0] == 4:
        u[2] = g3
        u[3] = g4
    f = (sign * _angular(g2, rep, flags[1], flags[11] != 0, flags[8])
         / _scale(g1, g2, g3, g4))
    re = predict_sparse_one(u, edges[k], offsets[k], degrees[k], coef[k], seglen[k],
                            gather[k]) * f
    if flags[2]:  # real parts only
        return complex(re, np.nan)
    n = flags[3]
    im = predict_sparse_one(u, edges[n + k], offsets[n + k], degrees[n + k], coef[n + k],
                            seglen[n + k], gather[n + k]) * f
    return complex(re, im)


@numba.njit(**_JIT)
def _decay(cos_t: float, phi: float, sigma: int, out: np.ndarray) -> None:  # pragma: no cover
    """:func:`.production.decay_functions` of one direction into ``out`` (3,) complex."""
    s = math.sqrt(max(1.0 - cos_t * cos_t, 0.0)) / math.sqrt(2.0)
    p, m = 0.5 * (1.0 + cos_t), 0.5 * (1.0 - cos_t)
    if sigma < 0:
        d0, d1, d2 = p, -s, m
    else:
        d0, d1, d2 = m, s, p
    out[0] = _SQRT3 * d0 * complex(math.cos(-phi), math.sin(-phi))
    out[1] = _SQRT3 * d1 * complex(1.0, 0.0)
    out[2] = _SQRT3 * d2 * complex(math.cos(phi), math.sin(phi))


@numba.njit(**_JIT)
def _value(x: np.ndarray, i: int, table: np.ndarray, flags: np.ndarray, edges: Any,
           offsets: Any, degrees: Any, coef: Any, seglen: Any,
           gather: Any) -> float:  # pragma: no cover - compiled
    """The model's prediction at the point x[i] (x (N, D)). flags: angle, cos_zero, real_only, n_reps, on_shell, 8D, f01, column (4D), quark,
    sigma1, sigma2, endpoints."""
    x4 = np.empty(4)
    x4[0] = x[i, 0]
    x4[1] = x[i, 1]
    if flags[4]:
        x4[2] = XZ
        x4[3] = XZ
    else:
        x4[2] = x[i, 2]
        x4[3] = x[i, 3]
    u = np.empty(2 if flags[4] else 4)
    f01 = flags[6] != 0
    tree = np.empty(9)
    if f01:
        _tree(x4[0], x4[1], x4[2], x4[3], flags[8], tree)
    if not flags[5]:  # a production helicity
        col = flags[7]
        m = _amplitude(x4, col, table, flags, edges, offsets, degrees, coef, seglen, gather, u)
        if f01:
            return 2.0 * tree[col] * m.real
        return m.real * m.real + m.imag * m.imag
    d1 = np.empty(3, dtype=np.complex128)
    d2 = np.empty(3, dtype=np.complex128)
    _decay(2.0 * x[i, 4] - 1.0, _TWO_PI * x[i, 5], flags[9], d1)
    _decay(2.0 * x[i, 6] - 1.0, _TWO_PI * x[i, 7], flags[10], d2)
    a = 0j
    t = 0j
    for c in range(9):
        w = d1[c // 3] * d2[c % 3]
        a += _amplitude(x4, c, table, flags, edges, offsets, degrees, coef, seglen, gather,
                        u) * w
        if f01:
            t += tree[c] * w
    if f01:
        return 2.0 * (t.real * a.real + t.imag * a.imag)
    return a.real * a.real + a.imag * a.imag


@numba.njit(**_JIT)
def predict_one(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: Any, offsets: Any,
                degrees: Any, coef: Any, seglen: Any, gather: Any) -> float:  # pragma: no cover
    """The prediction at one point x (D,) (no checks)."""
    return _value(x.reshape((1, x.shape[0])), 0, table, flags, edges, offsets, degrees, coef,
                  seglen, gather)


# -- 8D: the 18 part evaluations of a point in one pass -------------------------------------
# Every part of a shipped 8D model has the same cells, degrees and basis (one sparse layout,
# checked at packing): per point the T tables are computed once per axis and distinct
# coordinate value (x1; the angle of x2 and of 1 - x2; x3 and x4 on axes 2 and 3), the real
# and imaginary coefficient rows of a representative are stored interleaved (one stream,
# both contracted in one pass, each component summed exactly as by the sparse kernel), and
# a representative's level-1 result (axes 0 and 1 contracted) is shared by the maps with
# the same x2 side and cell (id and exchange, cp and exchange-cp). Same sums in the same
# order as :func:`_value`: bitwise the same results.


@numba.njit(**_JIT)
def _axis_table(edges: np.ndarray, offsets: np.ndarray, j: int, v: float, degree: int,
                buf: np.ndarray, at: int) -> int:  # pragma: no cover - compiled
    """T_0..T_degree of v's local coordinate on axis j into buf[at:]; returns its cell (the
    arithmetic of :func:`zoo.plugins.regressors.piecewise_kernel._locate`)."""
    lo, hi = offsets[j], offsets[j + 1]
    k = _cell(edges, lo, hi, v)
    a, b = edges[lo + k], edges[lo + k + 1]
    _chebyshev((2.0 * v - (a + b)) / (b - a), degree, buf, at)
    return k


@numba.njit(**_JIT)
def _pair_first(coef: np.ndarray, row: int, tab: np.ndarray, ta: int, n: int,
                seglen: np.ndarray, dst: np.ndarray) -> None:  # pragma: no cover - compiled
    """Level 0 of the sparse layout on a (re, im) interleaved coefficient row: the
    segments are twice as long, the output (re, im) interleaved."""
    size = 2 * seglen[0]
    out = dst[:size]
    seg = coef[row:row + size]
    c = tab[ta]
    for r in range(size):
        out[r] = c * seg[r]
    o = row + size
    for k in range(1, n):
        ln = 2 * seglen[k]
        seg = coef[o:o + ln]
        c = tab[ta + k]
        for r in range(ln):
            out[r] += c * seg[r]
        o += ln


@numba.njit(**_JIT)
def _pair_gather(src: np.ndarray, gather: np.ndarray, go: int, tab: np.ndarray, ta: int,
                 n: int, seglen: np.ndarray, so: int,
                 dst: np.ndarray) -> int:  # pragma: no cover - compiled
    """A gather level of the sparse layout on (re, im) interleaved vectors (segment lengths
    at seglen[so:]); returns the gather offset of the next level."""
    size = seglen[so]
    g = gather[go:go + size]
    c = tab[ta]
    for r in range(size):
        q = 2 * g[r]
        dst[2 * r] = c * src[q]
        dst[2 * r + 1] = c * src[q + 1]
    o = go + size
    for k in range(1, n):
        ln = seglen[so + k]
        g = gather[o:o + ln]
        c = tab[ta + k]
        for r in range(ln):
            q = 2 * g[r]
            dst[2 * r] += c * src[q]
            dst[2 * r + 1] += c * src[q + 1]
        o += ln
    return o


@numba.njit(**_JIT)
def _map_flags(code: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """``(s, e)`` of a map code (:data:`_MAP_CODE`): whether it sends x2 to 1 - x2 (s) and
    whether it exchanges x3 and x4 (e)."""
    return (1 if code == 1 or code == 2 else 0), (1 if code == 2 or code == 3 else 0)


@numba.njit(**_JIT)
def _production8(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                 offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                 seglen: np.ndarray, gather: np.ndarray,
                 amp: np.ndarray) -> None:  # pragma: no cover - compiled
    """The 9 learned M_loop of the production point x[0:4] into ``amp`` (9,) complex;
    ``coef`` (n_reps, n_cells * 2P), each row (re, im) interleaved."""
    n0, n1, n2, n3 = degrees[0] + 1, degrees[1] + 1, degrees[2] + 1, degrees[3] + 1
    w0 = 2 * seglen[0]  # level-0 output (interleaved)
    w1 = 2 * seglen[n0]  # level-1 output
    w2 = 2 * seglen[n0 + n1]  # level-2 output
    n_reps = flags[3]
    # scratch: T tables | level-0 | level-1 cache (n_reps x 2 sides) | level 2 | level 3
    t0 = 0
    t1 = n0  # side s at t1 + s n1
    t2 = t1 + 2 * n1  # x3 at t2, x4 at t2 + n2
    t3 = t2 + 2 * n2  # x3 at t3, x4 at t3 + n3
    a0 = t3 + 2 * n3
    a1 = a0 + w0
    a2 = a1 + 2 * n_reps * w1
    a3 = a2 + w2
    buf = np.empty(a3 + 2)
    n_cells1 = offsets[2] - offsets[1] - 1
    n_cells2 = offsets[3] - offsets[2] - 1
    n_cells3 = offsets[4] - offsets[3] - 1
    p2 = coef.shape[1] // ((offsets[1] - offsets[0] - 1) * n_cells1 * n_cells2 * n_cells3)
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    c0 = _axis_table(edges, offsets, 0, x1, degrees[0], buf, t0)
    c1 = np.empty(2, dtype=np.int64)
    for s in range(2):
        g2 = x2 if s == 0 else 1.0 - x2
        c1[s] = _axis_table(edges, offsets, 1, _angle(g2) if flags[0] else g2, degrees[1],
                            buf, t1 + s * n1)
    c23 = np.empty(4, dtype=np.int64)  # axis 2 at x3, x4; axis 3 at x3, x4
    c23[0] = _axis_table(edges, offsets, 2, x3, degrees[2], buf, t2)
    c23[1] = _axis_table(edges, offsets, 2, x4, degrees[2], buf, t2 + n2)
    c23[2] = _axis_table(edges, offsets, 3, x3, degrees[3], buf, t3)
    c23[3] = _axis_table(edges, offsets, 3, x4, degrees[3], buf, t3 + n3)
    cached = np.full(2 * n_reps, -1, dtype=np.int64)  # cell of each level-1 cache entry
    go2 = 0  # gather offset of level 2: after the entries level 1 reads
    for j in range(n1):
        go2 += seglen[n0 + j]
    for col in range(9):
        k, code = table[col, 0], table[col, 1]
        if k < 0:
            amp[col] = np.nan
            continue
        rep = table[col, 2]
        sign = 1.0 if table[col, 3] > 0 else -1.0
        s, e = _map_flags(code)
        g2 = 1.0 - x2 if s == 1 else x2
        g3, g4 = (x4, x3) if e == 1 else (x3, x4)
        k2, k3 = c23[e], c23[3 - e]
        flat = ((c0 * n_cells1 + c1[s]) * n_cells2 + k2) * n_cells3 + k3
        slot = a1 + (2 * k + s) * w1
        if cached[2 * k + s] != flat:
            _pair_first(coef[k], flat * p2, buf, t0, n0, seglen, buf[a0:a1])
            _pair_gather(buf[a0:a1], gather, 0, buf, t1 + s * n1, n1, seglen, n0,
                         buf[slot:slot + w1])
            cached[2 * k + s] = flat
        go = _pair_gather(buf[slot:slot + w1], gather, go2, buf, t2 + e * n2, n2, seglen,
                          n0 + n1, buf[a2:a3])
        _pair_gather(buf[a2:a3], gather, go, buf, t3 + (1 - e) * n3, n3, seglen,
                     n0 + n1 + n2, buf[a3:a3 + 2])
        f = (sign * _angular(g2, rep, flags[1], flags[11] != 0, flags[8])
             / _scale(x1, g2, g3, g4))
        amp[col] = complex(buf[a3] * f, buf[a3 + 1] * f)


@numba.njit(**_JIT)
def _pieces8(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
             offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray, seglen: np.ndarray,
             gather: np.ndarray, amp: np.ndarray,
             tree: np.ndarray) -> None:  # pragma: no cover - compiled
    """What an 8D prediction sums, at one point x (8,): into amp (15,) the 9 learned
    amplitudes (:func:`_production8`) and the decay functions d1 (3), d2 (3); into tree (9,)
    the exact tree amplitudes (f01 models only)."""
    _production8(x, table, flags, edges, offsets, degrees, coef, seglen, gather, amp)
    _decay(2.0 * x[4] - 1.0, _TWO_PI * x[5], flags[9], amp[9:12])
    _decay(2.0 * x[6] - 1.0, _TWO_PI * x[7], flags[10], amp[12:15])
    if flags[6] != 0:
        _tree(x[0], x[1], x[2], x[3], flags[8], tree)


@numba.njit(**_JIT)
def predict_one8(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                 offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                 seglen: np.ndarray, gather: np.ndarray) -> float:  # pragma: no cover
    """The prediction of an 8D model at one point x (8,) (no checks): :func:`_value` with
    the production amplitudes by :func:`_production8`."""
    amp = np.empty(15, dtype=np.complex128)  # 9 amplitudes | d1 (3) | d2 (3)
    tree = np.empty(9)
    _pieces8(x, table, flags, edges, offsets, degrees, coef, seglen, gather, amp, tree)
    d1 = amp[9:12]
    d2 = amp[12:15]
    f01 = flags[6] != 0
    a = 0j
    t = 0j
    for c in range(9):
        w = d1[c // 3] * d2[c % 3]
        a += amp[c] * w
        if f01:
            t += tree[c] * w
    if f01:
        return 2.0 * (t.real * a.real + t.imag * a.imag)
    return a.real * a.real + a.imag * a.imag


@numba.njit(**_JIT)
def predict8_serial(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                    offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                    seglen: np.ndarray, gather: np.ndarray,
                    out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`predict_one8` at every row of x (N, 8) into out (N,), on the calling thread."""
    for i in range(x.shape[0]):
        out[i] = predict_one8(x[i], table, flags, edges, offsets, degrees, coef, seglen,
                              gather)


@numba.njit(**_JIT)
def production8_rows(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                     offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                     seglen: np.ndarray, gather: np.ndarray,
                     out: np.ndarray) -> None:  # pragma: no cover - compiled
    """The 9 learned M_loop of every row of x (N, 8) into out (N, 9) complex, by
    :func:`_production8` (what :func:`predict_one8` sums with the decays)."""
    amp = np.empty(9, dtype=np.complex128)
    for i in range(x.shape[0]):
        _production8(x[i], table, flags, edges, offsets, degrees, coef, seglen, gather, amp)
        for c in range(9):
            out[i, c] = amp[c]


@numba.njit(parallel=True, **_JIT)
def production8_parallel(x: np.ndarray, table: np.ndarray, flags: np.ndarray,
                         edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                         coef: np.ndarray, seglen: np.ndarray, gather: np.ndarray,
                         out: np.ndarray, block: int) -> None:  # pragma: no cover - compiled
    """:func:`production8_rows` in blocks of ``block`` rows over numba's threads."""
    n = x.shape[0]
    for b in numba.prange((n + block - 1) // block):
        lo, hi = b * block, min(n, (b + 1) * block)
        production8_rows(x[lo:hi], table, flags, edges, offsets, degrees, coef, seglen, gather,
                         out[lo:hi])


@numba.njit(parallel=True, **_JIT)
def predict8_parallel(x: np.ndarray, table: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                      offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                      seglen: np.ndarray, gather: np.ndarray, out: np.ndarray,
                      block: int) -> None:  # pragma: no cover - compiled
    """:func:`predict8_serial` in blocks of ``block`` rows over numba's threads (as many as
    ``numba.set_num_threads`` allows); each row computed alone, so the same results."""
    n = x.shape[0]
    for b in numba.prange((n + block - 1) // block):
        for i in range(b * block, min(n, (b + 1) * block)):
            out[i] = predict_one8(x[i], table, flags, edges, offsets, degrees, coef, seglen,
                                  gather)


@numba.njit(**_JIT)
def _scale_cell(sedges: np.ndarray, soffsets: np.ndarray, j: int,
                v: float) -> int:  # pragma: no cover - compiled
    """The cell of value v on axis j of the scale grid (clipped to the grid)."""
    e = sedges[soffsets[j]:soffsets[j + 1]]
    c = np.searchsorted(e, v, side="right") - 1
    return min(max(c, 0), e.size - 2)


@numba.njit(**_JIT)
def _sigma_columns(x: np.ndarray, table: np.ndarray, flags: np.ndarray, sedges: np.ndarray,
                   soffsets: np.ndarray, sscale: np.ndarray,
                   out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``sigma_M`` of the 9 columns at one 8D point into out (9,):
    :func:`.factorised_uncertainty.amplitude_with_sigma`'s sigma (the per-cell scales of
    the representative's parts at the mapped point, times ``|a / c|`` there). ``sedges``,
    ``soffsets``: the scale grid shared by every part (concatenated edges of the 4 axes);
    ``sscale`` (parts, cells): each part's ``cell_scale_`` (real parts, then imaginary).
    The maps only flip x2 and swap x3, x4: each distinct coordinate value is located once
    (x1; the angle of x2 and of 1 - x2; x3 and x4 on axes 2 and 3), as is the production
    scale of each map (x2 side, exchange)."""
    x1, x2, x3, x4 = x[0], x[1], x[2], x[3]
    n_reps = flags[3]
    n1 = soffsets[2] - soffsets[1] - 1
    n2 = soffsets[3] - soffsets[2] - 1
    n3 = soffsets[4] - soffsets[3] - 1
    c0 = _scale_cell(sedges, soffsets, 0, x1)
    side = np.empty(2, dtype=np.int64)  # angle cell of x2 (s = 0) and of 1 - x2 (s = 1)
    for s in range(2):
        g2 = x2 if s == 0 else 1.0 - x2
        side[s] = _scale_cell(sedges, soffsets, 1, _angle(g2) if flags[0] else g2)
    mass = np.empty(4, dtype=np.int64)  # axis 2 at x3, x4; axis 3 at x3, x4
    mass[0] = _scale_cell(sedges, soffsets, 2, x3)
    mass[1] = _scale_cell(sedges, soffsets, 2, x4)
    mass[2] = _scale_cell(sedges, soffsets, 3, x3)
    mass[3] = _scale_cell(sedges, soffsets, 3, x4)
    prod = np.full(4, -1.0)  # production scale per (s, e) (>= 0), -1 until computed
    for col in range(9):
        k, code = table[col, 0], table[col, 1]
        if k < 0:
            out[col] = np.nan
            continue
        rep = table[col, 2]
        s, e = _map_flags(code)
        g2 = 1.0 - x2 if s == 1 else x2
        if prod[2 * s + e] == -1.0:
            g3, g4 = (x4, x3) if e == 1 else (x3, x4)
            prod[2 * s + e] = _scale(x1, g2, g3, g4)
        cell = ((c0 * n1 + side[s]) * n2 + mass[e]) * n3 + mass[3 - e]
        f = abs(_angular(g2, rep, flags[1], flags[11] != 0, flags[8]) / prod[2 * s + e])
        s_re = sscale[k, cell]
        if flags[2] != 0:
            out[col] = f * s_re
        else:
            s_im = sscale[n_reps + k, cell]
            out[col] = f * math.sqrt(s_re * s_re + s_im * s_im)


@numba.njit(**_JIT)
def predict_sigma_one8(x: np.ndarray, table: np.ndarray, flags: np.ndarray,
                       edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                       coef: np.ndarray, seglen: np.ndarray, gather: np.ndarray,
                       sedges: np.ndarray, soffsets: np.ndarray, sscale: np.ndarray,
                       out: np.ndarray) -> None:  # pragma: no cover - compiled
    """``(y, sigma)`` of an 8D model at one point into out (2,): ``y`` as
    :func:`predict_one8` (the same operations), ``sigma`` as
    :func:`.factorised_uncertainty.predict_uncertainty` (columns in quadrature with the
    exact decay weights; f11: ``2 |A| s + s^2``, f01: ``2 |A_tree| s``)."""
    amp = np.empty(15, dtype=np.complex128)
    tree = np.empty(9)
    _pieces8(x, table, flags, edges, offsets, degrees, coef, seglen, gather, amp, tree)
    sm = np.empty(9)
    _sigma_columns(x, table, flags, sedges, soffsets, sscale, sm)
    d1 = amp[9:12]
    d2 = amp[12:15]
    f01 = flags[6] != 0
    a = 0j
    t = 0j
    s2 = 0.0
    for c in range(9):
        w = d1[c // 3] * d2[c % 3]
        a += amp[c] * w
        s2 += (w.real * w.real + w.imag * w.imag) * sm[c] * sm[c]
        if f01:
            t += tree[c] * w
    s_a = math.sqrt(s2)
    if f01:
        out[0] = 2.0 * (t.real * a.real + t.imag * a.imag)
        out[1] = 2.0 * abs(t) * s_a
    else:
        out[0] = a.real * a.real + a.imag * a.imag
        out[1] = 2.0 * abs(a) * s_a + s_a * s_a


@numba.njit(**_JIT)
def predict_sigma8_rows(x: np.ndarray, table: np.ndarray, flags: np.ndarray,
                        edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                        coef: np.ndarray, seglen: np.ndarray, gather: np.ndarray,
                        sedges: np.ndarray, soffsets: np.ndarray, sscale: np.ndarray,
                        out: np.ndarray) -> None:  # pragma: no cover - compiled
    """:func:`predict_sigma_one8` at every row of x (N, 8) into out (N, 2)."""
    for i in range(x.shape[0]):
        predict_sigma_one8(x[i], table, flags, edges, offsets, degrees, coef, seglen, gather,
                           sedges, soffsets, sscale, out[i])


@numba.njit(parallel=True, **_JIT)
def predict_sigma8_parallel(x: np.ndarray, table: np.ndarray, flags: np.ndarray,
                            edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                            coef: np.ndarray, seglen: np.ndarray, gather: np.ndarray,
                            sedges: np.ndarray, soffsets: np.ndarray, sscale: np.ndarray,
                            out: np.ndarray, block: int) -> None:  # pragma: no cover
    """:func:`predict_sigma8_rows` in blocks of ``block`` rows over numba's threads."""
    n = x.shape[0]
    for b in numba.prange((n + block - 1) // block):
        lo, hi = b * block, min(n, (b + 1) * block)
        predict_sigma8_rows(x[lo:hi], table, flags, edges, offsets, degrees, coef, seglen,
                            gather, sedges, soffsets, sscale, out[lo:hi])


def scale_args(parts: list) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(sedges, soffsets, sscale)`` of :func:`_sigma_columns` from the parts' current
    per-cell scales, or None when a part has none or their scale grids differ (the numpy
    path then serves)."""
    if not all(getattr(p, "has_uncertainty", False) for p in parts):
        return None
    grids = [p.scale_edges() for p in parts]
    first = grids[0]
    if len(first) != 4 or any(len(g) != 4 or not all(np.array_equal(a, b)
                                                     for a, b in zip(g, first))
                              for g in grids[1:]):
        return None
    sedges = np.concatenate([np.asarray(e, dtype=np.float64) for e in first])
    soffsets = np.concatenate([[0], np.cumsum([len(e) for e in first])]).astype(np.int64)
    sscale = np.stack([np.asarray(p.cell_scale_, dtype=np.float64).ravel() for p in parts])
    return sedges, soffsets, np.ascontiguousarray(sscale)


#: batches of at least this many rows run in the order of their cells
#: (:meth:`CompiledFactorised._in_cell_order`)
SORT_MIN = 4096


@dataclass(frozen=True, eq=False)
class CompiledFactorised:
    """A fitted symmetric ``qqzz-factorised`` model packed for the compiled kernels."""

    n_features: int
    args: tuple
    #: the compiled kernel: :func:`predict_one`, or :func:`predict_one8` (8D, shared layout)
    kernel: Any = predict_one

    def one(self, x: np.ndarray) -> float:
        """The prediction at one contiguous (D,) float64 point (no checks)."""
        return self.kernel(x, *self.args)

    @property
    def has_batch(self) -> bool:
        """Whether batches have a compiled path (:meth:`batch`): the 8D shared layout."""
        return self.kernel is predict_one8

    def batch(self, x: np.ndarray, n_threads: int | None = None) -> np.ndarray:
        """(N,) predictions at validated points x (N, 8) by :func:`predict_one8` row by
        row: serial, or from PARALLEL_MIN points on ``n_threads`` threads (None: the idle
        physical cores), as the ``pwcheb`` kernel picks
        (:func:`zoo.plugins.regressors.piecewise_kernel._launch`)."""
        if not self.has_batch:
            raise ValueError("only 8D models of one shared layout have a compiled batch path")
        return self._in_cell_order(np.ascontiguousarray(x, dtype=np.float64), lambda xs: _launch(
            predict8_serial, predict8_parallel, xs, self.args, self.n_features, n_threads))

    def amplitudes8(self, x: np.ndarray, n_threads: int | None = None) -> np.ndarray:
        """The 9 learned M_loop (N, 9) complex at validated points x (N, 8), on the threads
        :meth:`batch` would use (:func:`production8_rows`; 8D shared layout only)."""
        if not self.has_batch:
            raise ValueError("only 8D models of one shared layout have compiled amplitudes")
        return self._in_cell_order(np.ascontiguousarray(x, dtype=np.float64), lambda xs: _launch(
            production8_rows, production8_parallel, xs, self.args, self.n_features, n_threads,
            out=np.empty((xs.shape[0], 9), dtype=np.complex128)))

    def predict_sigma8(self, x: np.ndarray, scales: tuple,
                       n_threads: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(y, sigma)`` (N,) at validated points x (N, 8) in one compiled pass
        (:func:`predict_sigma_one8`; ``scales`` from :func:`scale_args`), on the threads
        :meth:`batch` would use: ``y`` equals :meth:`batch` bit for bit."""
        if not self.has_batch:
            raise ValueError("only 8D models of one shared layout have a compiled sigma path")
        out = self._in_cell_order(np.ascontiguousarray(x, dtype=np.float64), lambda xs: _launch(
            predict_sigma8_rows, predict_sigma8_parallel, xs, (*self.args, *scales),
            self.n_features, n_threads, out=np.empty((xs.shape[0], 2))))
        return out[:, 0].copy(), out[:, 1].copy()

    def _in_cell_order(self, x: np.ndarray, run: Any) -> np.ndarray:
        """``run(x)`` with the rows taken in the order of their (x1, angle) cells and the
        results put back in x's order: consecutive rows then share their cells'
        coefficient blocks in the cache (a gain within this machine's run-to-run noise on
        10^5 uniform 8D points: BENCHMARKS.md 6.5). Every row is computed alone, so the bits
        do not depend on the order."""
        if x.shape[0] < SORT_MIN:
            return run(x)
        flags, edges, offsets = self.args[1], self.args[2], self.args[3]
        e0, e1 = edges[offsets[0]:offsets[1]], edges[offsets[1]:offsets[2]]
        u = angle_coordinate(x[:, 1]) if flags[0] else x[:, 1]
        key = np.searchsorted(e0, x[:, 0]) * (len(e1) + 1) + np.searchsorted(e1, u)
        order = np.argsort(key, kind="stable")
        res = run(np.ascontiguousarray(x[order]))
        out = np.empty_like(res)
        out[order] = res
        return out


def _one_layout(kernels: list[SparsePiecewiseKernel]) -> bool:
    """Whether the packed parts share cells, degrees and basis (4 axes): the layout of
    :func:`predict_one8`."""
    k0 = kernels[0]
    return k0.degrees.size == 4 and all(
        np.array_equal(k.edges, k0.edges) and np.array_equal(k.offsets, k0.offsets)
        and np.array_equal(k.degrees, k0.degrees) and np.array_equal(k.seglen, k0.seglen)
        and np.array_equal(k.gather, k0.gather) and k.coef.shape == k0.coef.shape
        for k in kernels)


def compiled(reg: Any) -> CompiledFactorised | None:
    """The compiled form of a fitted :class:`.factorised.FactorisedLoopRegressor`, or None
    for a non-symmetric one."""
    from zoo.plugins.processes.qqzz.factorisation import _SIGMA, ORBIT

    if not reg.symmetric:
        return None
    reps = reg._reps()
    table = np.full((9, 4), -1, dtype=np.int64)
    for c, (rep, g, sign) in ORBIT.items():
        table[c] = (reps.index(rep) if rep in reps else -1, _MAP_CODE[g], rep,
                    1 if sign > 0 else -1)
    is_8d = not reg._is_4d()
    h = reg.helicity
    col = reg._column() if not is_8d else 0
    flags = np.array([
        int(bool(reg.angle)), reg._cos_zero_code(), int(reg._real_only()), len(reps),
        int(bool(reg.on_shell)), int(is_8d), int(reg.term == "f01"), col,
        0 if h[0] == "L" else 1,
        _SIGMA[h[1]] if is_8d else 0, _SIGMA[h[2]] if is_8d else 0,
        int(bool(reg.endpoints)),
    ], dtype=np.int64)
    kernels = [SparsePiecewiseKernel.build(p.edges_, p.degrees_, p.index_, p.coef_)
               for p in reg.parts_]
    if is_8d and not reg.on_shell and len(kernels) == 2 * len(reps) and _one_layout(kernels):
        n = len(reps)
        pairs = np.empty((n, kernels[0].coef.size * 2))
        for k in range(n):  # each row's (re, im) interleaved
            pairs[k, 0::2] = kernels[k].coef.ravel()
            pairs[k, 1::2] = kernels[n + k].coef.ravel()
        first = kernels[0]
        return CompiledFactorised(8, (table, flags, first.edges, first.offsets, first.degrees,
                                      pairs, first.seglen, first.gather), predict_one8)
    # padded to N_PACKED parts (never read): one compiled signature serves every model
    kernels += [kernels[0]] * (N_PACKED - len(kernels))
    parts = tuple(tuple(getattr(k, f) for k in kernels)
                  for f in ("edges", "offsets", "degrees", "coef", "seglen", "gather"))
    return CompiledFactorised(reg._n_inputs(), (table, flags, *parts))
