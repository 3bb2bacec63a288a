"""The exact pieces of the factorised q qbar -> Z Z -> 4l amplitude that ``qqzz-factorised``
(:mod:`.factorised`) and its ONNX, compiled and uncertainty forms (:mod:`.factorised_onnx`,
:mod:`.factorised_fast`, :mod:`.factorised_uncertainty`) share: the symmetry group of one quark
helicity's 9 production amplitudes (maps of the production points, their action on the boson-
helicity columns, the fitted representatives), the smooth scale and angular factors the parts
are fitted in, the exact closed-form tree, and the 8D decay sums. Conventions: those of
:mod:`.factorised` (module docstring) and :mod:`.production`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import ConfigError, NumericalError
from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, SQRT_S_MAX
from zoo.plugins.processes.qqzz.production import XZ, decay_functions
from zoo.plugins.processes.qqzz.tree import tree_amplitudes as closed_tree

#: real + imaginary parts of the 3 x 3 boson-helicity amplitudes of one quark helicity
N_PARTS = 18
#: terms a model can predict
TERMS = ("f11", "f01")
#: |Im M_tree| / (size of the point's 9 tree amplitudes) above which the tree is not real
_TREE_REAL_TOL = 1e-8
_SIGMA = {"L": -1, "R": 1}
_LAMBDA = {"-": -1, "0": 0, "+": 1}


def _cp(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y[:, 1] = 1.0 - x[:, 1]
    return y


def _exchange(x: np.ndarray) -> np.ndarray:
    y = _cp(x)
    y[:, 2], y[:, 3] = x[:, 3], x[:, 2]
    return y


def _exchange_cp(x: np.ndarray) -> np.ndarray:
    y = x.copy()
    y[:, 2], y[:, 3] = x[:, 3], x[:, 2]
    return y


#: coordinate maps g of the production variables (involutions)
MAPS = {"id": lambda x: x, "cp": _cp, "exchange": _exchange, "exchange-cp": _exchange_cp}


def _col(l1: int, l2: int) -> int:
    return 3 * (l1 + 1) + (l2 + 1)


#: group element -> (its action on columns 3 (l1 + 1) + (l2 + 1), sign of the amplitude)
ACTION = {
    "id": (lambda c: c, 1.0),
    "cp": (lambda c: _col(-(c // 3 - 1), -(c % 3 - 1)), -1.0),
    "exchange": (lambda c: _col(c % 3 - 1, c // 3 - 1), -1.0),
    "exchange-cp": (lambda c: _col(-(c % 3 - 1), -(c // 3 - 1)), 1.0),
}
#: fitted amplitudes with ``symmetric=True``: column index 3 (l1 + 1) + (l2 + 1)
REPRESENTATIVES = (0, 1, 2, 4)
#: column -> (representative, map g, sign): M_col(x) = sign * M_rep(g(x))
ORBIT = {
    0: (0, "id", 1.0), 1: (1, "id", 1.0), 2: (2, "id", 1.0),
    3: (1, "exchange", -1.0), 4: (4, "id", 1.0), 5: (1, "exchange-cp", 1.0),
    6: (2, "cp", -1.0), 7: (1, "cp", -1.0), 8: (0, "cp", -1.0),
}


def production_scale(x4: np.ndarray) -> np.ndarray:
    """``c = m1^2 m2^2 sqrt(t u) / s`` (N,) float64 in GeV^4 at 4D production points (see the
    module docstring; coordinates of :mod:`.kinematics`): :func:`production_scale_xp` on
    numpy."""
    x4 = np.asarray(x4, dtype=np.float64)
    return production_scale_xp(np, x4[:, 0], x4[:, 1], x4[:, 2], x4[:, 3])


def production_scale_xp(xp: Any, x1: Any, x2: Any, x3: Any, x4: Any) -> Any:
    """``c = m1^2 m2^2 sqrt(t u) / s`` of :func:`production_scale` on an array
    namespace ``xp`` (``sqrt``, ``maximum``): one formula for numpy and ONNX (the compiled
    single point, :mod:`.factorised_fast`, spells the same operations for one point)."""
    m1 = M_MIN + M_RANGE * x3
    m2 = M_MIN + M_RANGE * x4
    rs = m1 + m2 + (SQRT_S_MAX - m1 - m2) * x1
    s = rs * rs
    cos_t = 2.0 * x2 - 1.0
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    p = xp.sqrt(xp.maximum(lam, 0.0)) / (2.0 * rs)
    e1 = (s + m1 * m1 - m2 * m2) / (2.0 * rs)
    t = m1 * m1 - rs * (e1 - p * cos_t)
    u = m2 * m2 - rs * (rs - e1 + p * cos_t)
    return (m1 * m2) ** 2 * xp.sqrt(t * u) / s


def _even(col: int) -> bool:
    """Whether l1 - l2 of column ``3 (l1 + 1) + (l2 + 1)`` is even."""
    return (col // 3 - col % 3) % 2 == 0


def endpoint_powers(col: int, quark: str) -> tuple[int, int]:
    """``(a, b)``: column ``col`` (``3 (l1 + 1) + (l2 + 1)``) of quark helicity ``quark`` goes
    like ``sqrt(x2)^a`` at the backward face (x2 -> 0, theta -> pi) and ``sqrt(1 - x2)^b``
    at the forward one: ``a = |sigma + l|``, ``b = |sigma - l|`` with ``l = l1 - l2`` and
    ``sigma = -1`` (L), ``+1`` (R), the endpoint powers of the Wigner function
    ``d^J_{sigma, l}(theta)`` of every partial wave (``cos(theta/2) = sqrt(x2)``). Measured on
    the closed-form tree and the loop of the exact 4D process at x2 = 1e-6, 1e-8 (both faces,
    both quark helicities): the same powers for tree and loop."""
    if quark not in _SIGMA:
        raise ConfigError(f"quark helicity must be 'L' or 'R', got {quark!r}")
    lam = (col // 3 - 1) - (col % 3 - 1)
    s = _SIGMA[quark]
    return abs(s + lam), abs(s - lam)


def _ipow(v: Any, n: int) -> Any:
    """``v ** n`` for a small integer ``n >= 0`` by products (1.0 for n = 0): plain arithmetic
    an array namespace, an ONNX expression or numba all spell the same way."""
    out = 1.0
    for _ in range(n):
        out = v * out
    return out


#: ``cos_zero`` code of the columns fitted divided by ``cos theta`` (:func:`angular_factor_xp`):
#: 1 (or True): (0, 0); COS_ZERO_DIAGONAL: (0, 0), (-, -) and (+, +), the on-shell zeros
COS_ZERO_DIAGONAL = 2


def cos_zero_columns(code: int) -> tuple[int, ...]:
    """The columns a ``cos_zero`` code divides by ``cos theta`` (0: none)."""
    if not code:
        return ()
    if int(code) == COS_ZERO_DIAGONAL:
        return (_col(-1, -1), _col(0, 0), _col(1, 1))
    return (_col(0, 0),)


def angular_factor_xp(xp: Any, x2: Any, col: int, cos_zero: int = 0,
                      quark: str | None = None) -> Any:
    """The factor column ``col`` is fitted divided by, on an array namespace ``xp``
    (``sqrt``): with ``quark`` (``endpoints=True`` models) the exact endpoint behaviour
    ``sqrt(x2)^a sqrt(1 - x2)^b`` of :func:`endpoint_powers`, so the fitted function is
    smooth and non-zero at the beam and relative errors stay bounded there; without it the
    older ``sqrt(x2 (1 - x2))`` for even ``l1 - l2`` and 1 for odd (relative errors of the
    odd columns and of ``l = +-2`` grow like 1 / x2 at one face). With ``cos_zero`` the
    factor of the columns :func:`cos_zero_columns` names is also times
    ``cos theta = 2 x2 - 1``: (0, 0) for ``1``/``True``; also (-, -) and (+, +) for
    :data:`COS_ZERO_DIAGONAL` (on shell, where the boson exchange makes them odd in
    ``cos theta``)."""
    if quark is None:
        out = xp.sqrt(x2 * (1.0 - x2)) if _even(col) else 1.0
    else:
        a, b = endpoint_powers(col, quark)
        out = _ipow(xp.sqrt(x2), a) * _ipow(xp.sqrt(1.0 - x2), b)
    return out * (2.0 * x2 - 1.0) if col in cos_zero_columns(cos_zero) else out


def angular_factor(x4: np.ndarray, col: int, cos_zero: int = 0,
                   quark: str | None = None) -> np.ndarray:
    """:func:`angular_factor_xp` on numpy at production points ``x4`` (N, >= 2): (N,)."""
    x2 = np.asarray(x4, dtype=np.float64)[:, 1]
    return np.broadcast_to(angular_factor_xp(np, x2, col, cos_zero, quark), x2.shape).copy()


def fit_scale(x4: np.ndarray, col: int, cos_zero: int = 0,
              quark: str | None = None) -> np.ndarray:
    """The learned function of column ``col`` per unit of M_loop: ``c(x) / angular_factor``."""
    return production_scale(x4) / angular_factor(x4, col, cos_zero, quark)


def production_targets(m_loop: np.ndarray, x4: np.ndarray, quark: str = "L") -> np.ndarray:
    """Fit targets (N, 18): real then imaginary parts of ``c(x) M_loop(q; l1, l2)`` from the
    production loop amplitudes ``m_loop`` (N, 18) complex of the 4D process (columns
    :data:`.production.HELICITIES`) at points ``x4`` (N, 4), for quark helicity ``quark``
    (the targets of both terms: f01 takes the tree from the process when predicting)."""
    if quark not in _SIGMA:
        raise ConfigError(f"quark helicity must be 'L' or 'R', got {quark!r}")
    q = 0 if quark == "L" else 1
    m = np.asarray(m_loop)[:, 9 * q: 9 * q + 9] * production_scale(x4)[:, None]
    return np.concatenate([m.real, m.imag], axis=1)


def on_shell_points(x: np.ndarray) -> np.ndarray:
    """The 4D production points (N, 4) of 2D points ``(x1, x2)`` (N, 2): both bosons at MZ
    (``x3 = x4 = XZ``), where the 2D process is the 4D one (:class:`.production.QQZZ2D`)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty((x.shape[0], 4), dtype=np.float64)
    out[:, :2] = x
    out[:, 2:] = XZ
    return out


