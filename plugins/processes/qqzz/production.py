"""Production helicity amplitudes of q qbar -> Z Z (4D and 2D), projected from the 8D DKS code.

The 8D amplitude of :mod:`.process` (q qbar -> Z Z -> l- l+ l'- l'+, coupling stripped, tree and
one-loop finite part, ``mu = 91.1876`` GeV by default) is, at fixed production kinematics, linear
in the two lepton currents. With the lepton spinor phases fixed in the boson helicity frames
(below) it is *exactly* a finite sum of spin-1 decay functions::

    A_can(q, h1, h2; d1, d2) = sum_{l1, l2} M(q; l1, l2) D_{l1, s1}(d1) D_{l2, s2}(d2)

with ``D_{l,s}(theta, phi) = sqrt(3) exp(+i l phi) d^1_{l s}(theta)`` (Wigner small d, Condon-
Shortley phases; :func:`decay_functions`), ``l`` the boson helicity, ``s = -1`` for a left-handed
(``L``) lepton line and ``s = +1`` for a right-handed one (``R``: the same M with mirrored decay
functions, because the coupling-stripped amplitudes of both lepton chiralities share one
production tensor). M is defined by the ``LL`` lepton configuration (the other three follow with
the mirrored functions; all 8 columns are reconstructed in the tests) and projected out
exactly from the values at a few decay directions. The node -d is the 8D column with that
lepton line flipped at the same momenta, so each 8D evaluation at (d1, d2) gives the values at
(+-d1, +-d2); per boson 2 directions (cos(theta) = 1/2, phi / (2 pi) = 1/16, 5/16) give 4 values
of the 3 unknowns M_l, and M is their least-squares solution (exact: the values lie in the
span), so 4 evaluations of the 8D code per production point (one vectorised call; all 8
columns are used); :data:`NODE_X5`. The extended-precision :func:`project_exact` can use the
3 x 3 quadrature instead (``quadrature=True``: 2-point Gauss-Legendre in cos(theta) times 3
equally spaced phi per boson, 9 evaluations): the two agree in exact arithmetic (tested).

Conventions
-----------
* Coordinates. 4D: ``x1..x4`` exactly as in 8D: ``m1 = 50 + 80 x3``, ``m2 = 50 + 80 x4``,
  ``sqrt(s) = m1 + m2 + (1000 - m1 - m2) x1``, ``cos(theta) = 2 x2 - 1`` (boson 1 to the incoming
  quark, +z). 2D: both bosons at ``MZ = 91.1876`` GeV: ``sqrt(s) = 2 MZ + (1000 - 2 MZ) x1``,
  ``cos(theta) = 2 x2 - 1``; evaluated as the 4D point ``(x1, x2, xZ, xZ)`` with
  ``xZ = (MZ - 50) / 80`` (``50 + 80 xZ == MZ`` exactly in float64).
* Momenta, all outgoing: as in :mod:`.kinematics` (k1 = -antiquark, k2 = -quark along +z, boson 1
  direction ``n = (sin theta, 0, cos theta)``).
* Helicity frames: boson 1 axes ``(x', y', n)`` with ``y' = (0, 1, 0)``, ``x' = y' x n``; boson 2
  axes ``(x', -y', -n)`` (its own flight direction), both right-handed; rest frames reached by a
  pure boost. ``l1``, ``l2`` are the helicities of each boson along its own flight direction.
  ``d_i = (theta_i, phi_i)`` is the direction of the *lepton* (k3, resp. k6) in that frame
  (= the 8D coordinates x5..x8).
* Phases. The 8D spinors (:mod:`.spinors`) carry decay-angle dependent little-group phases. They
  are removed by :func:`decay_phases`: ``A_can = omega1 omega2 A_8D`` with ``omega_i`` the phase
  that makes the lepton current ``<a|sigma^mu|b]`` (a = the negative-helicity lepton of pair i)
  a positive multiple of ``Lambda_i (0, eps_s(d_i)^*)``, where ``eps_s(d) = R_z(phi) R_y(theta)
  eps_s(z)``, ``eps_{+-1}(z) = -+(x + -i y)/sqrt 2`` in the helicity frame and ``Lambda_i`` the
  boost to the c.m. frame. Hence M is (a positive factor depending on m1, m2 only, fixed by the
  normalisation below, times) the production amplitude
  contracted with the outgoing polarisation vectors ``eps_{l1}^*(P1) eps_{l2}^*(P2)`` (Condon-
  Shortley phases in the helicity frames); the quark spinor phases are those of :mod:`.spinors`
  (a common, decay-independent phase of tree and loop, so f01 is unaffected).
* Normalisation: ``sum_{l1,l2} |M|^2 = <|A_8D|^2>``, the average over both decay solid angles
  (``dOmega1 dOmega2 / (4 pi)^2``), for each quark helicity and any lepton configuration. The
  boson propagators ``1/s34``, ``1/s56`` contained in the DKS ``A^a`` are kept in M (no Z width,
  no couplings); M has the dimension of A_8D.

Functions (:class:`QQZZ4D`, :class:`QQZZ2D`): ``f00 = |M_tree|^2``, ``f01 = 2 Re(conj(M_tree)
M_loop)``, ``f11 = |M_loop|^2`` for the 18 helicities of :data:`HELICITIES` (quark-line helicity,
then l1, then l2, e.g. ``L+-``; the quark-line letter is that of the 8D columns: L = column LLL).

Symmetry generators (``f_h(x) = f_sigma(h)(phi(x))``; checked in the tests to 1e-10):
``quark-antiquark`` (L <-> R; x2 -> 1 - x2), ``boson-exchange`` (l1 <-> l2; x2 -> 1 - x2,
x3 <-> x4 in 4D), ``parity`` (L <-> R and l1, l2 -> -l1, -l2 at the same x) and ``CP``
(l1, l2 -> -l1, -l2; x2 -> 1 - x2; the product of the first and the third). Their group has
order 8 and **4 orbits** on the 18 helicities in both 4D and 2D: ``{L--, L++, R--, R++}``,
``{L-0, L0-, L0+, L+0, R...}``, ``{L-+, L+-, R-+, R+-}``, ``{L00, R00}``. No function vanishes
identically (tree or loop), but some vanish on a line: ``(0,0)`` at ``cos(theta) = 0`` (x2 = 1/2)
in 4D and 2D, and in 2D (m1 = m2) also ``(+-,+-)`` = ``L--, L++, R--, R++`` at x2 = 1/2 (Bose
symmetry); there f00 has a zero, so an f00-normalised function (f11 / f00) is ill-defined.

Precision: the functions of x to 1e-9 relative (f00, f11; f01 relative to sqrt(f00 f11))
everywhere in the open hypercube, so that columns related by a symmetry agree to 1e-9. The
float64 projection (the 8D amplitudes of the nodes at the float64 momenta of x, compiled path)
is kept where two independent tests pass: the parity partners agree (:data:`PROD_SYM_THRESHOLD`)
and the least-squares residual of the 16 node values per quark helicity predicts a small error
(:data:`PROD_RESIDUAL_THRESHOLD`; it sees the float64 errors of the node values, amplified
near the zeros of a helicity). Near the beam, the threshold (:data:`PROD_BEAM_EXACT`,
:data:`PROD_X1_EXACT`) and where a test fails, the whole projection runs in extended
precision: compiled double-double (:func:`.ddamp.project_dd`) where the estimated digit loss
allows (:data:`PROD_DD_MAX_LOSS`), else MPFR (:func:`project_exact`). Measured against the
dd projection on 1e4-2e4 points each (uniform, edges:10, edges:100 and a band 1e-3 < min(x2,
1 - x2) < 0.1): largest error of an accepted float64 point 2.7e-10
(``scripts/bench_production.py --accuracy N``).

Boundaries: the 8D code is singular at threshold (x1 = 0) and with a boson along the beam
(x2 in {0, 1}); such points raise :class:`zoo.errors.NumericalError` for the loop terms (the
tree, and f00, come from the closed form of :mod:`.tree`, finite there).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from zoo.errors import NumericalError, UnknownLabelError
from zoo.plugins.processes.qqzz import amplitudes as amp
from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, x_to_momenta
from zoo.plugins.processes.qqzz.process import QQZZ8D
from zoo.plugins.processes.qqzz.spinors import angle_spinors
from zoo.plugins.processes.qqzz.tree import tree_all
from zoo.process import CoordinatePermutation, Process, Symmetry

MZ = 91.1876
#: 4D coordinate of a boson mass equal to MZ (``M_MIN + M_RANGE * XZ == MZ`` exactly)
XZ = (MZ - M_MIN) / M_RANGE
#: boson helicities in column order and their label characters
LAMBDAS: tuple[int, ...] = (-1, 0, 1)
_HCHAR = {-1: "-", 0: "0", 1: "+"}
#: the 18 helicity labels: index ``9 q + 3 (l1 + 1) + (l2 + 1)``, q = 0 (L), 1 (R)
HELICITIES: tuple[str, ...] = tuple(
    q + _HCHAR[a] + _HCHAR[b] for q in "LR" for a in LAMBDAS for b in LAMBDAS
)
_TERMS = ("f00", "f01", "f11")
_SQRT3 = np.sqrt(3.0)

# -- nodes of the float64 and double-double projections: 2 x 2 evaluations of the 8D code --
# Per boson the lepton directions d_a (a = 0, 1) at cos(theta) = 1/2 (x = 3/4) and
# phi / (2 pi) = 1/16, 5/16 (exact binary fractions: the float64 nodes are the exact ones).
# Each 8D evaluation at (d_a, d_b) gives, in its L and R lepton columns, the amplitude at
# +-d_a times +-d_b (the column with a lepton line flipped is the amplitude at the antipodal
# direction): per boson 4 values sum_l M_l D_{l,s}(d_a), s = -+1, of the 3 unknowns M_l, with
# the matrix B[(s, a), l] = D_{l,s}(d_a) of rank 3 (cond(B) = 1.63), so that M = B^+ A B^+^T
# is exact, with 4 evaluations of the 8D code per production point instead of the 9 of the
# 3 x 3 Gauss-Legendre quadrature (``project_exact(quadrature=True)``). No lepton of one boson is
# collinear with one of the other at threshold (phi_2 != pi - phi_1 mod 2 pi, cos != 0).
# Measured choice (4,000 points at 1e-3 < min(x2, 1 - x2) < 3e-2, float64 path against the
# dd projection): the float64 errors of parity partners are as independent as with the
# quadrature (the parity test below sees them: 10 (2D) / 5 (4D) points with error > 1e-9 and
# partners within 1e-10, against 66 / 10 with the quadrature); nodes at cos(theta) = 0 would
# make the partners' errors equal (85 of 1,000 2D points missed).
NODE_X5 = np.full(2, 0.75)  # x = (1 + cos) / 2 of the evaluated lepton: cos(theta) = 1/2
NODE_X6 = np.array([1.0 / 16.0, 5.0 / 16.0])  # phi / (2 pi)
N_NODES = NODE_X5.size
#: the 3 x 3 Gauss-Legendre x phi quadrature (``project_exact(quadrature=True)``): 3 nodes per
#: boson at cos(theta) = 1/sqrt(3), phi / (2 pi) = (j + 1/4) / 3, antipodal pairs as above
MP_NODES = 3


def wigner_d1(cos_t: np.ndarray) -> np.ndarray:
    """Wigner ``d^1_{l s}(theta)`` (N, 3, 3) float64, rows ``l`` and columns ``s`` in -1, 0, 1."""
    c = np.asarray(cos_t, dtype=np.float64)
    s = np.sqrt(np.clip(1.0 - c * c, 0.0, None)) / np.sqrt(2.0)
    p, m = 0.5 * (1.0 + c), 0.5 * (1.0 - c)
    return np.stack(
        [
            np.stack([p, s, m], axis=-1),  # l = -1: d_{-1,-1}, d_{-1,0}, d_{-1,1}
            np.stack([-s, c, s], axis=-1),  # l = 0
            np.stack([m, -s, p], axis=-1),  # l = +1
        ],
        axis=-2,
    )


def decay_functions(cos_t: np.ndarray, phi: np.ndarray, sigma: int) -> np.ndarray:
    """``D_{l,sigma}(theta, phi) = sqrt(3) exp(i l phi) d^1_{l sigma}(theta)`` (N, 3) complex128
    for ``l = -1, 0, 1``; ``sigma = -1`` (left-handed lepton line) or ``+1`` (right-handed).
    Orthonormal under the average over the sphere ``dOmega / (4 pi)``."""
    if sigma not in (-1, 1):
        raise ValueError("sigma must be -1 or +1")
    d = wigner_d1(cos_t)[..., :, sigma + 1]
    lam = np.array(LAMBDAS, dtype=np.float64)
    ph = np.exp(1j * np.asarray(phi, dtype=np.float64)[..., None] * lam)
    return _SQRT3 * d * ph


def _frame(cos_t: np.ndarray, boson: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Helicity-frame axes ``(X, Y, Z)`` (N, 3) each of boson 1 or 2 (Z = flight direction)."""
    sin_t = np.sqrt(np.clip(1.0 - cos_t * cos_t, 0.0, None))
    zero = np.zeros_like(cos_t)
    n = np.stack([sin_t, zero, cos_t], axis=1)
    yp = np.stack([zero, zero + 1.0, zero], axis=1)
    xp = np.stack([cos_t, zero, -sin_t], axis=1)  # y' x n
    return (xp, yp, n) if boson == 1 else (xp, -yp, -n)


