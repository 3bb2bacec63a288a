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

Batches stay with the numpy path of :mod:`.factorised` (each part's compiled kernel over the
whole batch: measured 2.5-3x the points/s of this point code run row by row, whose 18 part
evaluations per 8D point jump between 8 coefficient tables of ~0.5 MB each, where a part at a
time keeps one table in cache; BENCHMARKS section 4). Only ``symmetric=True`` models (every
shipped one) are compiled; :func:`compiled` returns None for the others.
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
from zoo.plugins.regressors.piecewise_kernel import SparsePiecewiseKernel, predict_sparse_one

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
def _angular(x2: float, col: int, cos_zero: bool) -> float:  # pragma: no cover
    """:func:`.factorised.angular_factor` of one point."""
    out = math.sqrt(x2 * (1.0 - x2)) if (col // 3 - col % 3) % 2 == 0 else 1.0
    if cos_zero and col == 4:
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
    f = sign * _angular(g2, rep, flags[1] != 0) / _scale(g1, g2, g3, g4)
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
    sigma1, sigma2."""
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


@dataclass(frozen=True, eq=False)
class CompiledFactorised:
    """A fitted symmetric ``qqzz-factorised`` model packed for the compiled kernels."""

    n_features: int
    args: tuple

    def one(self, x: np.ndarray) -> float:
        """The prediction at one contiguous (D,) float64 point (no checks)."""
        return predict_one(x, *self.args)


def compiled(reg: Any) -> CompiledFactorised | None:
    """The compiled form of a fitted :class:`.factorised.FactorisedLoopRegressor`, or None
    for a non-symmetric one."""
    from zoo.plugins.processes.qqzz.factorised import _SIGMA, ORBIT

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
        int(bool(reg.angle)), int(bool(reg.cos_zero)), int(reg._real_only()), len(reps),
        int(bool(reg.on_shell)), int(is_8d), int(reg.term == "f01"), col,
        0 if h[0] == "L" else 1,
        _SIGMA[h[1]] if is_8d else 0, _SIGMA[h[2]] if is_8d else 0,
    ], dtype=np.int64)
    kernels = [SparsePiecewiseKernel.build(p.edges_, p.degrees_, p.index_, p.coef_)
               for p in reg.parts_]
    # padded to N_PACKED parts (never read): one compiled signature serves every model
    kernels += [kernels[0]] * (N_PACKED - len(kernels))
    parts = tuple(tuple(getattr(k, f) for k in kernels)
                  for f in ("edges", "offsets", "degrees", "coef", "seglen", "gather"))
    return CompiledFactorised(reg._n_inputs(), (table, flags, *parts))
