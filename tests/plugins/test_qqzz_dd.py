"""The compiled double-double rescue of q qbar -> ZZ -> 4l (issue 17, deliverable 3).

* dd elementary functions against 50-digit mpmath (relative 1e-30);
* the generated dd kernels are up to date with the float64 kernels they are generated from;
* dd amplitudes at the exact kinematics of x against MPFR (gmpy2) at 80 digits, unrounded:
  relative 1e-25 per entry (of |A|, over the 8 columns) on interior points, and
  ``1e-26 * 10**dd_loss_digits`` towards the faces (measured: 4e-18 at x1 = 1e-9);
* the production path uses dd for the rescue and agrees with the MPFR rescue.
No reference data needed (the data tests are in test_qqzz_exact_x.py / test_qqzz_reference.py).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from numba import njit

from zoo.plugins.processes.qqzz import amplitudes as amp
from zoo.plugins.processes.qqzz import ddamp, ddarith, ddgen
from zoo.plugins.processes.qqzz.kinematics import x_to_momenta_mp


def _to_dd(v) -> tuple[float, float]:
    hi = float(v)
    return hi, float(v - hi)


def _mp(a) -> mpmath.mpf:
    return mpmath.mpf(a[0]) + mpmath.mpf(a[1])


@njit(cache=True)
def _funcs(x):
    return (
        ddarith.dd_log(x),
        ddarith.dd_log1p(x),
        ddarith.dd_sqrt(x),
        ddarith.dd_li2(ddarith.dd_neg(x)),
        ddarith.dd_li2(ddarith.dd_sub((1.0, 0.0), x)),
        ddarith.dd_div((1.0, 0.0), x),
        ddarith.dd_l1_series(x),
        ddarith.dd_cos_sin_2pi(x),
    )


def test_dd_elementary_functions_to_1e_30() -> None:
    rng = np.random.default_rng(5)
    vals = np.concatenate([rng.uniform(0.0, 3.0, 20), [1e-12, 1e-5, 0.05, 0.2, 0.5, 0.75, 2.9]])
    with mpmath.workdps(50):
        worst = 0.0
        for v in vals:
            x = _to_dd(mpmath.mpf(v) / 3)
            X = _mp(x)
            got = _funcs(x)
            ref = [
                mpmath.log(X),
                mpmath.log1p(X),
                mpmath.sqrt(X),
                mpmath.polylog(2, -X),
                mpmath.polylog(2, 1 - X),
                1 / X,
                (mpmath.log1p(X) - X) / X**2,
            ]
            for g, r in zip(got[:7], ref):
                worst = max(worst, float(abs(_mp(g) - r) / abs(r)))
            c, s = got[7]
            worst = max(
                worst,
                float(abs(_mp(c) - mpmath.cospi(2 * X))),
                float(abs(_mp(s) - mpmath.sinpi(2 * X))),
            )
    assert worst < 1e-30, worst


def test_generated_kernels_up_to_date() -> None:
    assert ddgen.TARGET.read_text() == ddgen.generate(), (
        "dd_kernels.py is stale: run python -m zoo.plugins.processes.qqzz.ddgen"
    )


#: interior points and points towards the faces (threshold, beam, collinear decay, azimuth)
INTERIOR = np.random.default_rng(11).uniform(0.02, 0.98, (4, 8))
FACES = np.array(
    [
        [1e-9, 0.3, 0.4, 0.6, 0.2, 0.7, 0.8, 0.1],
        [0.4, 1e-11, 0.2, 0.7, 0.6, 0.3, 0.4, 0.8],
        [0.7, 1.0 - 2.0**-30, 0.5, 0.5, 0.3, 0.9, 0.6, 0.2],
        [0.5, 0.4, 0.3, 0.2, 1e-10, 0.3, 1.0 - 2.0**-33, 0.6],
        [1e-5, 1e-7, 0.1, 0.9, 0.4, 0.6, 0.5, 1e-12],
    ]
)


def _mpfr_amplitudes(x: np.ndarray):
    """Unrounded MPFR amplitudes (N, 8) as mpmath.mpc at 80 digits."""
    gmpy2 = pytest.importorskip("gmpy2")
    from zoo.plugins.processes.qqzz.production import _gm_to_mp

    k = x_to_momenta_mp(x, 90)
    with gmpy2.context(precision=280):
        t, lo = amp.amplitudes_gm_raw(k)
    conv = np.vectorize(_gm_to_mp, otypes=[object])
    with mpmath.workdps(90):  # mpmath.mpf((man, exp)) rounds to the working precision
        return conv(t), conv(lo)


def _dd_errors(x: np.ndarray) -> np.ndarray:
    """Worst relative error per point of the dd tree and loop amplitudes against MPFR
    (entry error / max |A| over the columns of that point)."""
    td, ld = ddamp.amplitudes_x_dd_raw(x)
    tm, lm = _mpfr_amplitudes(x)
    out = np.zeros(x.shape[0])
    with mpmath.workdps(60):
        for d, m in ((td, tm), (ld, lm)):
            for i in range(x.shape[0]):
                scale = max(abs(m[i, j]) for j in range(8))
                for j in range(8):
                    v = mpmath.mpc(_mp(d[i, j, :2]), _mp(d[i, j, 2:]))
                    out[i] = max(out[i], float(abs(v - m[i, j]) / scale))
    return out


def test_dd_amplitudes_match_mpfr_interior() -> None:
    err = _dd_errors(INTERIOR)
    assert err.max() < 1e-25, err


def test_dd_amplitudes_match_mpfr_near_faces() -> None:
    err = _dd_errors(FACES)
    tol = 1e-26 * 10.0 ** ddamp.dd_loss_digits(FACES)
    assert (err < tol).all(), (err, tol)


def test_dd_from_dd_coordinates() -> None:
    """x given as dd pairs (hi, lo) with lo = 0 equals x given as float64."""
    xd = ddamp.to_dd(INTERIOR)
    a = ddamp.amplitudes_x_dd_raw(xd, columns=[0, 5])
    b = ddamp.amplitudes_x_dd_raw(INTERIOR, columns=[0, 5])
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not a[0][:, 1].any() and a[0][:, 0].any()


def test_production_rescue_uses_dd_and_matches_mpfr() -> None:
    """``amplitudes_x`` rescues the face points (all 8 columns) by dd except the corner beyond
    ``DD_MAX_LOSS``, and agrees with the MPFR rescue to 1e-13 (f00, f11; f01 / sqrt)."""
    x = np.concatenate([FACES, [[2e-9, 5e-10, 0.3, 0.8, 0.7, 0.2, 0.1, 0.6]]])
    t1, l1, info = amp.amplitudes_x(x)
    assert info.n_rescued_points >= 5  # the 4 threshold/beam points, the corner, ...
    assert info.n_rescued_dd == info.n_rescued_points - 1  # ... of which the corner in MPFR
    t2, l2, info2 = amp.amplitudes_x(x, dd=False)
    assert info2.n_rescued_dd == 0
    f1, f2 = amp.squared(t1, l1), amp.squared(t2, l2)
    e = max(
        float((np.abs(f1["f00"] - f2["f00"]) / f2["f00"]).max()),
        float((np.abs(f1["f11"] - f2["f11"]) / f2["f11"]).max()),
        float((np.abs(f1["f01"] - f2["f01"]) / np.sqrt(f2["f00"] * f2["f11"])).max()),
    )
    assert e < 1e-13, e


def test_momenta_rescue_uses_dd() -> None:
    """``amplitudes`` (momenta taken exactly): the rescue runs in dd and equals the 32-digit
    MPFR evaluation of the same momenta to 1e-13."""
    from zoo.plugins.processes.qqzz.kinematics import x_to_momenta

    k = x_to_momenta(FACES[:3])
    t, lo, info = amp.amplitudes(k)
    assert info.n_rescued_points >= 1 and info.n_rescued_dd == info.n_rescued_points
    tm, lm = amp.amplitudes_mp(k, dps=40, backend="gmpy2" if amp.have_gmpy2() else "mpmath")
    f, fm = amp.squared(t, lo), amp.squared(tm, lm)
    e = np.abs(f["f11"] - fm["f11"]) / fm["f11"]
    assert e.max() < 1e-9  # unrescued entries are float64 (criterion-(a) quality)


def test_projection_dd_matches_mpfr() -> None:
    """:func:`ddamp.project_dd` (the 2D/4D exact projection in dd, 2 x 2 nodes) against the
    MPFR/mpmath :func:`production.project_exact` with the 3 x 3 quadrature (an independent
    node design) to 1e-13 relative per amplitude (of the largest of the 18) at an interior
    point, near the threshold, near the beam and at 2D (m1 = m2 = MZ)."""
    from zoo.plugins.processes.qqzz import production as pr

    x4 = np.array([[0.3, 0.4, 0.5, 0.6], [1e-4, 0.3, 0.2, 0.7], [0.5, 1e-5, 0.4, 0.4],
                   [0.2, 0.5, pr.XZ, pr.XZ]])
    t, lo = ddamp.project_dd(x4)
    tm, lm = pr.project_exact(x4, quadrature=True)
    for a, b in ((t, tm), (lo, lm)):
        err = np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)
        assert err.max() < 1e-13, err


def test_production_uses_dd_projection() -> None:
    """4D points near the faces are projected in dd (the corner beyond ``PROD_DD_MAX_LOSS`` in
    MPFR) and agree with the all-MPFR evaluation to 1e-12 (f00, f11, f01 / sqrt(f00 f11))."""
    from zoo.plugins.processes.qqzz import production as pr

    x4 = np.array([[1e-5, 0.3, 0.2, 0.7], [0.5, 2e-4, 0.4, 0.4], [0.6, 1.0 - 2.0**-12, 0.3, 0.3],
                   [3e-8, 2.0**-30, 0.5, 0.5]])
    p_dd, p_mp = pr.QQZZ4D(), pr.QQZZ4D(dd=False)
    f1 = p_dd.evaluate(x4)
    assert p_dd.last_exact == 4 and p_dd.last_exact_dd == 3
    f2 = p_mp.evaluate(x4)
    assert p_mp.last_exact_dd == 0
    e = max(
        float((np.abs(f1["f00"] - f2["f00"]) / f2["f00"]).max()),
        float((np.abs(f1["f11"] - f2["f11"]) / f2["f11"]).max()),
        float((np.abs(f1["f01"] - f2["f01"]) / np.sqrt(f2["f00"] * f2["f11"])).max()),
    )
    assert e < 1e-12, e