def _pair_phase(
    x8: np.ndarray, k: np.ndarray, lam: np.ndarray, boson: int, helicity: str
) -> np.ndarray:
    """``omega`` (N,) complex: the phase making the current of lepton pair ``boson`` canonical."""
    lep, anti = (2, 3) if boson == 1 else (5, 4)
    a, b = (lep, anti) if helicity == "L" else (anti, lep)
    sigma = -1 if helicity == "L" else 1
    # current of the 8D spinors: B[alpha, alphadot] = lambda_a lambdatilde_b (positive energies)
    bu = lam[:, a, :].T[:, :, None] * np.conj(lam[:, b, :].T)[:, None, :]
    # canonical current: boost of (0, eps_sigma(d)^*) from the helicity frame
    c = 2.0 * x8[:, 4 if boson == 1 else 6] - 1.0
    phi = 2.0 * np.pi * x8[:, 5 if boson == 1 else 7]
    s = np.sqrt(np.clip(1.0 - c * c, 0.0, None))
    cp, sp = np.cos(phi), np.sin(phi)
    r2 = 1.0 / np.sqrt(2.0)
    ex = np.conj((-sigma * c * cp + 1j * sp) * r2)
    ey = np.conj((-sigma * c * sp - 1j * cp) * r2)
    ez = (sigma * s * r2).astype(np.complex128)
    X, Y, Z = _frame(2.0 * x8[:, 1] - 1.0, boson)
    P = k[:, lep] + k[:, anti]
    pabs = np.sqrt(np.einsum("ij,ij->i", P[:, 1:], P[:, 1:]))
    m = np.sqrt(np.clip(P[:, 0] ** 2 - pabs**2, 0.0, None))
    gamma, gbeta = P[:, 0] / m, pabs / m
    vec = ex[:, None] * X + ey[:, None] * Y + (gamma * ez)[:, None] * Z  # boost along Z
    j0 = gbeta * ez
    bc = np.empty_like(bu)
    bc[:, 0, 0] = j0 + vec[:, 2]
    bc[:, 0, 1] = vec[:, 0] - 1j * vec[:, 1]
    bc[:, 1, 0] = vec[:, 0] + 1j * vec[:, 1]
    bc[:, 1, 1] = j0 - vec[:, 2]
    z = np.einsum("nij,nij->n", np.conj(bu), bc)
    return z / np.abs(z)


