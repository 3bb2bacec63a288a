"""Closed-form tree production amplitudes of q qbar -> ZZ (plugins/processes/qqzz/tree).

References: the float64 projection of the 8D code (``_Production._project``, ~1e-14 relative to
the point's amplitudes) and the extended-precision projection :func:`project_exact`.
Tolerances: 1e-12 relative to the size of the point's 9 amplitudes of one quark helicity and,
per amplitude, 1e-12 relative where the amplitude is not near a zero line (|M| >= 1e-3 of the
size, or within 1e-4 of the beam, where the only zero is the face itself); measured against
project_exact: 9e-16 (size) and 1e-14 (per amplitude). Symmetries 1e-13 (measured 1.2e-15).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoo.plugins.processes.qqzz import factorised
from zoo.plugins.processes.qqzz.production import (
    HELICITIES,
    QQZZ2D,
    QQZZ4D,
    XZ,
    project_exact,
)
from zoo.plugins.processes.qqzz.tree import tree_all, tree_amplitudes, tree_production_xp

P4 = QQZZ4D()
P2 = QQZZ2D()


def _size(m: np.ndarray) -> np.ndarray:
    """sqrt(sum |M|^2) over each quark helicity's 9 columns, broadcast to (N, 18)."""
    s = np.sqrt(np.sum(np.abs(m.reshape(-1, 2, 9)) ** 2, axis=2))
    return np.repeat(s, 9, axis=1)


def _check(closed: np.ndarray, ref: np.ndarray, x4: np.ndarray, tol: float = 1e-12) -> None:
    size = _size(ref)
    err = np.abs(closed - ref)
    assert np.max(err / size) < tol, np.max(err / size)
    beam = np.minimum(x4[:, 1], 1.0 - x4[:, 1])[:, None] <= 1e-4
    mask = (np.abs(ref) >= 1e-3 * size) | (beam & (np.abs(ref) > 0))
    rel = err[mask] / np.abs(ref[mask])
    assert rel.max() < tol, rel.max()


def test_interior_against_float64_projection() -> None:
    x4 = np.random.default_rng(1).uniform(0.0, 1.0, (400, 4))
    ref, _ = P4._project(x4, False)
    assert np.max(np.abs(ref.imag) / _size(ref)) < 1e-12  # the projected tree is real
    size = _size(ref)
    assert np.max(np.abs(tree_all(x4) - ref.real) / size) < 1e-12


def test_interior_against_project_exact() -> None:
    x4 = np.random.default_rng(2).uniform(0.0, 1.0, (24, 4))
    ref, _ = project_exact(x4, loop=False)
    _check(tree_all(x4), ref, x4)


def _faces(rng: np.random.Generator) -> np.ndarray:
    pts = []
    for k in range(36):
        x = rng.uniform(0.0, 1.0, 4)
        if k % 3 == 0:  # threshold
            x[0] = 10 ** rng.uniform(-9, -3)
        if k % 3 == 1 or k % 4 == 0:  # beam, either side
            b = 10 ** rng.uniform(-11, -3)
            x[1] = b if k % 2 else 1.0 - b
        if k % 5 == 0:  # equal masses
            x[3] = x[2]
        if k % 6 == 0:  # the 2D slice
            x[2:] = XZ
        pts.append(x)
    return np.array(pts)


def test_faces_against_project_exact() -> None:
    x4 = _faces(np.random.default_rng(3))
    ref, _ = project_exact(x4, loop=False)
    _check(tree_all(x4), ref, x4)


#: project_exact (real parts; imaginary parts < 1e-48) at fixed points: interior, near
#: threshold with equal masses, near the beam, the 2D slice
_REF_X = np.array([[0.3, 0.7, 0.2, 0.6], [1e-7, 0.4, 0.5, 0.5], [0.5, 1e-9, 0.3, 0.8],
                   [0.25, 0.6, XZ, XZ]])
