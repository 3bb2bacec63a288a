"""``qqzz-factorised`` with ``endpoints=True``: every production amplitude fitted divided by its
exact behaviour at the beam, so that relative errors stay bounded up to x2 = 0 and 1.

The targets here are the closed-form tree amplitudes (microseconds per point, exact to
~1e-15 at any x2): they vanish at the beam exactly like the loop amplitudes (same powers,
checked against the exact 4D loop in ``test_endpoint_powers_are_the_beam_behaviour``), so a
fit of them tests the factor without the cost of the exact loop near the beam.
"""

from __future__ import annotations

import numpy as np
import pytest

from zoo import plugin_manager
from zoo.plugins.processes.qqzz.factorisation import (
    angular_factor,
    endpoint_powers,
    production_targets,
)
from zoo.plugins.processes.qqzz.factorised import FactorisedLoopRegressor
from zoo.plugins.processes.qqzz.tree import tree_amplitudes


def _slopes(m_small: np.ndarray, m_smaller: np.ndarray, ratio: float) -> np.ndarray:
    """Power p of |M| ~ d^p from two distances d to the face (d_small / d_smaller = ratio)."""
    return np.log(np.abs(m_small) / np.abs(m_smaller)) / np.log(ratio)


@pytest.mark.parametrize("quark", ["L", "R"])
def test_endpoint_powers_are_the_beam_behaviour(quark: str) -> None:
    """|M| ~ x2^(a/2) at x2 -> 0 and (1 - x2)^(b/2) at x2 -> 1 for all 9 columns, tree (closed
    form) and loop (the exact 4D process), with (a, b) of endpoint_powers; to 0.01 in the
    power (measured: < 1e-3)."""
    p4 = plugin_manager.get("processes", "qqbar-zz-4l/4d")
    q = 0 if quark == "L" else 1
    want = np.array([endpoint_powers(c, quark) for c in range(9)], dtype=float) / 2
    for face in (0, 1):
        x = np.tile([0.4, 0.5, 0.3, 0.6], (2, 1))
        d = np.array([1e-6, 1e-8])
        x[:, 1] = d if face == 0 else 1.0 - d
        tree = tree_amplitudes(x, quark)
        _, loop = p4.amplitudes(x, loop=True)
        loop = loop[:, 9 * q: 9 * q + 9]
        for m in (tree, loop):
            np.testing.assert_allclose(_slopes(m[0], m[1], 100.0), want[:, face], atol=0.01)


def test_angular_factor_keeps_the_older_one_without_quark() -> None:
    """Models published before ``endpoints`` (no quark given) keep sqrt(x2 (1 - x2)) for even
    l1 - l2 and 1 for odd; with a quark the factor is the full endpoint power."""
    x = np.array([[0.3, 0.2, 0.4, 0.5]])
    s = np.sqrt(0.2 * 0.8)
    assert angular_factor(x, 0)[0] == pytest.approx(s, rel=1e-15)
    assert angular_factor(x, 1)[0] == 1.0
    # L, column (-, +): l = -2, sigma = -1: sqrt(x2)^3 sqrt(1 - x2)^1
    assert angular_factor(x, 2, quark="L")[0] == pytest.approx(0.2 ** 1.5 * 0.8 ** 0.5,
                                                               rel=1e-14)
    # (0, 0) with cos_zero: times cos theta = 2 x2 - 1
    assert angular_factor(x, 4, cos_zero=True, quark="R")[0] == pytest.approx(s * -0.6,
                                                                              rel=1e-14)


_FITS: dict = {}


def _tree_fit(helicity: str, endpoints: bool):
    """A fit of the tree amplitudes (as if they were the loop) on a window in x1, x3, x4 and
    x2 log-uniform in [1e-12, 0.2] (both faces through the symmetry maps), 12 angle cells
    graded towards the faces (memoised: the tests share the fits)."""
    key = (helicity, endpoints)
    if key not in _FITS:
        rng = np.random.default_rng(5)
        n = 6000
        x = 0.48 + 0.04 * rng.random((n, 4))
        x[:, 1] = 10.0 ** rng.uniform(-12, np.log10(0.2), n)
        y = production_targets(tree_amplitudes(x, "L").astype(np.complex128), x, "L")
        reg = FactorisedLoopRegressor(helicity=helicity, cells=[1, 12, 1, 1],
                                      degree=[2, 7, 1, 1], grading=[1.0, 2.0, 1.0, 1.0],
                                      coef_dtype="float64", angle=True, endpoints=endpoints)
        _FITS[key] = reg.fit(x, y)
    return _FITS[key]


def _beam_points(seed: int, n: int = 200) -> np.ndarray:
    """Points within 1e-11..1e-6 of x2 = 0 and of x2 = 1 (alternating), inside the window."""
    rng = np.random.default_rng(seed)
    x = 0.485 + 0.03 * rng.random((n, 4))
    d = 10.0 ** rng.uniform(-11, -6, n)
    x[:, 1] = np.where(np.arange(n) % 2 == 0, d, 1.0 - d)
    return x


