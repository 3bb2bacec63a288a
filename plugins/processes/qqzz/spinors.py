"""Vectorised spinor products for massless momenta (all outgoing), complex128.

Conventions (those of Dixon's QCD reviews):

* ``p_{a adot} = p_mu sigma^mu = [[E + pz, px - i py], [px + i py, E - pz]] = lambda_a lambdatilde_adot``;
* positive energy: ``lambda = (sqrt(k+), k_perp / sqrt(k+))`` with ``k+ = E + pz``,
  ``k_perp = px + i py`` (or the equivalent ``(conj(k_perp) / sqrt(k-), sqrt(k-))`` when
  ``k+ < k-``, which differs by a little-group phase), ``lambdatilde = conj(lambda)``;
* negative energy: ``lambda(k) = i lambda(-k)``, ``lambdatilde(k) = i conj(lambda(-k))``;
* ``<ij> = lambda_i^1 lambda_j^2 - lambda_i^2 lambda_j^1`` and
  ``[ij] = -sign(E_i E_j) conj(<ij>)``, so that ``<ij>[ji] = s_ij = 2 k_i.k_j``,
  ``sum_k <ik>[kj] = 0`` (momentum conservation) and the Schouten identity hold.

Arrays are laid out as ``(6, 6, N)`` so that ``za[i, j]`` is a contiguous (N,) vector.
Amplitudes built from these products carry convention-dependent phases; ``|A|^2`` and
``Re(conj(A_tree) A_loop)`` do not.
"""

from __future__ import annotations

import numpy as np


def angle_spinors(k: np.ndarray) -> np.ndarray:
    """Holomorphic spinors ``lambda`` (2, n_particles, N) complex128 of momenta ``k`` (N, n, 4)."""
    k = np.asarray(k, dtype=np.float64)
    sign = np.where(k[..., 0] < 0.0, -1.0, 1.0)
    q = k * sign[..., None]  # positive-energy partner
    kp = q[..., 0] + q[..., 3]
    km = q[..., 0] - q[..., 3]
    kperp = q[..., 1] + 1j * q[..., 2]
    use_plus = kp >= km
    big = np.sqrt(np.where(use_plus, kp, km))
    inv = 1.0 / np.where(big > 0.0, big, 1.0)
    l1 = np.where(use_plus, big + 0j, np.conj(kperp) * inv)
    l2 = np.where(use_plus, kperp * inv, big + 0j)
    phase = np.where(sign < 0.0, 1j, 1.0 + 0j)
    lam = np.stack([l1 * phase, l2 * phase])  # (2, N, n)
    return np.ascontiguousarray(np.moveaxis(lam, 2, 1))  # (2, n, N)