_REF = np.array([
    (-2.697402714817365e-07, 1.802814230729014e-05, 8.556416661996308e-05,
     -1.3041975472899572e-05, -4.000595573855268e-06, 1.1583539617278555e-05,
     -3.667035712284132e-05, -1.9010354210055312e-05, -3.9980348185292935e-06,
     3.9980348185292935e-06, -1.9010354210055312e-05, 3.667035712284132e-05,
     1.1583539617278555e-05, 4.000595573855268e-06, -1.3041975472899572e-05,
     -8.556416661996308e-05, 1.802814230729014e-05, 2.697402714817365e-07),
    (1.612828579163989e-05, 6.518176311729602e-05, 6.451326072386947e-05,
     -4.190259836382258e-05, 3.225657158327978e-05, 6.518176311729602e-05,
     -9.676989108580419e-05, -4.190259836382258e-05, 1.612828579163989e-05,
     -1.612828579163989e-05, -4.190259836382258e-05, 9.676989108580419e-05,
     6.518176311729602e-05, -3.225657158327978e-05, -4.190259836382258e-05,
     -6.451326072386947e-05, 6.518176311729602e-05, -1.612828579163989e-05),
    (7.879429152947754e-08, 1.806962502553336e-11, 2.071384648938685e-15,
     0.0004485503545524187, 1.0452202308560937e-07, 1.1988954714665325e-11,
     -2.0713846468673005e-06, 0.00029116425494845943, 3.464683333354823e-08,
     -3.464683333354823e-08, 0.00029116425494845943, 2.0713846468673005e-06,
     1.1988954714665325e-11, -1.0452202308560937e-07, 0.0004485503545524187,
     -2.071384648938685e-15, 1.806962502553336e-11, -7.879429152947754e-08),
    (-1.1506607055013613e-06, 1.4557692556646918e-05, 5.52012591502375e-05,
     -1.5340809939008103e-05, -2.3013214110027225e-06, 1.4557692556646918e-05,
     -3.680083943349167e-05, -1.5340809939008103e-05, -1.1506607055013613e-06,
     1.1506607055013613e-06, -1.5340809939008103e-05, 3.680083943349167e-05,
     1.4557692556646918e-05, 2.3013214110027225e-06, -1.5340809939008103e-05,
     -5.52012591502375e-05, 1.4557692556646918e-05, 1.1506607055013613e-06),
])


def test_fixed_reference_values() -> None:
    """Every amplitude to 1e-13 relative (measured 1e-15), vanishing ones included."""
    np.testing.assert_allclose(tree_all(_REF_X), _REF, rtol=1e-13, atol=0)


def test_closed_hypercube_is_finite() -> None:
    """Threshold and beam exactly: finite (the 8D code is singular there)."""
    x = np.array([[0.0, 0.3, 0.2, 0.7], [0.4, 0.0, 0.5, 0.5], [0.0, 1.0, 1.0, 0.0]])
    t = tree_all(x)
    assert np.isfinite(t).all()
    assert np.all(t[1, [2, 6, 11, 15]] == 0.0)  # |l1 - l2| = 2 vanish at the beam


def _f00(x: np.ndarray) -> np.ndarray:
    return tree_all(x) ** 2


@pytest.mark.parametrize("proc", [P4, P2], ids=["4D", "2D"])
def test_symmetry_generators(proc) -> None:
    """f00 = M^2 obeys the process's symmetry generators to 1e-13 (relative to the point)."""
    d = proc.dimension
    x = np.random.default_rng(4).uniform(0.0, 1.0, (300, d))

    def f00(y: np.ndarray) -> np.ndarray:
        return _f00(y if d == 4 else np.concatenate([y, np.full((len(y), 2), XZ)], axis=1))

    f = f00(x)
    scale = f.max(axis=1, keepdims=True)
    for sym in proc.symmetries():
        g = f00(sym.coord_map(x))
        perm = [HELICITIES.index(sym.helicity_map[h]) for h in HELICITIES]
        assert np.max(np.abs(g[:, perm] - f) / scale) < 1e-13, sym.name


def test_amplitude_relations() -> None:
    """CP, boson exchange (sign -1, :data:`factorised.ACTION`) and parity at amplitude level."""
    x = np.random.default_rng(5).uniform(0.0, 1.0, (300, 4))
    t = tree_all(x)
    size = _size(t)
    for q in range(2):
        m = t[:, 9 * q: 9 * q + 9]
        for g, (act, sign) in factorised.ACTION.items():
            mg = tree_all(factorised.MAPS[g](x))[:, 9 * q: 9 * q + 9]
            for c in range(9):
                d = np.abs(mg[:, act(c)] - sign * m[:, c]) / size[:, 0]
                assert d.max() < 1e-13, (q, g, c)
    # parity: M(R; -l1, -l2) = (-1)^(l1 + l2 + 1) M(L; l1, l2)
    for c in range(9):
        l1, l2 = c // 3 - 1, c % 3 - 1
        np.testing.assert_array_equal(t[:, 9 + 8 - c], (-1) ** (l1 + l2 + 1) * t[:, c])