def _real_tree(t: np.ndarray) -> np.ndarray:
    """The real part of projected tree amplitudes ``t`` (N, 9) complex, checked to be real."""
    # rounding of the projection, relative to the size of the point's 9 amplitudes
    size = np.sqrt(np.sum(np.abs(t) ** 2, axis=1, keepdims=True))
    ratio = np.abs(t.imag) / np.maximum(size, 1e-300)
    if (ratio > _TREE_REAL_TOL).any():
        raise NumericalError(
            f"the tree production amplitude is not real at {int((ratio > _TREE_REAL_TOL).sum())} "
            f"entries (|Im M| / |M| of the point up to {float(ratio.max()):.2g}): the spinor phase "
            "convention of .production changed; qqzz-factorised f01 assumes a real tree")
    return t.real


def tree_amplitudes(x4: np.ndarray, quark: str = "L") -> np.ndarray:
    """The exact tree production amplitudes M_tree (N, 9) float64 (real) of quark helicity
    ``quark`` at production points ``x4`` (N, 4): the closed form of :mod:`.tree` (the tree of
    the 4D process; no 8D evaluation). Real by construction, so the former check of the
    projected tree (:func:`_real_tree`) is not made here: the phase convention it guarded (the
    projected loop shares the quark phase of this tree) is checked in
    ``tests/plugins/test_qqzz_tree.py`` against the projection."""
    if quark not in _SIGMA:
        raise ConfigError(f"quark helicity must be 'L' or 'R', got {quark!r}")
    return closed_tree(np.asarray(x4, dtype=np.float64)[:, :4], quark)