def spinor_products(k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(za, zb, s)``: ``<ij>``, ``[ij]`` (n, n, N) complex128 and ``s_ij = 2 k_i.k_j``
    (n, n, N) float64 for outgoing massless momenta ``k`` (N, n, 4)."""
    k = np.asarray(k, dtype=np.float64)
    lam = angle_spinors(k)
    za = lam[0][:, None, :] * lam[1][None, :, :] - lam[1][:, None, :] * lam[0][None, :, :]
    esign = np.where(k[..., 0] < 0.0, -1.0, 1.0).T  # (n, N)
    zb = -(esign[:, None, :] * esign[None, :, :]) * np.conj(za)
    kt = np.moveaxis(k, 0, -1)  # (n, 4, N)
    metric = np.array([1.0, -1.0, -1.0, -1.0])[None, :, None]
    s = 2.0 * np.einsum("iaN,jaN->ijN", kt * metric, kt)
    return za, zb, s


def _products(lam: np.ndarray, sgn: np.ndarray, kk: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(za, zb, s)`` (n, n, M) object arrays from the spinors ``lam`` (2, n, M), the energy
    signs ``sgn`` (n, M) and the momenta ``kk`` (M, n, 4) in any arbitrary-precision
    arithmetic (mpmath or gmpy2): the conventions of :func:`spinor_products`."""
    n, m = lam.shape[1], lam.shape[2]
    za = np.empty((n, n, m), dtype=object)
    zb = np.empty((n, n, m), dtype=object)
    s = np.empty((n, n, m), dtype=object)
    for i in range(n):
        for j in range(n):
            for a in range(m):
                v = lam[0, i, a] * lam[1, j, a] - lam[1, i, a] * lam[0, j, a]
                za[i, j, a] = v
                zb[i, j, a] = -int(sgn[i, a] * sgn[j, a]) * v.conjugate()
                ki, kj = kk[a, i], kk[a, j]
                s[i, j, a] = 2 * (ki[0] * kj[0] - ki[1] * kj[1] - ki[2] * kj[2] - ki[3] * kj[3])
    return za, zb, s


def _lambda(e, px, py, pz, sqrt, cplx):
    """``(sign of E, lambda^1, lambda^2)`` of one momentum in any arbitrary-precision
    arithmetic (``sqrt`` and the complex constructor ``cplx`` of mpmath or gmpy2), with the
    conventions of :func:`angle_spinors`."""
    sg = -1 if e < 0 else 1
    e, px, py, pz = sg * e, sg * px, sg * py, sg * pz
    kp, km = e + pz, e - pz
    kperp = cplx(px, py)
    if kp >= km:
        big = sqrt(kp)
        l1, l2 = cplx(big), kperp / big
    else:
        big = sqrt(km)
        l1, l2 = kperp.conjugate() / big, cplx(big)
    ph = cplx(0, 1) if sg < 0 else cplx(1)
    return sg, l1 * ph, l2 * ph


def angle_spinors_mp(k: np.ndarray) -> np.ndarray:
    """As :func:`angle_spinors` in mpmath at the current ``mpmath.mp.dps``: ``lambda``
    (2, n, M) object array of ``mpmath.mpc`` for momenta ``k`` (M, n, 4) (float64, taken
    exactly, or mpmath reals); same conventions and branch choice (``k+ >= k-``)."""
    import mpmath

    m, n = k.shape[0], k.shape[1]
    lam = np.empty((2, n, m), dtype=object)
    for a in range(m):
        for i in range(n):
            e, px, py, pz = (mpmath.mpf(v) for v in k[a, i])
            _, lam[0, i, a], lam[1, i, a] = _lambda(e, px, py, pz, mpmath.sqrt, mpmath.mpc)
    return lam


def spinor_products_mp(k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`spinor_products` in mpmath arithmetic at the current ``mpmath.mp.dps``.

    ``k`` (M, n, 4) float64 (taken exactly) or object array of mpmath reals; returns object
    arrays ``(za, zb, s)`` of shape (n, n, M) holding mpmath numbers, same conventions.
    """
    import mpmath

    m, n = k.shape[0], k.shape[1]
    lam = angle_spinors_mp(k)
    sgn = np.empty((n, m), dtype=object)
    kk = np.empty((m, n, 4), dtype=object)
    for a in range(m):
        for i in range(n):
            kk[a, i] = [mpmath.mpf(v) for v in k[a, i]]
            sgn[i, a] = -1 if kk[a, i, 0] < 0 else 1
    return _products(lam, sgn, kk)


def spinor_products_gm(k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`spinor_products_mp` with gmpy2 (MPFR) numbers at the precision of the current
    gmpy2 context: ``k`` (M, n, 4) object array of ``gmpy2.mpfr`` (or float64, taken
    exactly); same conventions and branch choice."""
    import gmpy2

    m, n = k.shape[0], k.shape[1]
    lam = np.empty((2, n, m), dtype=object)
    sgn = np.empty((n, m), dtype=np.int64)
    kk = np.empty((m, n, 4), dtype=object)
    for a in range(m):
        for i in range(n):
            kk[a, i] = [gmpy2.mpfr(v) for v in k[a, i]]
            sgn[i, a], lam[0, i, a], lam[1, i, a] = _lambda(*kk[a, i], gmpy2.sqrt, gmpy2.mpc)
    return _products(lam, sgn, kk)