@pytest.mark.parametrize("helicity", ["L-0", "L-+"])
def test_endpoints_keep_relative_error_bounded_at_the_beam(helicity: str) -> None:
    """f11 = |M|^2 within 1e-11..1e-6 of either face: with endpoints the largest relative error
    stays below 1e-3 (measured 1.9e-4 for L-0, 8e-6 for L-+: the window fit's own
    precision); without, the odd (L-0) and |l| = 2 (L-+) columns, whose zero at one face is
    not divided out, lose their relative precision there (measured 0.36, 0.69: > 0.1)."""
    xt = _beam_points(6)
    col = 3 * "-0+".index(helicity[1]) + "-0+".index(helicity[2])
    exact = tree_amplitudes(xt, "L")[:, col] ** 2
    err = {flag: float(np.max(np.abs(_tree_fit(helicity, flag).predict(xt) / exact - 1)))
           for flag in (True, False)}
    assert err[True] < 1e-3, err
    assert err[False] > 0.1, err


def test_endpoints_model_compiled_and_onnx_equal_predict() -> None:
    """The compiled single point and batch, and the ONNX graph, of an endpoints model give
    ``predict`` to 1e-12 (numba) and 1e-9 (ONNX Runtime), at the faces too."""
    ort = pytest.importorskip("onnxruntime")
    from zoo.plugins.processes.qqzz import factorised_fast as ff
    from zoo.runtime.onnx_graph import Graph, build_model

    reg = _tree_fit("L-+", True)
    x = _beam_points(7, 300)
    x[200:, 1] = np.random.default_rng(8).random(100)
    ref = reg.predict(x)
    fast = ff.compiled(reg)
    np.testing.assert_allclose([fast.one(p) for p in x], ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(reg.fast_predictor()(x), ref, rtol=1e-12, atol=0)
    g = Graph()
    xin = g.input("x", "float64", ["N", 4])
    model = build_model(g, [(reg.onnx_nodes(g, xin), "float64", ["N"])])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"x": x})[0].reshape(-1)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=0)


def test_on_shell_equal_helicity_amplitudes_are_odd_in_cos_theta() -> None:
    """With both bosons at MZ the boson exchange makes M(l, l) odd in cos theta: tree
    (closed form) and loop (the exact 2D process) of (-,-), (0,0), (+,+) change sign under
    x2 -> 1 - x2 (to 1e-9 of |M|), so they vanish at x2 = 1/2; (-,0) does not."""
    from zoo.plugins.processes.qqzz.factorisation import _col, on_shell_points

    p4 = plugin_manager.get("processes", "qqbar-zz-4l/4d")
    x2d = np.array([[0.3, 0.2], [0.3, 0.8], [0.55, 0.4], [0.55, 0.6]])
    x = on_shell_points(x2d)
    _, loop = p4.amplitudes(x, loop=True)
    for m in (tree_amplitudes(x, "L").astype(np.complex128), loop[:, :9]):
        for c in (_col(-1, -1), _col(0, 0), _col(1, 1)):
            for i in (0, 2):
                assert abs(m[i, c] + m[i + 1, c]) < 1e-9 * abs(m[i, c]), (c, i)
        assert abs(m[0, _col(-1, 0)] + m[1, _col(-1, 0)]) > 1e-3 * abs(m[0, _col(-1, 0)])


def test_exchange_zero_keeps_relative_errors_bounded_at_the_on_shell_zero() -> None:
    """An on-shell L-- fit of the tree (odd in cos theta, zero at x2 = 1/2) on the window
    x1 in [0.4, 0.6]: divided by cos theta (``exchange_zero``) its f11 stays relatively
    precise within 1e-9..1e-3 of the zero (measured 1.9e-4, the fit's own level: median
    3.7e-5 on the window); without, the fit's absolute error becomes a relative one that
    grows like 1 / (x2 - 1/2)^2 (measured 1.1e6). Off shell the option is refused."""
    from zoo.errors import ConfigError
    from zoo.plugins.processes.qqzz.factorisation import on_shell_points

    rng = np.random.default_rng(9)
    x2d = rng.random((3000, 2))
    x2d[:, 0] = 0.4 + 0.2 * x2d[:, 0]
    x4 = on_shell_points(x2d)
    y = production_targets(tree_amplitudes(x4, "L").astype(np.complex128), x4, "L")
    near = rng.random((200, 2))
    near[:, 0] = 0.4 + 0.2 * near[:, 0]
    near[:, 1] = 0.5 + 10.0 ** rng.uniform(-9, -3, 200) * np.sign(rng.random(200) - 0.5)
    true = np.abs(tree_amplitudes(on_shell_points(near), "L")[:, 0]) ** 2
    worst = {}
    for flag in (False, True):
        reg = FactorisedLoopRegressor(helicity="L--", on_shell=True, cells=[1, 4],
                                      degree=[4, 8], grading=1.0, coef_dtype="float64",
                                      angle=True, endpoints=True, exchange_zero=flag)
        reg.fit(x2d, y)
        worst[flag] = float(np.max(np.abs(reg.predict(near) / true - 1.0)))
    assert worst[True] < 2e-3, worst
    assert worst[False] > 1e3, worst
    with pytest.raises(ConfigError, match="on_shell"):
        FactorisedLoopRegressor(helicity="L--", exchange_zero=True).fit(x4, y)