def decay_phases(x8: np.ndarray, k: np.ndarray | None = None) -> np.ndarray:
    """Factors ``omega1 omega2`` (N, 8) complex128 per 8D column (order of
    :data:`amplitudes.HELICITIES`) with ``A_can = omega1 omega2 A_8D`` (|omega| = 1) at 8D
    points ``x8`` (N, 8) (momenta ``k = x_to_momenta(x8)`` if not given)."""
    x8 = np.asarray(x8, dtype=np.float64)
    k = x_to_momenta(x8) if k is None else np.asarray(k, dtype=np.float64)
    lam = angle_spinors(k)
    w = {(b, h): _pair_phase(x8, k, lam, b, h) for b in (1, 2) for h in "LR"}
    return np.stack([w[(1, h[1])] * w[(2, h[2])] for h in amp.HELICITIES], axis=1)


def _node_matrix(x5: np.ndarray, x6: np.ndarray) -> np.ndarray:
    """``B[(s, a), l] = D_{l,s}(d_a)`` (2 * nodes, 3) complex128 of the nodes ``(x5, x6)``,
    rows ``s = 0`` (L, sigma = -1) then ``s = 1`` (R, sigma = +1)."""
    c, ph = 2.0 * x5 - 1.0, 2.0 * np.pi * x6
    return np.concatenate([decay_functions(c, ph, sg) for sg in (-1, 1)])


# projectors P[s, a, l] = B^+[l, (s, a)]: M_l = sum_{s, a} P[s, a, l] A(s, d_a)
_PROJ = np.ascontiguousarray(
    np.linalg.pinv(_node_matrix(NODE_X5, NODE_X6)).T.reshape(2, N_NODES, 3)
)


# B[s, a, l] = D_{l,s}(d_a) of the nodes, to reconstruct the node values from M
_BNODES = np.ascontiguousarray(_node_matrix(NODE_X5, NODE_X6).reshape(2, N_NODES, 3))


