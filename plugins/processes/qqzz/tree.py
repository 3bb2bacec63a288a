"""Closed-form tree production amplitudes of q qbar -> Z Z (the M_tree of :mod:`.production`).

The tree production amplitudes ``M_tree(q; l1, l2)(x1..x4)`` of :mod:`.production` (there
projected from 9 evaluations of the 8D DKS code per point) in closed form, float64, in exactly
the same conventions: coordinates, momenta, helicity frames of the bosons (Condon-Shortley
polarisation vectors), quark spinor phase, the normalisation ``sum |M|^2 = <|A_8D|^2>`` with
the boson propagators ``1/s34 = 1/m1^2``, ``1/s56 = 1/m2^2`` kept and no couplings.

Formula (derivation: ``scripts/derive_tree.py``). With ``S = s``, ``A = m1^2``, ``B = m2^2``,
``c = cos(theta/2) = sqrt(x2)``, ``h = sin(theta/2) = sqrt(1 - x2)`` (theta: boson 1 to the
incoming quark) and the Mandelstam invariants ``t = (p_q - P1)^2``, ``u = (p_q - P2)^2``::

    M(L; l1, l2) = N(l1, l2) / (3 m1 m2 t u)

    N(-,-) = c h [B (S + A - B) h^2 - A (S - A + B) c^2]
    N(-,0) = -sqrt(2) m2 sqrt(S) c^2 [A c^2 - (S - B) h^2]
    N(-,+) = S (S - A - B) h c^3
    N(0,-) = sqrt(2) m1 sqrt(S) h^2 [B h^2 - (S - A) c^2]
    N(0,0) = -2 m1 m2 S c h (2 x2 - 1)
    N(0,+) = sqrt(2) m1 sqrt(S) c^2 [(S - A) h^2 - B c^2]
    N(+,-) = -S (S - A - B) h^3 c
    N(+,0) = sqrt(2) m2 sqrt(S) h^2 [A h^2 - (S - B) c^2]
    N(+,+) = c h [A (S - A + B) h^2 - B (S + A - B) c^2]

    M(R; l1, l2) = (-1)^(l1 + l2 + 1) M(L; -l1, -l2)

The numerators come from the Dirac chain ``T = vbar(qbar) [eps2* (p_q - P1) eps1* / t + eps1*
(p_q - P2) eps2* / u] P u(q)`` (massless quark spinors along +-z normalised to ``2E``, ``P`` the
chirality projector): over the common denominator, after ``p^2 = lambda / (4 s)`` is eliminated,
``t u T`` is a polynomial in ``S, A, B, c, h`` (no odd power of the boson momentum p survives),
``t u T_L(l1, l2) = 2 N(l1, l2)`` and ``t u T_R(l1, l2) = 2 (-1)^(l1 + l2) N(-l1, -l2)``. So
``M = +-T / (6 m1 m2)``: the positive constant ``1 / (6 m1 m2)`` (the lepton currents, the
``sqrt(3)`` of the decay functions and the normalisation of the DKS spinor products) and the
quark phases of the projection relative to these chains (``+1`` for L, ``-1`` for R) were fixed
by comparison with the projected tree of :mod:`.production` (ratio constant to the projection's
rounding; the closed form agrees with :func:`.production.project_exact` to ~1e-15) and are
checked in the tests. The tree is real in these conventions.

Stability at the faces: every factor is a product or a sum of terms of one sign except the
brackets that vanish on a genuine zero line of an amplitude; ``S - A - B = (sqrt(S) - m1 - m2)
(sqrt(S) + m1 + m2) + 2 m1 m2``, ``S - A = (sqrt(S) - m1)(sqrt(S) + m1)``, ``S + A - B = 2 sqrt(S)
E1`` and the invariants are formed without cancellation::

    t = -(q0 + 2 sqrt(S) p h^2),  u = -(q0 + 2 sqrt(S) p c^2),  q0 = A B / ((E1 + p)(E2 + p))

(``E1 - p = A / (E1 + p)``, ``q0 = m1 m2`` at threshold), ``p = sqrt(lambda) / (2 sqrt(S))``
with ``lambda = (sqrt(S) - m1 - m2)(sqrt(S) + m1 + m2)(S - (m1 - m2)^2)``, ``sqrt(S) - m1 - m2
= (1000 - m1 - m2) x1``. So the amplitudes keep full relative precision at threshold (x1 -> 0),
at the beam (x2 -> 0 or 1, where they vanish like powers of ``c`` or ``h``), for equal masses,
and are finite on the closed hypercube (x1 = 0 and x2 in {0, 1} included).

The core (:func:`tree_production_xp`) is generic over an array namespace ``xp``: it uses only
``+ - * /``, unary minus, python float constants and ``xp.sqrt`` (no comparisons, branches on
values, indexing or in-place assignment), so it runs on numpy arrays, on python floats with
``xp = math`` and on symbolic expression objects (e.g. to build an ONNX graph). numba compiles
it for one point when the module is bound in a closure (a module is not a valid argument type
of a jitted call)::

    core = numba.njit(tree_production_xp)

    @numba.njit
    def tree_l(x1, x2, x3, x4):
        return core(math, x1, x2, x3, x4, "L")  # a list of 9 floats
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, SQRT_S_MAX

_SQRT2 = 1.4142135623730951  # float(sqrt(2)), correctly rounded
#: order of the 9 columns of one quark helicity: index ``3 (l1 + 1) + (l2 + 1)``
BOSON_HELICITIES: tuple[tuple[int, int], ...] = tuple(
    (a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)
)
#: M(R; l1, l2) = _R_SIGN[j] * M(L; -l1, -l2), j the column of (l1, l2)
_R_SIGN: tuple[float, ...] = tuple(
    float((-1) ** (a + b + 1)) for a, b in BOSON_HELICITIES
)


def tree_production_xp(xp: Any, x1: Any, x2: Any, x3: Any, x4: Any, quark: str = "L") -> list:
    """The 9 real tree production amplitudes of quark helicity ``quark`` (``"L"`` or ``"R"``)
    at 4D coordinates ``x1..x4`` (:mod:`.production`), in column order
    ``3 (l1 + 1) + (l2 + 1)`` (l1, l2 in -1, 0, 1), as a list of 9 objects of the type of the
    inputs. ``xp``: a namespace providing ``sqrt`` (numpy, math, or an expression builder);
    only ``+ - * /``, unary minus and ``xp.sqrt`` are used. Formulas: module docstring."""
    if quark not in ("L", "R"):
        raise ValueError("quark helicity must be 'L' or 'R'")  # plain: numba-compilable
    m1 = x3 * M_RANGE + M_MIN
    m2 = x4 * M_RANGE + M_MIN
    msum = m1 + m2
    above = (SQRT_S_MAX - msum) * x1  # sqrt(s) - m1 - m2 >= 0
    rs = msum + above
    s = rs * rs
    a = m1 * m1
    b = m2 * m2
    dm = m1 - m2
    p = xp.sqrt(above * (rs + msum) * (s - dm * dm)) / (rs * 2.0)
    s_a_b = above * (rs + msum) + m1 * m2 * 2.0  # S - A - B
    s_a = (m2 + above) * (rs + m1)  # S - A
    s_b = (m1 + above) * (rs + m2)  # S - B
    spa = s_b + a  # S + A - B = 2 sqrt(S) E1
    spb = s_a + b  # S - A + B = 2 sqrt(S) E2
    e1p = spa / (rs * 2.0) + p
    e2p = spb / (rs * 2.0) + p
    c2 = x2  # cos^2(theta/2)
    h2 = 1.0 - x2  # sin^2(theta/2)
    c = xp.sqrt(c2)
    h = xp.sqrt(h2)
    q0 = a * b / (e1p * e2p)
    rp2 = rs * p * 2.0
    t = q0 + rp2 * h2  # -t
    u = q0 + rp2 * c2  # -u
    norm = 1.0 / (m1 * m2 * t * u * 3.0)
    ch = c * h
    r1 = m1 * rs * _SQRT2
    r2 = m2 * rs * _SQRT2
    ss = s * s_a_b
    n = [
        ch * (b * spa * h2 - a * spb * c2),  # (-,-)
        -(r2 * c2 * (a * c2 - s_b * h2)),  # (-,0)
        ss * h * c2 * c,  # (-,+)
        r1 * h2 * (b * h2 - s_a * c2),  # (0,-)
        -(m1 * m2 * s * ch * (x2 * 2.0 - 1.0) * 2.0),  # (0,0)
        r1 * c2 * (s_a * h2 - b * c2),  # (0,+)
        -(ss * h2 * h * c),  # (+,-)
        r2 * h2 * (a * h2 - s_b * c2),  # (+,0)
        ch * (a * spb * h2 - b * spa * c2),  # (+,+)
    ]
    if quark == "L":
        return [v * norm for v in n]
    return [n[8 - j] * (norm * _R_SIGN[j]) for j in range(9)]


def tree_amplitudes(x4: np.ndarray, quark: str = "L") -> np.ndarray:
    """The tree production amplitudes M_tree (N, 9) float64 of quark helicity ``quark`` at
    4D points ``x4`` (N, 4) (columns ``3 (l1 + 1) + (l2 + 1)``; equal to the real part of
    ``QQZZ4D().amplitudes(x4, loop=False)[0][:, 9 q: 9 q + 9]``)."""
    x4 = np.asarray(x4, dtype=np.float64)
    if x4.ndim != 2 or x4.shape[1] != 4:
        raise ValueError(f"x4 must have shape (N, 4), got {x4.shape}")
    cols = tree_production_xp(np, x4[:, 0], x4[:, 1], x4[:, 2], x4[:, 3], quark)
    return np.stack(cols, axis=1)


def tree_all(x4: np.ndarray) -> np.ndarray:
    """The 18 tree production amplitudes (N, 18) float64 at 4D points ``x4`` (N, 4), in the
    column order of :data:`.production.HELICITIES` (L then R, each ``3 (l1 + 1) + (l2 + 1)``)."""
    left = tree_amplitudes(x4, "L")
    right = left[:, ::-1] * np.asarray(_R_SIGN)
    return np.concatenate([left, right], axis=1)
