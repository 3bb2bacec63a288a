"""Unit-hypercube coordinates <-> four-momenta for q qbar -> Z Z -> l- l+ l'- l'+.

Conventions (identical to the reference data, ``shared/data/README.md``):

* momenta are ``(E, px, py, pz)`` in GeV, **all outgoing**, shape ``(N, 6, 4)``, float64;
  ``k1 = -p(incoming antiquark)``, ``k2 = -p(incoming quark)``, ``k3`` / ``k4`` the lepton /
  antilepton of boson 1, ``k5`` / ``k6`` the antilepton / lepton of boson 2;
* partonic centre-of-mass frame, incoming quark along ``+z``;
* ``m1 = 50 + 80 x3``, ``m2 = 50 + 80 x4``, ``sqrt(s) = m1 + m2 + (1000 - m1 - m2) x1``;
* ``cos(theta) = 2 x2 - 1``: angle of boson 1 to ``+z``; boson 1 lies in the x-z plane with
  ``px >= 0``, direction ``n = (sin theta, 0, cos theta)``;
* boson 1 decays in its rest frame (pure boost along ``n``): the lepton ``k3`` has
  ``cos(theta1) = 2 x5 - 1`` about ``n`` and azimuth ``phi1 = 2 pi x6`` about the axes
  ``y' = z x n / |z x n|``, ``x' = y' x n``;
* boson 2 likewise with ``k6``, ``cos(theta2) = 2 x7 - 1``, ``phi2 = 2 pi x8`` about ``-n``
  (axes ``y'' = z x (-n) / |.| = -y'``, ``x'' = y'' x (-n) = x'``);
* antileptons are back to back with their leptons in the boson rest frames.

Relabellings seen in x (derived from the map, checked numerically in the tests):

* quark <-> antiquark (k1 <-> k2): a rotation by pi about the x axis brings the event back
  to the standard frame: ``x2 -> 1 - x2``, ``x6 -> x6 + 1/2``, ``x8 -> x8 + 1/2`` (mod 1);
* boson 1 <-> boson 2 ((k3, k4) <-> (k6, k5)): a rotation by pi about z:
  ``x2 -> 1 - x2``, ``x3 <-> x4``, ``x5 <-> x7``, ``x6 <-> x8``;
* lepton <-> antilepton of boson 1 (k3 <-> k4): ``x5 -> 1 - x5``, ``x6 -> x6 + 1/2``;
  of boson 2 (k5 <-> k6): ``x7 -> 1 - x7``, ``x8 -> x8 + 1/2``;
* mirror y -> -y: ``x6 -> 1 - x6``, ``x8 -> 1 - x8``.
"""

from __future__ import annotations

import numpy as np

SQRT_S_MAX = 1000.0
M_MIN = 50.0
M_RANGE = 80.0


def _boost_along(p: np.ndarray, n: np.ndarray, gamma: np.ndarray, gbeta: np.ndarray) -> np.ndarray:
    """Boost four-vectors ``p`` (N, 4) along unit vectors ``n`` (N, 3), rapidity given by
    ``gamma`` and ``gamma * beta`` (N,)."""
    e = p[:, 0]
    vec = p[:, 1:]
    pl = np.einsum("ij,ij->i", vec, n)
    e_new = gamma * e + gbeta * pl
    pl_new = gamma * pl + gbeta * e
    vec_new = vec + (pl_new - pl)[:, None] * n
    return np.concatenate([e_new[:, None], vec_new], axis=1)