@njit(cache=True, error_model="numpy")
def _nb_project(a, w, proj, bnodes, out, est):
    """The float64 projection of one chunk (numba): node values ``a`` (N * nn * nn, 8)
    complex (8D columns ``q + 2 s1 + 4 s2`` at the nodes ``(a, b)``, row ``nn a + b`` of each
    point), decay phases ``w`` (same shape), projectors ``proj`` (2, nn, 3) = B^+ and
    ``bnodes`` (2, nn, 3) = B (s, node, l). Writes ``out`` (N, 18) (``9 q + 3 l1' + l2'``)
    and ``est`` (N,), see :func:`_project_residual`."""
    nn = proj.shape[1]
    nb = nn * nn
    A = np.empty((nn, nn, 8), dtype=np.complex128)
    H = np.empty((nn, 2, 2, 3), dtype=np.complex128)  # (b, s2, q, i)
    M = np.empty((2, 3, 3), dtype=np.complex128)
    for r in range(out.shape[0]):
        for ia in range(nn):
            for ib in range(nn):
                for c in range(8):
                    A[ia, ib, c] = a[nb * r + nn * ia + ib, c] * w[nb * r + nn * ia + ib, c]
        for ib in range(nn):
            for s2 in range(2):
                for q in range(2):
                    for i in range(3):
                        acc = 0j
                        for ia in range(nn):
                            for s1 in range(2):
                                acc += A[ia, ib, q + 2 * s1 + 4 * s2] * proj[s1, ia, i]
                        H[ib, s2, q, i] = acc
        for q in range(2):
            for i in range(3):
                for j in range(3):
                    acc = 0j
                    for ib in range(nn):
                        for s2 in range(2):
                            acc += H[ib, s2, q, i] * proj[s2, ib, j]
                    M[q, i, j] = acc
                    out[r, 9 * q + 3 * i + j] = acc
        worst = 0.0
        for q in range(2):
            ss = 0.0
            for ia in range(nn):
                for ib in range(nn):
                    for s1 in range(2):
                        for s2 in range(2):
                            rec = 0j
                            for i in range(3):
                                bi = bnodes[s1, ia, i]
                                for j in range(3):
                                    rec += bi * bnodes[s2, ib, j] * M[q, i, j]
                            d = A[ia, ib, q + 2 * s1 + 4 * s2] - rec
                            ss += d.real * d.real + d.imag * d.imag
            rms = np.sqrt(ss / (4 * nb))
            for i in range(3):
                for j in range(3):
                    m = abs(M[q, i, j])
                    v = 2.0 * rms / m if m > 0.0 else np.inf
                    if not v <= worst:  # also NaN
                        worst = v if v == v else np.inf
        est[r] = worst