def test_scalar_path_and_allowed_operations() -> None:
    """xp = math on python floats gives the numpy values; the core uses only + - * /, unary
    minus and xp.sqrt (an expression object without comparisons, indexing or truth value)."""
    x = (0.37, 0.81, 0.12, 0.64)
    for q in "LR":
        a = tree_production_xp(math, *x, q)
        b = tree_amplitudes(np.array([x]), q)[0]
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=0)

    class Expr:
        def __init__(self, n: int = 1) -> None:
            self.n = n

        def _op(self, other: object) -> Expr:
            assert isinstance(other, (Expr, float)), type(other)
            return Expr(self.n + (other.n if isinstance(other, Expr) else 0))

        __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
        __truediv__ = __rtruediv__ = _op

        def __neg__(self) -> Expr:
            return Expr(self.n)

        def __bool__(self) -> bool:
            raise AssertionError("truth value of an expression")

        def __lt__(self, other):  # also used for >, by reflection
            raise AssertionError("comparison")

        __le__ = __gt__ = __ge__ = __lt__

        def __getitem__(self, k):
            raise AssertionError("indexing")

    class XP:
        @staticmethod
        def sqrt(e: Expr) -> Expr:
            assert isinstance(e, Expr)
            return Expr(e.n)

    for q in "LR":
        out = tree_production_xp(XP, Expr(), Expr(), Expr(), Expr(), q)
        assert len(out) == 9 and all(isinstance(v, Expr) for v in out)


def test_bad_quark() -> None:
    with pytest.raises(ValueError):
        tree_amplitudes(np.full((1, 4), 0.5), "X")


# -- the wiring: the processes and qqzz-factorised take the tree from the closed form --------


@pytest.mark.parametrize("proc", [QQZZ4D(), QQZZ2D()], ids=["4D", "2D"])
def test_process_tree_and_f00_without_8d(proc, monkeypatch) -> None:
    """amplitudes(loop=False) and f00 are the closed form; no 8D evaluation, and finite at
    the faces (x1 = 0, x2 = 0)."""
    def no_8d(*args, **kwargs):
        raise AssertionError("the 8D code was evaluated")

    monkeypatch.setattr(proc._p8, "amplitudes", no_8d)
    d = proc.dimension
    x = np.random.default_rng(6).uniform(0.0, 1.0, (50, d))
    x[0, 0], x[1, 1] = 0.0, 0.0
    x4 = x if d == 4 else np.concatenate([x, np.full((50, 2), XZ)], axis=1)
    tree, one = proc.amplitudes(x, loop=False)
    assert one is None and tree.dtype == np.complex128
    np.testing.assert_array_equal(tree, tree_all(x4))
    f = proc.evaluate(x, ["f00"])["f00"]
    np.testing.assert_array_equal(f, tree_all(x4) ** 2)
    assert np.isfinite(f).all()


@pytest.mark.parametrize("proc", [QQZZ4D(), QQZZ2D()], ids=["4D", "2D"])
def test_f01_unchanged_with_projected_loop(proc) -> None:
    """2 Re(conj(M_tree) M_loop) with the closed tree equals that with the projected tree
    (the projected loop shares the projected tree's quark phase) to 1e-10 relative to
    sqrt(f00 f11) (measured 7e-12 in 4D, 3e-12 in 2D: the rounding of the projected tree)."""
    d = proc.dimension
    x = np.random.default_rng(7).uniform(0.0, 1.0, (60, d))
    x4 = x if d == 4 else np.concatenate([x, np.full((60, 2), XZ)], axis=1)
    t_proj, l_proj = proc._project(x4, True)
    old = 2.0 * np.real(np.conj(t_proj) * l_proj)
    f = proc.evaluate(x, ["f00", "f01", "f11"])
    err = np.abs(f["f01"] - old) / np.sqrt(f["f00"] * f["f11"])
    assert np.max(err) < 1e-10, np.max(err)
    np.testing.assert_allclose(f["f11"], np.abs(l_proj) ** 2, rtol=1e-14)


def test_factorised_tree_is_the_closed_form() -> None:
    x4 = np.random.default_rng(8).uniform(0.0, 1.0, (40, 4))
    for q in "LR":
        np.testing.assert_array_equal(factorised.tree_amplitudes(x4, q), tree_amplitudes(x4, q))


def test_numba_single_point() -> None:
    """The core compiles with numba for one point (xp = math bound in a closure)."""
    numba = pytest.importorskip("numba")
    core = numba.njit(tree_production_xp)

    @numba.njit
    def tree_r(x1, x2, x3, x4):
        return core(math, x1, x2, x3, x4, "R")

    x = (0.37, 0.81, 0.12, 0.64)
    np.testing.assert_allclose(list(tree_r(*x)), tree_amplitudes(np.array([x]), "R")[0],
                               rtol=1e-15, atol=0)