def _decay_sum(m: np.ndarray, x8: np.ndarray, helicity: str) -> np.ndarray:
    """``sum_{l1,l2} M(l1, l2) D_{l1,s1}(d1) D_{l2,s2}(d2)`` (N,) complex at 8D points."""
    x8 = np.asarray(x8, dtype=np.float64)
    d1 = decay_functions(2.0 * x8[:, 4] - 1.0, 2.0 * np.pi * x8[:, 5], _SIGMA[helicity[1]])
    d2 = decay_functions(2.0 * x8[:, 6] - 1.0, 2.0 * np.pi * x8[:, 7], _SIGMA[helicity[2]])
    return np.einsum("nab,na,nb->n", np.asarray(m).reshape(-1, 3, 3), d1, d2)


def f11_from_production(m: np.ndarray, x8: np.ndarray, helicity: str) -> np.ndarray:
    """``|sum_{l1,l2} M(l1, l2) D_{l1,s1}(d1) D_{l2,s2}(d2)|^2`` (N,) at 8D points ``x8`` from
    the 9 production amplitudes ``m`` (N, 9) complex of the column's quark helicity (order
    ``(l1, l2) = (-,-), (-,0), ..., (+,+)``); ``helicity`` is the 8D column, e.g. ``"LLL"``."""
    a = _decay_sum(m, x8, helicity)
    return a.real * a.real + a.imag * a.imag


def f01_from_production(m_tree: np.ndarray, m_loop: np.ndarray, x8: np.ndarray,
                        helicity: str) -> np.ndarray:
    """``2 Re(conj(A_tree) A_loop)`` (N,) at 8D points from the tree and loop production
    amplitudes (N, 9) of the column's quark helicity (as :func:`f11_from_production`)."""
    return 2.0 * np.real(np.conj(_decay_sum(m_tree, x8, helicity))
                         * _decay_sum(m_loop, x8, helicity))