def _project_residual(A: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Estimated relative error (N,) of the projected amplitudes ``M`` (N, 2, 3, 3) (q, l1,
    l2) from the phased node values ``A`` (N, a, b, s2, s1, q): ``2 rms(r_q) / |M_h|``, the
    largest over the 18 helicities h, with ``r_q`` the 16 residuals ``A - B M B^T`` of
    quark helicity q (zero in exact arithmetic; they measure the float64 errors of the node
    values). An amplitude that is 0 gives inf. About 2x below the actual error of f11 and
    f01 / sqrt(f00 f11) (median), at most ~30x (measured: :data:`PROD_RESIDUAL_THRESHOLD`)."""
    r = A - np.einsum("sai,tbj,nqij->nabtsq", _BNODES, _BNODES, M)
    rms = np.sqrt(np.mean(r.real**2 + r.imag**2, axis=(1, 2, 3, 4)))  # (N, q)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = 2.0 * rms[:, :, None, None] / np.abs(M)
    return np.nan_to_num(e.reshape(e.shape[0], -1), nan=np.inf).max(axis=1)


def reconstruct(M: np.ndarray, x8: np.ndarray) -> np.ndarray:
    """``sum_{l1,l2} M(q; l1,l2) D_{l1,s1}(d1) D_{l2,s2}(d2)`` (N, 8) complex128 for the 8D
    columns (quark-line helicity q and lepton helicities s1, s2 of each column) from the
    production amplitudes ``M`` (N, 18) at 8D points ``x8`` (N, 8): equals ``omega A_8D``."""
    x8 = np.asarray(x8, dtype=np.float64)
    M = np.asarray(M).reshape(-1, 2, 3, 3)
    c1, p1 = 2.0 * x8[:, 4] - 1.0, 2.0 * np.pi * x8[:, 5]
    c2, p2 = 2.0 * x8[:, 6] - 1.0, 2.0 * np.pi * x8[:, 7]
    out = np.empty((x8.shape[0], 8), dtype=np.complex128)
    for j, h in enumerate(amp.HELICITIES):
        d1 = decay_functions(c1, p1, -1 if h[1] == "L" else 1)
        d2 = decay_functions(c2, p2, -1 if h[2] == "L" else 1)
        out[:, j] = np.einsum("nab,na,nb->n", M[:, 0 if h[0] == "L" else 1], d1, d2)
    return out


# -- the projection in mpmath, from the exact kinematics (points near the beam / threshold) --

#: production points with min(x2, 1 - x2) below this are projected in mpmath from the exact
#: kinematics (:func:`project_exact`): the amplitudes that vanish at the beam (like
#: sin(theta)^3 for |l1 - l2| = 2 against the quark-line J_z = +-1) are a sum over the 9 nodes
#: of O(1) terms, so the float64 errors of the 8D amplitudes are amplified like x2^-1.5
#: (parity partners differ by 3e-9 at x2 = 5e-3, 1e-6 at x2 = 2e-4 in float64)
PROD_BEAM_EXACT = 1e-3
#: production points with x1 below this likewise (amplitudes vanishing with the boson
#: velocity; parity partners differ by 1e-7 at x1 = 1e-3 in float64)
PROD_X1_EXACT = 1e-3
#: elsewhere the float64 projection is kept where the parity partners (L h1 h2 and
#: R -h1 -h2 at the same x, from different 8D columns) agree to this (relative, f00, f11 and
#: f01 / sqrt(f00 f11)); the others are projected in mpmath (about 0.5% of uniform points)
PROD_SYM_THRESHOLD = 1e-10
#: ... and where the least-squares residual of the node values (16 per quark helicity for 9
#: unknowns: 7 redundant) predicts an error above this: ``2 rms(residual) / |M_loop,h|``, the
#: largest over the helicities (:func:`_project_residual`). Measured (float64 path against the
#: dd projection, 1e4-2e4 points each of edges:1/10/100 and of 1e-3 < min(x2, 1 - x2) < 1e-1):
#: the actual error is at most ~30x this estimate (median 2x), the parity mismatch's up to
#: ~240x; at 1e-10 for both, 1 of 3,000 edges:10 2D points was accepted with an error of
#: 1.1e-9 (estimate 8.4e-11), at 3e-11 none was off by more than 2.7e-10
PROD_RESIDUAL_THRESHOLD = 3e-11
#: the exact projection runs in compiled double-double (:func:`.ddamp.project_dd`, ~1-2 ms per
#: point) where the estimated digit loss (:func:`.ddamp.project_loss_digits`: nodes plus the
#: projection's cancellation at the beam) is at most this, else in MPFR/mpmath
#: (:func:`project_exact`, ~0.1-1 s per point)
PROD_DD_MAX_LOSS = 17.0


def _mp_design(quadrature: bool = False):
    """``(x5s, x6s, proj)`` at the current mpmath precision: the node coordinates per boson
    (lists of mpf; ``quadrature=False``: :data:`NODE_X5`, :data:`NODE_X6`, exact binary
    fractions; ``True``: the 3 x 3 quadrature, cos = 1/sqrt(3), phi / (2 pi) = (j + 1/4) / 3)
    and the projectors ``proj[s, a, l] = B^+[l, (s, a)]`` (object array (2, nodes, 3) of mpc)
    with ``B[(s, a), l] = D_{l,s}(d_a)``, s = 0 (L, sigma = -1), 1 (R)."""
    import mpmath

    if quadrature:
        xc = (1 + 1 / mpmath.sqrt(3)) / 2
        x5s = [xc] * MP_NODES
        x6s = [(j + mpmath.mpf(1) / 4) / 3 for j in range(MP_NODES)]
    else:
        x5s = [mpmath.mpf(float(v)) for v in NODE_X5]
        x6s = [mpmath.mpf(float(v)) for v in NODE_X6]
    nn = len(x5s)
    rows = []
    for sgm in (-1, 1):
        for a in range(nn):
            c = 2 * x5s[a] - 1
            sn = mpmath.sqrt(1 - c * c) / mpmath.sqrt(2)
            d = [(1 + c) / 2, -sn, (1 - c) / 2] if sgm < 0 else [(1 - c) / 2, sn, (1 + c) / 2]
            rows.append(
                [
                    mpmath.sqrt(3) * d[li] * mpmath.mpc(mpmath.cospi(2 * x6s[a] * lv),
                                                        mpmath.sinpi(2 * x6s[a] * lv))
                    for li, lv in enumerate(LAMBDAS)
                ]
            )
    B = mpmath.matrix(rows)
    Bh = B.transpose_conj()
    pinv = mpmath.inverse(Bh * B) * Bh  # (3, 2 nn)
    proj = np.empty((2, nn, 3), dtype=object)
    for si in range(2):
        for a in range(nn):
            for li in range(3):
                proj[si, a, li] = pinv[li, nn * si + a]
    return x5s, x6s, proj


def _mp_node_points(x4: np.ndarray, x5s, x6s) -> np.ndarray:
    """The exact 8D node points (nodes^2, 8) (object array of mpf; current precision) of one
    production point ``x4`` (4,) for the per-boson node coordinates ``x5s``, ``x6s``."""
    import mpmath

    nn = len(x5s)
    out = np.empty((nn, nn, 8), dtype=object)
    for a in range(nn):
        for b in range(nn):
            out[a, b, :4] = [mpmath.mpf(float(v)) for v in x4]
            out[a, b, 4:] = [x5s[a], x6s[a], x5s[b], x6s[b]]
    return out.reshape(-1, 8)


def _mp_pair_phase(xr, k, lam, boson: int, helicity: str):
    """mpmath twin of :func:`_pair_phase` for one 8D point (``xr`` (8,) mpf, ``k`` (6, 4) mpf,
    ``lam`` (2, 6) mpc): the phase ``omega`` making the current of lepton pair ``boson``
    canonical. The boson mass is the exact ``50 + 80 x3`` (resp. x4)."""
    import mpmath

    lep, anti = (2, 3) if boson == 1 else (5, 4)
    a, b = (lep, anti) if helicity == "L" else (anti, lep)
    sigma = -1 if helicity == "L" else 1
    bu = [[lam[i, a] * mpmath.conj(lam[j, b]) for j in range(2)] for i in range(2)]
    xc, xph = (xr[4], xr[5]) if boson == 1 else (xr[6], xr[7])
    c = 2 * xc - 1
    s = 2 * mpmath.sqrt(xc * (1 - xc))
    cp, sp = mpmath.cospi(2 * xph), mpmath.sinpi(2 * xph)
    r2 = 1 / mpmath.sqrt(2)
    j = mpmath.mpc(0, 1)
    ex = mpmath.conj((-sigma * c * cp + j * sp) * r2)
    ey = mpmath.conj((-sigma * c * sp - j * cp) * r2)
    ez = sigma * s * r2
    ct = 2 * xr[1] - 1
    st = 2 * mpmath.sqrt(xr[1] * (1 - xr[1]))
    sg = 1 if boson == 1 else -1
    X = [ct, 0, -st]
    Y = [0, sg, 0]
    Z = [sg * st, 0, sg * ct]
    P = [k[lep, i] + k[anti, i] for i in range(4)]
    pabs = mpmath.sqrt(P[1] ** 2 + P[2] ** 2 + P[3] ** 2)
    m = M_MIN + M_RANGE * (xr[2] if boson == 1 else xr[3])
    gamma, gbeta = P[0] / m, pabs / m
    vec = [ex * X[i] + ey * Y[i] + gamma * ez * Z[i] for i in range(3)]
    j0 = gbeta * ez
    bc = [[j0 + vec[2], vec[0] - j * vec[1]], [vec[0] + j * vec[1], j0 - vec[2]]]
    z = sum(mpmath.conj(bu[i][jj]) * bc[i][jj] for i in range(2) for jj in range(2))
    return z / abs(z)


def _gm_to_mp(z):
    """A ``gmpy2.mpc`` as an ``mpmath.mpc``, exactly."""
    import mpmath

    def re(v):
        m, e = v.as_mantissa_exp()
        return mpmath.mpf((int(m), int(e)))

    return mpmath.mpc(re(z.real), re(z.imag))


def _node_amplitudes(k: np.ndarray, mu: float, loop: bool, dps: int):
    """8D amplitudes (object arrays of mpmath.mpc) at mpmath momenta ``k``: by the gmpy2
    backend when installed (same formulas, ~3x faster), else by mpmath at ``dps``."""
    if not amp.have_gmpy2():
        return amp.amplitudes_mp_raw(k, mu=mu, loop=loop)
    import gmpy2

    with gmpy2.context(precision=int(np.ceil(dps * 3.3219281)) + 8):
        t8, l8 = amp.amplitudes_gm_raw(k, mu=mu, loop=loop)
    arrs = (t8, l8) if loop else (t8,)
    if not all(gmpy2.is_finite(v) for arr in arrs for v in arr.ravel()):
        raise ZeroDivisionError("degenerate point (threshold or beam)")
    conv = np.vectorize(_gm_to_mp, otypes=[object])
    return conv(t8), (conv(l8) if loop else None)


def project_exact(
    x4: np.ndarray,
    *,
    mu: float = amp.MU_DEFAULT,
    loop: bool = True,
    dps=None,
    quadrature: bool = False,
):
    """Production amplitudes ``(M_tree, M_loop)`` (N, 18) complex128 at 4D points ``x4``
    (N, 4), computed entirely in mpmath from the exact kinematics: exact nodes, 8D map
    (:func:`.kinematics.x_to_momenta_mp`), 8D amplitudes, decay phases and projection, then
    rounded. ``dps``: digits (default :func:`amplitudes.exact_dps` of the nodes plus
    ``1.5 log10(1/min(x2, 1 - x2))`` for the projection's cancellation, + 8). Nodes: the
    2 x 2 of the float64 path (4 x 8D rescues per point, ~0.01-0.1 s), or with
    ``quadrature`` the 3 x 3 Gauss-Legendre x phi quadrature (9; an independent check: both
    are exact)."""
    import mpmath

    from zoo.plugins.processes.qqzz.kinematics import x_to_momenta_mp
    from zoo.plugins.processes.qqzz.spinors import angle_spinors_mp

    x4 = np.asarray(x4, dtype=np.float64)
    n = x4.shape[0]
    xp = np.concatenate([x4, np.full((n, 4), 0.5)], axis=1)
    b = np.minimum(x4[:, 1], 1.0 - x4[:, 1])
    with np.errstate(divide="ignore"):
        extra = np.ceil(1.5 * np.clip(-np.log10(b), 0.0, amp.DPS_MAX)) + 8
    dps_arr = (
        np.minimum(amp.exact_dps(xp) + extra, amp.DPS_MAX).astype(np.int64)
        if dps is None
        else np.broadcast_to(np.asarray(dps), (n,))
    )
    tree = np.empty((n, 18), dtype=np.complex128)
    one = np.empty((n, 18), dtype=np.complex128) if loop else None
    for r in range(n):
        d = int(dps_arr[r])
        with mpmath.workdps(d):
            x5s, x6s, proj = _mp_design(quadrature)
            nn = len(x5s)
            x8 = _mp_node_points(x4[r], x5s, x6s)
            k = x_to_momenta_mp(x8, d + 10)
            try:
                t8, l8 = _node_amplitudes(k, mu, loop, d)
            except ZeroDivisionError:
                tree[r] = np.nan
                if loop:
                    one[r] = np.nan
                continue
            lam = angle_spinors_mp(k)  # (2, 6, nodes^2)
            w = np.empty((x8.shape[0], 8), dtype=object)
            for a in range(x8.shape[0]):
                om = {
                    (bo, h): _mp_pair_phase(x8[a], k[a], lam[:, :, a], bo, h)
                    for bo in (1, 2)
                    for h in "LR"
                }
                for jc, h in enumerate(amp.HELICITIES):
                    w[a, jc] = om[(1, h[1])] * om[(2, h[2])]
            # M[q, i, j] = sum A[a, b, s2, s1, q] proj[s1, a, i] proj[s2, b, j], in two steps
            for arr, dest in ((t8, tree), (l8, one)) if loop else ((t8, tree),):
                A = (arr * w).reshape(nn, nn, 2, 2, 2)  # (a, b, s2, s1, q)
                half = np.empty((nn, 2, 2, 3), dtype=object)  # (b, s2, q, i)
                for bb in range(nn):
                    for s2 in range(2):
                        for q in range(2):
                            for i in range(3):
                                half[bb, s2, q, i] = mpmath.fsum(
                                    A[a, bb, s2, s1, q] * proj[s1, a, i]
                                    for a in range(nn)
                                    for s1 in range(2)
                                )
                for q in range(2):
                    for i in range(3):
                        for jj in range(3):
                            acc = mpmath.fsum(
                                half[bb, s2, q, i] * proj[s2, bb, jj]
                                for bb in range(nn)
                                for s2 in range(2)
                            )
                            dest[r, 9 * q + 3 * i + jj] = complex(acc)
    return tree, one


_PARITY = np.array(
    [
        HELICITIES.index({"L": "R", "R": "L"}[h[0]] + h[1:].translate(str.maketrans("-+", "+-")))
        for h in HELICITIES
    ]
)


def parity_mismatch(tree: np.ndarray, loop: np.ndarray | None) -> np.ndarray:
    """Largest relative difference (N,) between the parity partners ``L h1 h2`` and
    ``R -h1 -h2`` of production amplitudes (N, 18): of f00 and f11, and of f01 relative to
    sqrt(f00 f11) (f00 only without ``loop``). Equal in exact arithmetic."""
    f = amp.squared(tree, loop, ("f00",) if loop is None else ("f00", "f01", "f11"))
    err = np.zeros(tree.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in ("f00", "f11"):
            if t in f:
                e = np.abs(f[t] - f[t][:, _PARITY]) / np.abs(f[t])
                err = np.maximum(err, np.nan_to_num(e, nan=np.inf).max(axis=1))
        if "f01" in f:
            e = np.abs(f["f01"] - f["f01"][:, _PARITY]) / np.sqrt(f["f00"] * f["f11"])
            err = np.maximum(err, np.nan_to_num(e, nan=np.inf).max(axis=1))
    return err


class _Production(Process):
    """Common part of :class:`QQZZ4D` and :class:`QQZZ2D`."""

    name = "qqbar-zz-4l"
    helicities = HELICITIES
    terms = _TERMS
    version = "1.0.0"

    def __init__(
        self,
        mu: float = amp.MU_DEFAULT,
        *,
        rescue: bool = True,
        exact: bool = True,
        chunk: int = 512,
        dd: bool = True,
        node_test: bool = False,
    ) -> None:
        """``exact``: the extended-precision projection near the beam / threshold and where
        the parity partners disagree or the node residual is large (``False``, or
        ``rescue=False``: float64 projection only, but only ~1e-7 relative near the faces
        and the zeros of a helicity); ``dd``: that projection in compiled double-double where
        it suffices (:data:`PROD_DD_MAX_LOSS`; ``False``: MPFR only, the pre-dd behaviour);
        ``node_test``: also run the 8D stability test and rescue at the nodes of the float64
        path (the behaviour before the production-level residual test; it changes no
        decision of the tests in :meth:`_project`, measured, and costs ~1/3 of the time)."""
        self.mu = float(mu)
        self.chunk = int(chunk)
        self.exact = bool(exact) and bool(rescue)
        self.dd = bool(dd)
        self.node_test = bool(node_test)
        self._p8 = QQZZ8D(self.mu, rescue=rescue, dd=dd)
        self.last_exact = 0  # points of the last call projected in extended precision
        self.last_exact_dd = 0  # of which in compiled double-double

    def _to_x4(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _node_points(self, x4: np.ndarray) -> np.ndarray:
        """8D points (N * 9, 8): each production point times the evaluated decay nodes."""
        n = x4.shape[0]
        out = np.empty((n, N_NODES, N_NODES, 8), dtype=np.float64)
        out[..., :4] = x4[:, None, None, :]
        out[..., 4] = NODE_X5[None, :, None]
        out[..., 5] = NODE_X6[None, :, None]
        out[..., 6] = NODE_X5[None, None, :]
        out[..., 7] = NODE_X6[None, None, :]
        return out.reshape(-1, 8)

    def _project(self, x4: np.ndarray, loop: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Production amplitudes (N, 18) of a chunk: points near the beam or the threshold
        (:data:`PROD_BEAM_EXACT`, :data:`PROD_X1_EXACT`) in extended precision
        (:meth:`_project_extended`), the others by the float64 projection of the 8D
        amplitudes of the nodes, unless its parity partners disagree
        (:data:`PROD_SYM_THRESHOLD`) or its node residual predicts a larger error
        (:data:`PROD_RESIDUAL_THRESHOLD`): then in extended precision too."""
        n = x4.shape[0]
        b = np.minimum(x4[:, 1], 1.0 - x4[:, 1])
        exact = (x4[:, 0] < PROD_X1_EXACT) | (b < PROD_BEAM_EXACT)
        if not self.exact:
            exact[:] = False
        tree = np.empty((n, 18), dtype=np.complex128)
        one = np.empty((n, 18), dtype=np.complex128) if loop else None
        rows = np.flatnonzero(~exact)
        if rows.size:
            t, lo, est = self._project_double(x4[rows], loop)
            tree[rows] = t
            if loop:
                one[rows] = lo
            if self.exact:
                exact[rows] = (parity_mismatch(t, lo) > PROD_SYM_THRESHOLD) | ~(
                    est <= PROD_RESIDUAL_THRESHOLD
                )
        rows = np.flatnonzero(exact)
        self.last_exact += int(rows.size)
        if rows.size:
            t, lo = self._project_extended(x4[rows], loop)
            tree[rows] = t
            if loop:
                one[rows] = lo
        if not np.isfinite(tree).all() or (loop and not np.isfinite(one).all()):
            raise NumericalError(
                "8D amplitude failed at a production point of this chunk: threshold "
                "(x1 = 0) or a boson along the beam (x2 = 0 or 1); move the point off "
                "the boundary"
            )
        return tree, one

    def _project_extended(self, x4: np.ndarray, loop: bool):
        """The projection in extended precision: compiled double-double where
        :func:`.ddamp.project_loss_digits` <= :data:`PROD_DD_MAX_LOSS` (and ``dd``), else
        :func:`project_exact` (MPFR/mpmath)."""
        from zoo.plugins.processes.qqzz import ddamp

        n = x4.shape[0]
        use_dd = ddamp.project_loss_digits(x4) <= PROD_DD_MAX_LOSS
        if not self.dd:
            use_dd[:] = False
        self.last_exact_dd += int(use_dd.sum())
        tree = np.empty((n, 18), dtype=np.complex128)
        one = np.empty((n, 18), dtype=np.complex128) if loop else None
        for sel, fn in ((use_dd, ddamp.project_dd), (~use_dd, project_exact)):
            if sel.any():
                t, lo = fn(x4[sel], mu=self.mu, loop=loop)
                tree[sel] = t
                if loop:
                    one[sel] = lo
        return tree, one

    def _project_double(
        self, x4: np.ndarray, loop: bool
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """The float64 projection: ``(M_tree, M_loop, est)`` with the estimated relative error
        ``est`` (N,) of :func:`_project_residual` (of M_loop; of M_tree without ``loop``).
        The 8D amplitudes of the nodes come from the compiled path at the float64 momenta
        of x (with ``node_test``: :meth:`QQZZ8D.amplitudes`, stability test and rescue)."""
        n = x4.shape[0]
        x8 = self._node_points(x4)
        k = x_to_momenta(x8)
        if self.node_test:
            try:
                tree, one = self._p8.amplitudes(x8, loop=loop)
            except (ZeroDivisionError, FloatingPointError, NumericalError) as exc:
                raise NumericalError(
                    f"8D amplitude failed ({type(exc).__name__}) at a production point of this "
                    "chunk: threshold (x1 = 0) or a boson along the beam (x2 = 0 or 1); move "
                    "the point off the boundary"
                ) from exc
        else:
            with np.errstate(all="ignore"):
                tree, one, _ = amp._amplitudes_fast(k, self.mu, loop, False, N_NODES**2)
        w = decay_phases(x8, k)
        out, est = [], np.empty(n)
        for a in (tree, one) if loop else (tree,):
            m = np.empty((n, 18), dtype=np.complex128)
            _nb_project(np.ascontiguousarray(a), w, _PROJ, _BNODES, m, est)
            out.append(m)
        return out[0], (out[1] if loop else None), est

    def amplitudes(
        self, x: np.ndarray, *, loop: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Production amplitudes ``(M_tree, M_loop)`` (N, 18) complex128 at points ``x``
        (columns :data:`HELICITIES`); ``M_loop`` is None with ``loop=False``. M_tree is the
        closed form of :mod:`.tree` (no 8D evaluation; finite on the closed hypercube), M_loop
        the projection of the 8D code (it shares the quark phase of the projected tree, equal
        to the closed form: ``tests/plugins/test_qqzz_tree.py``)."""
        x4 = self._to_x4(self.check_x(x))
        n = x4.shape[0]
        tree = tree_all(x4).astype(np.complex128)
        one = np.empty((n, 18), dtype=np.complex128) if loop else None
        self.last_exact = 0
        self.last_exact_dd = 0
        if loop:
            for lo in range(0, n, self.chunk):
                hi = min(n, lo + self.chunk)
                one[lo:hi] = self._project(x4[lo:hi], True)[1]
        return tree, one

    def evaluate(self, x: np.ndarray, terms: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """``{term: (N, 18) float64}`` at points ``x`` (N, D) of the unit hypercube."""
        terms = _TERMS if terms is None else tuple(terms)
        for t in terms:
            if t not in _TERMS:
                raise UnknownLabelError(
                    f"process {self.name!r} has no term {t!r}; choose one of {', '.join(_TERMS)}"
                )
        tree, one = self.amplitudes(x, loop=any(t != "f00" for t in terms))
        return amp.squared(tree, one, terms)

    def point_function(self, term: str, helicity: str):
        """f00 of one point compiled (the closed-form tree, :mod:`.factorised_fast`); None
        for the other terms (the single-point path then evaluates them in batch)."""
        if term != "f00":
            return None
        from .factorised_fast import f00_point

        on_shell = self.dimension == 2
        if helicity == "sum":
            quark, col = 0, -1
        else:
            i = self.helicity_index(helicity)
            quark, col = i // 9, i % 9

        def f00(x: np.ndarray) -> float:
            return f00_point(x, on_shell, quark, col)

        return f00

    def onnx_f00(self, graph, x: str, helicity: str) -> str:
        """f00 in ONNX from the closed-form tree (:func:`.tree_onnx.f00_nodes`)."""
        from zoo.plugins.processes.qqzz.tree_onnx import f00_nodes

        return f00_nodes(graph, x, helicity, on_shell=self.dimension == 2)

    def symmetries(self) -> list[Symmetry]:
        hs = self.helicities
        d = self.dimension
        flip_q = {"L": "R", "R": "L"}
        neg = {"-": "+", "0": "0", "+": "-"}
        ident = tuple(range(d))
        swap = (0, 1, 3, 2) if d == 4 else ident
        extra = ", x3 <-> x4" if d == 4 else ""
        return [
            Symmetry(
                "quark-antiquark",
                {h: flip_q[h[0]] + h[1:] for h in hs},
                CoordinatePermutation(ident, frozenset({1})),
                "k1 <-> k2: quark-line helicity flipped, x2 -> 1-x2",
            ),
            Symmetry(
                "boson-exchange",
                {h: h[0] + h[2] + h[1] for h in hs},
                CoordinatePermutation(swap, frozenset({1})),
                f"the two Z bosons exchanged: l1 <-> l2, x2 -> 1-x2{extra}",
            ),
            Symmetry(
                "parity",
                {h: flip_q[h[0]] + neg[h[1]] + neg[h[2]] for h in hs},
                CoordinatePermutation(ident),
                "all helicities flipped (quark line, l1 -> -l1, l2 -> -l2) at the same x",
            ),
            Symmetry(
                "CP",
                {h: h[0] + neg[h[1]] + neg[h[2]] for h in hs},
                CoordinatePermutation(ident, frozenset({1})),
                "l1, l2 -> -l1, -l2 and x2 -> 1-x2 (= parity then quark-antiquark)",
            ),
        ]


class QQZZ4D(_Production):
    """q qbar -> ZZ production helicity amplitudes (off-shell bosons), tree and one loop, 4D.

    ``x = (x1, x2, x3, x4)``: sqrt(s), cos(theta), m1, m2 as in 8D. Conventions: module doc.
    """

    dimension = 4

    def _to_x4(self, x: np.ndarray) -> np.ndarray:
        return x


class QQZZ2D(_Production):
    """q qbar -> ZZ production helicity amplitudes (on-shell bosons), tree and one loop, 2D.

    ``x = (x1, x2)``: ``sqrt(s) = 2 MZ + (1000 - 2 MZ) x1``, ``cos(theta) = 2 x2 - 1``,
    ``m1 = m2 = MZ = 91.1876`` GeV (= the 4D functions at x3 = x4 = XZ). Conventions: module doc.
    """

    dimension = 2

    def _to_x4(self, x: np.ndarray) -> np.ndarray:
        out = np.empty((x.shape[0], 4), dtype=np.float64)
        out[:, :2] = x
        out[:, 2:] = XZ
        return out
