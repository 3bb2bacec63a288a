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


def cos_sin_2pi(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cos(2 pi u), sin(2 pi u))`` float64 with the argument reduced exactly: ``u`` is
    split as ``j / 4 + r`` with ``|r| <= 1/8`` (the subtraction is exact), so that the result
    keeps full relative precision near the zeros of sin and cos (u near 0, 1/4, 1/2, 1)."""
    u = np.asarray(u, dtype=np.float64)
    j = np.rint(4.0 * u)
    r = u - 0.25 * j
    c0, s0 = np.cos(2.0 * np.pi * r), np.sin(2.0 * np.pi * r)
    q = np.mod(j, 4.0)
    c = np.where(q == 0, c0, np.where(q == 1, -s0, np.where(q == 2, -c0, s0)))
    s = np.where(q == 0, s0, np.where(q == 1, c0, np.where(q == 2, -s0, -c0)))
    return c, s


def _decay(
    mass: np.ndarray,
    n: np.ndarray,
    gamma: np.ndarray,
    gbeta: np.ndarray,
    x_cos: np.ndarray,
    x_phi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Massless two-body decay of a boson of mass ``mass`` moving along ``n``; returns the
    (fermion, partner) momenta in the centre-of-mass frame; the fermion has polar angle
    theta about ``n`` with ``cos(theta) = 2 x_cos - 1``, ``sin(theta) = 2 sqrt(x_cos (1 -
    x_cos))`` and azimuth ``phi = 2 pi x_phi`` about the axes of :func:`_axes`."""
    xp, yp = _axes(n)
    cos_t = 2.0 * x_cos - 1.0
    sin_t = 2.0 * np.sqrt(np.clip(x_cos * (1.0 - x_cos), 0.0, None))
    cphi, sphi = cos_sin_2pi(x_phi)
    d = (sin_t * cphi)[:, None] * xp + (sin_t * sphi)[:, None] * yp + cos_t[:, None] * n
    half = 0.5 * mass
    q = np.concatenate([half[:, None], half[:, None] * d], axis=1)
    qbar = np.concatenate([half[:, None], -half[:, None] * d], axis=1)
    return _boost_along(q, n, gamma, gbeta), _boost_along(qbar, n, gamma, gbeta)


def x_to_momenta(x: np.ndarray) -> np.ndarray:
    """Map points ``x`` (N, 8) of [0,1]^8 to outgoing momenta (N, 6, 4) float64 (GeV).

    Forms without cancellation near the faces (as :func:`x_to_momenta_mp`):
    ``sqrt(s) - m1 - m2 = (1000 - m1 - m2) x1``, ``lambda = (s - (m1+m2)^2)(s - (m1-m2)^2)``,
    ``sin(theta) = 2 sqrt(x2 (1 - x2))`` and likewise for the decay angles, azimuths via
    :func:`cos_sin_2pi`: each component is within a few ulps of the exact map."""
    x = np.asarray(x, dtype=np.float64)
    m1 = M_MIN + M_RANGE * x[:, 2]
    m2 = M_MIN + M_RANGE * x[:, 3]
    msum = m1 + m2
    above = (SQRT_S_MAX - msum) * x[:, 0]
    rs = msum + above
    s = rs * rs
    cos_t = 2.0 * x[:, 1] - 1.0
    sin_t = 2.0 * np.sqrt(np.clip(x[:, 1] * (1.0 - x[:, 1]), 0.0, None))
    m1s, m2s = m1 * m1, m2 * m2
    lam = np.clip(above * (rs + msum) * (s - (m1 - m2) ** 2), 0.0, None)
    p = np.sqrt(lam) / (2.0 * rs)
    e1 = (s + m1s - m2s) / (2.0 * rs)
    e2 = (s + m2s - m1s) / (2.0 * rs)
    n = np.stack([sin_t, np.zeros_like(sin_t), cos_t], axis=1)
    k3, k4 = _decay(m1, n, e1 / m1, p / m1, x[:, 4], x[:, 5])
    k6, k5 = _decay(m2, -n, e2 / m2, p / m2, x[:, 6], x[:, 7])
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


# ----------------------------------------------------------------------------------------
# the same map in mpmath: the exact kinematics of a point x (for the rescue of evaluate(x))
# ----------------------------------------------------------------------------------------