def _axes(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axes ``(x', y')`` with ``y' = z x n / |z x n|``, ``x' = y' x n`` (N, 3) each.

    For ``n`` parallel to z (measure zero) ``y'`` defaults to ``(0, 1, 0)``.
    """
    zxn = np.stack([-n[:, 1], n[:, 0], np.zeros_like(n[:, 0])], axis=1)
    norm = np.sqrt(zxn[:, 0] ** 2 + zxn[:, 1] ** 2)
    safe = norm > 0.0
    yp = np.where(
        safe[:, None], zxn / np.where(safe, norm, 1.0)[:, None], np.array([0.0, 1.0, 0.0])
    )
    xp = np.cross(yp, n)
    return xp, yp


def _decay(
    mass: np.ndarray,
    n: np.ndarray,
    gamma: np.ndarray,
    gbeta: np.ndarray,
    cos_t: np.ndarray,
    phi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Massless two-body decay of a boson of mass ``mass`` moving along ``n``; returns the
    (fermion, partner) momenta in the centre-of-mass frame; the fermion has polar angle
    ``acos(cos_t)`` about ``n`` and azimuth ``phi`` about the axes of :func:`_axes`."""
    xp, yp = _axes(n)
    sin_t = np.sqrt(np.clip(1.0 - cos_t * cos_t, 0.0, None))
    d = (
        (sin_t * np.cos(phi))[:, None] * xp
        + (sin_t * np.sin(phi))[:, None] * yp
        + cos_t[:, None] * n
    )
    half = 0.5 * mass
    q = np.concatenate([half[:, None], half[:, None] * d], axis=1)
    qbar = np.concatenate([half[:, None], -half[:, None] * d], axis=1)
    return _boost_along(q, n, gamma, gbeta), _boost_along(qbar, n, gamma, gbeta)


def x_to_momenta(x: np.ndarray) -> np.ndarray:
    """Map points ``x`` (N, 8) of [0,1]^8 to outgoing momenta (N, 6, 4) float64 (GeV)."""
    x = np.asarray(x, dtype=np.float64)
    m1 = M_MIN + M_RANGE * x[:, 2]
    m2 = M_MIN + M_RANGE * x[:, 3]
    rs = (m1 + m2) + (SQRT_S_MAX - m1 - m2) * x[:, 0]
    s = rs * rs
    cos_t = 2.0 * x[:, 1] - 1.0
    sin_t = np.sqrt(np.clip(1.0 - cos_t * cos_t, 0.0, None))
    m1s, m2s = m1 * m1, m2 * m2
    lam = np.clip((s - m1s - m2s) ** 2 - 4.0 * m1s * m2s, 0.0, None)
    p = np.sqrt(lam) / (2.0 * rs)
    e1 = (s + m1s - m2s) / (2.0 * rs)
    e2 = (s + m2s - m1s) / (2.0 * rs)
    n = np.stack([sin_t, np.zeros_like(sin_t), cos_t], axis=1)
    k3, k4 = _decay(m1, n, e1 / m1, p / m1, 2.0 * x[:, 4] - 1.0, 2.0 * np.pi * x[:, 5])
    k6, k5 = _decay(m2, -n, e2 / m2, p / m2, 2.0 * x[:, 6] - 1.0, 2.0 * np.pi * x[:, 7])
    half = 0.5 * rs
    zero = np.zeros_like(rs)
    k1 = np.stack([-half, zero, zero, half], axis=1)
    k2 = np.stack([-half, zero, zero, -half], axis=1)
    return np.stack([k1, k2, k3, k4, k5, k6], axis=1)


def _minkowski_sq(p: np.ndarray) -> np.ndarray:
    return p[:, 0] ** 2 - p[:, 1] ** 2 - p[:, 2] ** 2 - p[:, 3] ** 2


def _decay_angles(
    lep: np.ndarray, boson: np.ndarray, mass: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Polar cosine and azimuth/(2 pi) in [0,1) of ``lep`` in the rest frame of ``boson``
    (reached by a pure boost), measured about ``n`` with the axes of :func:`_axes`."""
    pb = np.sqrt(np.einsum("ij,ij->i", boson[:, 1:], boson[:, 1:]))
    gamma = boson[:, 0] / mass
    gbeta = pb / mass
    rest = _boost_along(lep, n, gamma, -gbeta)
    d = rest[:, 1:]
    dn = np.sqrt(np.einsum("ij,ij->i", d, d))
    xp, yp = _axes(n)
    cos_t = np.einsum("ij,ij->i", d, n) / dn
    phi = np.arctan2(np.einsum("ij,ij->i", d, yp), np.einsum("ij,ij->i", d, xp))
    u = phi / (2.0 * np.pi)
    u = np.where(u < 0.0, u + 1.0, u)
    u = np.where(u >= 1.0, u - 1.0, u)
    return np.clip(cos_t, -1.0, 1.0), u


def momenta_to_x(k: np.ndarray) -> np.ndarray:
    """Inverse of :func:`x_to_momenta` for momenta (N, 6, 4) in the partonic c.m. frame with the
    incoming quark along +z (boson 1 may have any azimuth). Returns x (N, 8) float64; the
    azimuthal coordinates x6, x8 lie in [0, 1)."""
    k = np.asarray(k, dtype=np.float64)
    b1 = k[:, 2] + k[:, 3]
    b2 = k[:, 4] + k[:, 5]
    rs = -(k[:, 0, 0] + k[:, 1, 0])
    m1 = np.sqrt(np.clip(_minkowski_sq(b1), 0.0, None))
    m2 = np.sqrt(np.clip(_minkowski_sq(b2), 0.0, None))
    x = np.empty((k.shape[0], 8), dtype=np.float64)
    x[:, 2] = (m1 - M_MIN) / M_RANGE
    x[:, 3] = (m2 - M_MIN) / M_RANGE
    x[:, 0] = (rs - m1 - m2) / (SQRT_S_MAX - m1 - m2)
    pvec = 0.5 * (b1[:, 1:] - b2[:, 1:])
    pabs = np.sqrt(np.einsum("ij,ij->i", pvec, pvec))
    n = pvec / np.where(pabs > 0.0, pabs, 1.0)[:, None]
    x[:, 1] = 0.5 * (np.clip(n[:, 2], -1.0, 1.0) + 1.0)
    c1, u1 = _decay_angles(k[:, 2], b1, m1, n)
    c2, u2 = _decay_angles(k[:, 5], b2, m2, -n)
    x[:, 4] = 0.5 * (c1 + 1.0)
    x[:, 5] = u1
    x[:, 6] = 0.5 * (c2 + 1.0)
    x[:, 7] = u2
    return x
