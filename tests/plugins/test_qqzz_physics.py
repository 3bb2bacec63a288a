"""Physics checks of q qbar -> ZZ -> 4l: Lorentz invariance, kinematics, symmetries, input
validation. Tolerances are stated per test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from zoo.errors import InputError
from zoo.plugins.processes.qqzz import loopfunctions as lf
from zoo.plugins.processes.qqzz.kinematics import momenta_to_x, x_to_momenta
from zoo.plugins.processes.qqzz.process import QQZZ8D
from zoo.plugins.processes.qqzz.spinors import spinor_products
from zoo.process import Symmetry


@pytest.fixture(scope="module")
def proc() -> QQZZ8D:
    return QQZZ8D()


@pytest.fixture(scope="module")
def points() -> np.ndarray:
    return np.random.default_rng(7).uniform(0.02, 0.98, size=(200, 8))


def _rel(a: dict, b: dict) -> float:
    """Largest relative difference (f01 relative to sqrt(f00 f11))."""
    scale = {"f00": np.abs(a["f00"]), "f11": np.abs(a["f11"]), "f01": np.sqrt(a["f00"] * a["f11"])}
    return max(float((np.abs(a[t] - b[t]) / scale[t]).max()) for t in a)


def _boost_z(k: np.ndarray, beta: float) -> np.ndarray:
    g = 1.0 / np.sqrt(1.0 - beta * beta)
    out = k.copy()
    out[..., 0] = g * (k[..., 0] + beta * k[..., 3])
    out[..., 3] = g * (k[..., 3] + beta * k[..., 0])
    return out


def test_lorentz_invariance(proc, points):
    """Random rotation + boost of all momenta: f00, f01, f11 unchanged to 1e-10."""
    k = x_to_momenta(points)
    ref = proc.evaluate_momenta(k)
    rot = Rotation.random(random_state=11).as_matrix()
    k2 = k.copy()
    k2[..., 1:] = k[..., 1:] @ rot.T
    k2 = _boost_z(k2, 0.6)
    k2[..., 1:] = k2[..., 1:] @ Rotation.random(random_state=5).as_matrix().T
    assert _rel(ref, proc.evaluate_momenta(k2)) < 1e-10


def test_roundtrip_and_momentum_conservation(points):
    """x -> momenta -> x to 1e-12; sum of momenta 0 and k_i^2 = 0 to 1e-12 (relative)."""
    k = x_to_momenta(points)
    x = momenta_to_x(k)
    d = np.abs(x - points)
    d[:, [5, 7]] = np.minimum(d[:, [5, 7]], 1.0 - d[:, [5, 7]])
    assert d.max() < 1e-12
    scale = np.abs(k[..., 0]).max(axis=1)
    assert (np.abs(k.sum(axis=1)).max(axis=1) / scale).max() < 1e-12
    m2 = k[..., 0] ** 2 - (k[..., 1:] ** 2).sum(axis=-1)
    assert (np.abs(m2) / scale[:, None] ** 2).max() < 1e-12
    # boson masses and sqrt(s) as documented
    b1, b2 = k[:, 2] + k[:, 3], k[:, 4] + k[:, 5]
    m1 = np.sqrt(b1[:, 0] ** 2 - (b1[:, 1:] ** 2).sum(-1))
    np.testing.assert_allclose(m1, 50 + 80 * points[:, 2], rtol=1e-12)
    m2b = np.sqrt(b2[:, 0] ** 2 - (b2[:, 1:] ** 2).sum(-1))
    np.testing.assert_allclose(m2b, 50 + 80 * points[:, 3], rtol=1e-12)


def test_spinor_identities(points):
    """<ij>[ji] = 2 k_i.k_j and momentum conservation sum_k <ik>[kj] = 0 (1e-12 relative)."""
    k = x_to_momenta(points[:20])
    za, zb, s = spinor_products(k)
    dots = 2.0 * np.einsum("Nia,Nja->ijN", k * np.array([1.0, -1, -1, -1]), k)
    scale = np.abs(k[..., 0]).max() ** 2
    assert np.abs(np.einsum("ijN,jiN->ijN", za, zb) - dots).max() / scale < 1e-12
    assert np.abs(np.einsum("ikN,kjN->ijN", za, zb)).max() / scale < 1e-12
    assert np.abs(s - dots).max() / scale < 1e-12


def test_symmetries(proc, points):
    """Every declared generator: f_h(x) = f_sigma(h)(phi(x)) to 1e-9 (numerical noise of
    the cancellations at random points is ~1e-11)."""
    f = proc.evaluate(points)
    syms = proc.symmetries()
    assert {s.name for s in syms} == {
        "quark-antiquark",
        "boson-exchange",
        "lepton-antilepton-1",
        "lepton-antilepton-2",
        "parity",
    }
    for sym in syms:
        assert isinstance(sym, Symmetry)
        assert sorted(sym.helicity_map.values()) == sorted(proc.helicities)
        y = sym.coord_map(points)
        assert ((y >= 0) & (y <= 1)).all()
        g = proc.evaluate(y)
        cols = [proc.helicities.index(sym.helicity_map[h]) for h in proc.helicities]
        mapped = {t: g[t][:, cols] for t in g}
        assert _rel(f, mapped) < 1e-9, sym.name


def test_one_independent_function(proc):
    """The helicity relabellings act transitively: one orbit of the 8 configurations."""
    orbit = {"LLL"}
    frontier = ["LLL"]
    while frontier:
        h = frontier.pop()
        for sym in proc.symmetries():
            g = sym.helicity_map[h]
            if g not in orbit:
                orbit.add(g)
                frontier.append(g)
    assert orbit == set(proc.helicities)


def test_mirror_alone_is_not_a_symmetry(proc, points):
    """x6, x8 -> 1 - x: f00 invariant, f11 not (absorptive parts are not conjugated)."""
    y = points.copy()
    y[:, [5, 7]] = 1.0 - y[:, [5, 7]]
    f, g = proc.evaluate(points[:50]), proc.evaluate(y[:50])
    np.testing.assert_allclose(g["f00"], f["f00"], rtol=1e-10)
    assert np.abs(g["f11"] / f["f11"] - 1.0).max() > 1e-3


def test_three_mass_triangle_against_integration():
    """I3m against a direct 2D Feynman-parameter integration (1e-9)."""
    from scipy import integrate

    s1, s2, s3 = 500.0**2, 91.0**2, 120.0**2

    def integrand(a2, a1):
        return 1.0 / (-(a1 * a2 * s1 + a2 * (1 - a1 - a2) * s2 + (1 - a1 - a2) * a1 * s3))

    val, _ = integrate.dblquad(integrand, 0, 1, 0, lambda a1: 1 - a1, epsabs=1e-15, epsrel=1e-12)
    got = lf.i3m(np.array([s1]), np.array([s2]), np.array([s3]))[0]
    assert got == pytest.approx(val, rel=1e-9)


@pytest.mark.parametrize(
    "bad",
    [
        np.full((3, 7), 0.5),
        np.full((2, 8), np.nan),
        np.array([[0.5] * 7 + [1.5]]),
        np.array([[-0.1] + [0.5] * 7]),
        np.full((2, 2, 8), 0.5),
    ],
)
def test_bad_input(proc, bad):
    with pytest.raises(InputError):
        proc.evaluate(bad)


def test_single_point_and_registration(proc):
    out = proc.evaluate(np.full(8, 0.5))
    assert out["f11"].shape == (1, 8)
    from zoo.plugins.processes import qqzz

    got = []
    qqzz.zoo_register_processes(got.append)
    assert got[0].name == "qqbar-zz-4l" and got[0].dimension == 8