def _mp_decay(mass, n, xp, yp, gamma, gbeta, x_cos, x_phi):
    """mpmath twin of :func:`_decay` for one boson: ``(fermion, partner)`` momenta (lists of
    4 mpf) of a massless decay along the unit vector ``n`` (axes ``xp``, ``yp``), with
    ``cos(theta) = 2 x_cos - 1`` and ``sin(theta) = 2 sqrt(x_cos (1 - x_cos))`` (no
    cancellation near the poles) and ``phi = 2 pi x_phi``."""
    import mpmath

    cos_t = 2 * x_cos - 1
    sin_t = 2 * mpmath.sqrt(x_cos * (1 - x_cos))
    cphi, sphi = mpmath.cospi(2 * x_phi), mpmath.sinpi(2 * x_phi)
    d = [sin_t * cphi * xp[i] + sin_t * sphi * yp[i] + cos_t * n[i] for i in range(3)]
    half = mass / 2
    out = []
    for sg in (1, -1):
        e = half
        vec = [sg * half * d[i] for i in range(3)]
        pl = sg * half * cos_t  # vec . n (n, xp, yp orthonormal)
        e_new = gamma * e + gbeta * pl
        pl_new = gamma * pl + gbeta * e
        out.append([e_new] + [vec[i] + (pl_new - pl) * n[i] for i in range(3)])
    return out[0], out[1]


def x_to_momenta_mp(x: np.ndarray, dps: int = 50) -> np.ndarray:
    """The map of :func:`x_to_momenta` evaluated in mpmath at ``dps`` digits: outgoing
    momenta (N, 6, 4) as an object array of ``mpmath.mpf`` (GeV), same conventions.

    The entries of ``x`` (float64, taken exactly, or an object array of mpmath reals, e.g.
    quadrature nodes) are the exact coordinates. Near the faces the forms without
    cancellation are used: ``sqrt(s) - m1 - m2 = (1000 - m1 - m2) x1``, ``lambda =
    (s - (m1+m2)^2)(s - (m1-m2)^2)``, ``1 - cos(theta) = 2 x2``, ``1 + cos(theta) =
    2 (1 - x2)``, ``sin(theta) = 2 sqrt(x2 (1 - x2))``, ``phi = 2 pi x6`` via ``cospi`` /
    ``sinpi``. The numbers are created at ``dps`` digits; evaluate them at the same or a
    lower working precision."""
    import mpmath

    x = np.asarray(x)
    if x.dtype != object:
        x = x.astype(np.float64)
    out = np.empty((x.shape[0], 6, 4), dtype=object)
    with mpmath.workdps(dps):
        zero = mpmath.mpf(0)
        for a in range(x.shape[0]):
            x1, x2, x3, x4, x5, x6, x7, x8 = (mpmath.mpf(v) for v in x[a])
            m1 = M_MIN + M_RANGE * x3
            m2 = M_MIN + M_RANGE * x4
            msum = m1 + m2
            above = (SQRT_S_MAX - msum) * x1  # sqrt(s) - m1 - m2
            rs = msum + above
            s = rs * rs
            m1s, m2s = m1 * m1, m2 * m2
            lam = above * (rs + msum) * (s - (m1 - m2) ** 2)
            p = mpmath.sqrt(lam) / (2 * rs)
            e1 = (s + m1s - m2s) / (2 * rs)
            e2 = (s + m2s - m1s) / (2 * rs)
            cos_t = 2 * x2 - 1
            sin_t = 2 * mpmath.sqrt(x2 * (1 - x2))
            n = [sin_t, zero, cos_t]
            nm = [-sin_t, zero, -cos_t]
            yp = [zero, mpmath.mpf(1), zero]
            if sin_t > 0:
                xp = [cos_t, zero, -sin_t]  # y' x n; boson 2: y'' = -y', x'' = x'
                ypp = [zero, mpmath.mpf(-1), zero]
                xpp = xp
            else:  # along z (measure zero): the defaults of _axes
                xp = [cos_t, zero, zero]
                ypp = yp
                xpp = [-cos_t, zero, zero]
            k3, k4 = _mp_decay(m1, n, xp, yp, e1 / m1, p / m1, x5, x6)
            k6, k5 = _mp_decay(m2, nm, xpp, ypp, e2 / m2, p / m2, x7, x8)
            half = rs / 2
            k1 = [-half, zero, zero, half]
            k2 = [-half, zero, zero, -half]
            for i, kk in enumerate((k1, k2, k3, k4, k5, k6)):
                for c in range(4):
                    out[a, i, c] = kk[c]
    return out
