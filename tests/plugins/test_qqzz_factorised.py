"""The factorised 8D model: exact decomposition, fit, storage, bad input."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from zoo import plugin_manager
from zoo.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    ConfigError,
    InputError,
    NumericalError,
)
from zoo.plugins.processes.qqzz.factorisation import _real_tree
from zoo.plugins.processes.qqzz.factorised import (
    MAPS,
    ORBIT,
    FactorisedLoopRegressor,
    f01_from_production,
    f11_from_production,
    on_shell_points,
    production_scale,
    production_targets,
    tree_amplitudes,
)
from zoo.plugins.processes.qqzz.production import QQZZ4D


@pytest.fixture(scope="module")
def procs():
    return (plugin_manager.get("processes", "qqbar-zz-4l/4d"),
            plugin_manager.get("processes", "qqbar-zz-4l/8d"))


@pytest.fixture(scope="module")
def fitted(procs):
    """Fitted on 3000 production points of a small window (the test needs no precision,
    only a fit that is right or wrong)."""
    p4, _ = procs
    rng = np.random.default_rng(0)
    x4 = 0.4 + 0.2 * rng.random((3000, 4))
    _, one = p4.amplitudes(x4)
    reg = FactorisedLoopRegressor(cells=[1, 1, 1, 1], degree=[4, 4, 3, 3], grading=1.0)
    return reg.fit(x4, production_targets(one, x4))


def test_decomposition_reproduces_every_8d_column(procs) -> None:
    """f11 (and f00) of all 8 columns of the 8D code from the 4D production amplitudes and
    the decay functions: 1e-9 relative (measured ~3e-11); f01 = 2 Re(conj(A_tree) A_loop):
    1e-9 relative to f00 + |f01| (it crosses zero; measured 3e-12)."""
    p4, p8 = procs
    x8 = np.random.default_rng(3).random((300, 8))
    tree, one = p4.amplitudes(x8[:, :4])
    exact = p8.evaluate(x8, ["f00", "f01", "f11"])
    for j, h in enumerate(p8.helicities):
        q = 9 * (h[0] == "R")
        np.testing.assert_allclose(f11_from_production(one[:, q:q + 9], x8, h),
                                   exact["f11"][:, j], rtol=1e-9)
        np.testing.assert_allclose(f11_from_production(tree[:, q:q + 9], x8, h),
                                   exact["f00"][:, j], rtol=1e-9)
        f01 = f01_from_production(tree[:, q:q + 9], one[:, q:q + 9], x8, h)
        scale = exact["f00"][:, j] + np.abs(exact["f01"][:, j])
        assert np.max(np.abs(f01 - exact["f01"][:, j]) / scale) < 1e-9, h


def test_amplitude_symmetries_are_exact(procs) -> None:
    """M_col(x) = sign M_rep(g x) for all 9 boson-helicity columns of both quark helicities,
    loop and tree: 1e-9 relative to the largest amplitude at the point."""
    p4, _ = procs
    x = np.random.default_rng(4).random((200, 4))
    tree, one = p4.amplitudes(x)
    images = {g: p4.amplitudes(MAPS[g](x)) for g in MAPS}
    for q in (0, 9):
        for which in (0, 1):
            a = (tree, one)[which][:, q:q + 9]
            norm = np.abs(a).max(axis=1)
            for col, (rep, g, sign) in ORBIT.items():
                b = images[g][which][:, q + rep]
                assert np.max(np.abs(a[:, col] - sign * b) / norm) < 1e-9, (q, which, col)


def _window_fit(procs, seed: int, **params) -> tuple[FactorisedLoopRegressor, float]:
    """Fit on 1500 production points of [0.45, 0.55]^4; the median relative error of f11 at
    200 8D points whose production part lies inside."""
    p4, p8 = procs
    x4 = 0.45 + 0.1 * np.random.default_rng(seed).random((1500, 4))
    _, one = p4.amplitudes(x4)
    reg = FactorisedLoopRegressor(**params).fit(x4, production_targets(one, x4))
    x8 = np.random.default_rng(seed + 1).random((200, 8))
    x8[:, :4] = 0.46 + 0.08 * x8[:, :4]
    rel = np.abs(reg.predict(x8) / p8.evaluate(x8, ["f11"])["f11"][:, 0] - 1)
    return reg, float(np.median(rel))


def test_without_symmetries_all_18_functions_are_fitted(procs) -> None:
    reg, rel = _window_fit(procs, 6, cells=1, degree=2, grading=1.0, symmetric=False)
    assert len(reg.parts_) == 18 and reg.n_parameters == 18 * 81
    assert rel < 2e-4, rel  # measured 6.0e-5


def test_angle_coordinate_fit(procs) -> None:
    """angle=True: the parts see 1 - theta/pi; the fit still reproduces f11 (a window)."""
    reg, rel = _window_fit(procs, 8, cells=1, degree=3, grading=1.0, angle=True)
    assert reg.parts_[0].edges_[1][0] > 0.45  # the angle of x2 = 0.45... is 0.468...
    assert rel < 6e-6, rel  # measured 1.8e-6


@pytest.mark.parametrize("helicity", ["L--", "L0+"])
def test_4d_helicity_model(procs, helicity, tmp_path) -> None:
    """A 4D helicity: its representative only (2 parts), f11 = |M|^2 at 4D points; L0+ is
    the image of the fitted (-,0) under exchange-CP. Median 3e-5 on a window (measured
    7.8e-6, 6.8e-6)."""
    p4, _ = procs
    x4 = 0.45 + 0.1 * np.random.default_rng(10).random((1500, 4))
    _, one = p4.amplitudes(x4)
    reg = FactorisedLoopRegressor(helicity=helicity, cells=1, degree=3, grading=1.0)
    reg.fit(x4, production_targets(one, x4))
    assert len(reg.parts_) == 2 and reg.n_features_ == 4
    xt = 0.46 + 0.08 * np.random.default_rng(11).random((300, 4))
    exact = p4.function(xt, "f11", helicity)
    pred = reg.predict(xt)
    assert np.median(np.abs(pred / exact - 1)) < 3e-5
    reg.save(tmp_path)
    back = FactorisedLoopRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), pred)
    with pytest.raises(InputError, match="4"):
        reg.predict(np.full((2, 8), 0.5))
    with pytest.raises(ConfigError, match="symmetric"):
        FactorisedLoopRegressor(helicity=helicity, symmetric=False).fit(x4, np.zeros((1500, 18)))


def test_production_scale_is_positive_and_smooth() -> None:
    x = np.random.default_rng(1).random((1000, 4))
    c = production_scale(x)
    assert np.all(np.isfinite(c)) and np.all(c > 0)
    # fixed reference: x = (1/2, 1/2, 1/2, 1/2): m1 = m2 = 90, sqrt(s) = 590, t = u, so
    # c = 90^4 (s/2 - 90^2) / s (cos theta = 0: t = u = -(s - 2 m^2) / 2 exactly)
    s = 590.0 ** 2
    assert production_scale(np.full((1, 4), 0.5))[0] == pytest.approx(
        90.0 ** 4 * (s / 2 - 90.0 ** 2) / s, rel=1e-12)


def test_fit_predicts_8d_f11_and_round_trips(fitted, procs, tmp_path) -> None:
    _, p8 = procs
    rng = np.random.default_rng(2)
    x8 = rng.random((2000, 8))
    x8[:, :4] = 0.42 + 0.16 * x8[:, :4]
    exact = p8.evaluate(x8, ["f11"])["f11"][:, 0]
    pred = fitted.predict(x8)
    rel = np.abs(pred / exact - 1)
    assert np.median(rel) < 1e-5, np.median(rel)  # one cell, degree 4: measured 2.7e-6
    assert fitted.n_parameters == 8 * 5 * 5 * 4 * 4  # 4 representative amplitudes
    files = fitted.save(tmp_path)
    assert len(files) == 8
    back = FactorisedLoopRegressor.load(tmp_path, fitted.get_params())
    np.testing.assert_array_equal(back.predict(x8), pred)
    with pytest.raises(ArtifactNotFoundError, match="part08"):  # card says 18 parts
        FactorisedLoopRegressor.load(tmp_path, {**fitted.get_params(), "symmetric": False})
    shutil.copytree(tmp_path / "part00", tmp_path / "part08")
    with pytest.raises(ArtifactError, match="more parts"):  # files say more than the card
        FactorisedLoopRegressor.load(tmp_path, fitted.get_params())
    shutil.rmtree(tmp_path / "part08")
    (tmp_path / "part07" / "pwcheb.safetensors").unlink()
    with pytest.raises(ArtifactNotFoundError, match="part07"):
        FactorisedLoopRegressor.load(tmp_path, fitted.get_params())


def _window_8d_fit(procs, rng, term: str) -> FactorisedLoopRegressor:
    """An 8D model of one shared layout (2 x 3 x 2 x 2 cells) fitted on 1,500 production
    points of the window [0.4, 0.6]^4 (the compiled-kernel tests)."""
    p4, _ = procs
    x4 = 0.4 + 0.2 * rng.random((1500, 4))
    _, one = p4.amplitudes(x4)
    return FactorisedLoopRegressor(cells=[2, 3, 2, 2], degree=[3, 3, 2, 2], grading=1.0,
                                   term=term).fit(x4, production_targets(one, x4))


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_8d_point_kernel_shares_tables_and_equals_the_general_one(procs, term,
                                                                  monkeypatch) -> None:
    """The 8D single-point kernel (shared T tables, (re, im) rows in one pass, a level-1
    result shared by the maps of one x2 side) gives bitwise the result of the general
    per-part kernel, also with x3 and x4 in different cells (the exchange maps' cell differs),
    and the batch prediction to 1e-12."""
    from zoo.plugins.processes.qqzz import factorised_fast as ff

    rng = np.random.default_rng(31)
    reg = _window_8d_fit(procs, rng, term)
    shared = ff.compiled(reg)
    assert shared.kernel is ff.predict_one8
    monkeypatch.setattr(ff, "_one_layout", lambda kernels: False)
    general = ff.compiled(reg)
    assert general.kernel is ff.predict_one
    x8 = rng.random((400, 8))
    x8[:, :4] = 0.42 + 0.16 * x8[:, :4]
    x8[:100, 2], x8[:100, 3] = 0.45, 0.55  # x3, x4 on either side of the middle edge
    x8[100:120, 1] = 0.5
    got = np.array([shared.one(p) for p in x8])
    np.testing.assert_array_equal(got, [general.one(p) for p in x8])
    # f01 changes sign: near its zeros 1e-12 of the largest value (the two sum the same terms
    # in different orders; measured 1.7e-12 relative at a value 1e-4 of the largest, with
    # one BLAS thread in the fit)
    ref = reg._predict_numpy(x8)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_8d_compiled_batch_equals_predict(procs, term) -> None:
    """8D batches of the fast predictor run the shared-layout point kernel row by row in
    numba, serial and over threads (blocks of rows), and equal ``predict`` to 1e-12 (relative;
    f01, which changes sign, also 1e-12 of the largest value absolute); each row bitwise its
    single-point result."""
    import numba

    from zoo.plugins.processes.qqzz import factorised_fast as ff
    from zoo.plugins.regressors import piecewise_kernel as pk

    rng = np.random.default_rng(37)
    reg = _window_8d_fit(procs, rng, term)
    fast = ff.compiled(reg)
    assert fast.has_batch
    x8 = rng.random((3000, 8))
    x8[:, :4] = 0.42 + 0.16 * x8[:, :4]
    x8[:50, 2], x8[:50, 3] = 0.45, 0.55
    ref = reg._predict_numpy(x8)
    np.testing.assert_array_equal(reg.predict(x8), fast.batch(x8))  # predict is compiled
    pred = reg.fast_predictor()
    assert pred.backend == "numba"
    got = pred(x8)
    # f01 changes sign: near its zeros relative to the batch's scale (both sum the same
    # terms in different orders)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    np.testing.assert_array_equal(got[:20], [fast.one(p) for p in x8[:20]])
    out = np.empty(len(x8))  # the parallel kernel directly (small blocks, 2 threads)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        ff.predict8_parallel(x8, *fast.args, out, 256)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(out, got)
    assert fast.batch(x8, n_threads=1).tolist() == got.tolist()
    assert pk.PARALLEL_MIN > len(x8)  # the serial path above; the parallel one checked too
    with pytest.raises(InputError):
        pred(np.full((3, 8), np.nan))


def test_bad_input(fitted) -> None:
    with pytest.raises(InputError, match="8"):
        fitted.predict(np.full((3, 4), 0.5))
    with pytest.raises(InputError, match="NaN"):
        fitted.predict(np.full((3, 8), np.nan))
    with pytest.raises(InputError, match="shape"):
        FactorisedLoopRegressor().fit(np.full((10, 4), 0.5), np.zeros((10, 9)))
    with pytest.raises(ConfigError, match="helicity"):
        FactorisedLoopRegressor(helicity="LL0").fit(np.full((10, 4), 0.5), np.zeros((10, 18)))
    with pytest.raises(ConfigError):
        production_targets(np.zeros((2, 18), complex), np.full((2, 4), 0.5), quark="X")


def test_exact_tree_is_real_and_is_the_process_tree(procs) -> None:
    """tree_amplitudes: the real tree of the 4D process; its square is f00 (1e-12)."""
    p4, _ = procs
    x4 = np.random.default_rng(14).random((200, 4))
    for q in "LR":
        t = tree_amplitudes(x4, q)
        assert t.dtype == np.float64 and t.shape == (200, 9)
        f00 = p4.evaluate(x4, ["f00"])["f00"][:, (q == "R") * 9:(q == "R") * 9 + 9]
        np.testing.assert_allclose(t * t, f00, rtol=1e-12)
    bad = np.zeros((1, 9), complex)
    bad[0, 0] = 1.0 + 1e-3j
    with pytest.raises(NumericalError, match="not real"):
        _real_tree(bad)


def _f01_window_data(procs, seed: int, n: int = 1500):
    p4, _ = procs
    x4 = 0.45 + 0.1 * np.random.default_rng(seed).random((n, 4))
    _, one = p4.amplitudes(x4)
    return x4, production_targets(one, x4)


@pytest.mark.parametrize("helicity", ["L--", "L0+"])
def test_4d_f01_model(procs, helicity, tmp_path) -> None:
    """A 4D f01 model fits Re M_loop of its representative only (1 part) and returns
    2 M_tree Re M_loop; median error of f01/f00 on a window within 4x of the measured 1.1e-4
    for L-- (Re M_loop to ~2e-6 and f01/f00 ~ 35 there) and 9.8e-7 for L0+, round trip,
    imaginary part unknown (NaN)."""
    p4, _ = procs
    x4, y = _f01_window_data(procs, 15)
    reg = FactorisedLoopRegressor(helicity=helicity, cells=1, degree=4, grading=1.0,
                                  coef_dtype="float64", term="f01").fit(x4, y)
    assert len(reg.parts_) == 1
    xt = 0.46 + 0.08 * np.random.default_rng(16).random((300, 4))
    f = p4.evaluate(xt, ["f00", "f01"])
    col = p4.helicities.index(helicity)
    pred = reg.predict(xt)
    d = np.abs(pred - f["f01"][:, col]) / f["f00"][:, col]
    assert np.median(d) < {"L--": 4e-4, "L0+": 4e-6}[helicity], np.median(d)
    m = reg.production_amplitudes(xt)[:, reg._column()]
    assert np.isnan(m.imag).all() and np.isfinite(m.real).all()
    reg.save(tmp_path)
    back = FactorisedLoopRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), pred)


def test_8d_f01_model(procs) -> None:
    """An 8D f01 model (all 8 parts) predicts f01 of the column at 8D
    points: error of f01/f00 below 1.5e-6 at the median on a window (measured 3.7e-7)."""
    _, p8 = procs
    x4, y = _f01_window_data(procs, 17)
    reg = FactorisedLoopRegressor(cells=1, degree=4, grading=1.0, coef_dtype="float64",
                                  term="f01").fit(x4, y)
    assert len(reg.parts_) == 8
    x8 = np.random.default_rng(18).random((300, 8))
    x8[:, :4] = 0.46 + 0.08 * x8[:, :4]
    f = p8.evaluate(x8, ["f00", "f01"])
    d = np.abs(reg.predict(x8) - f["f01"][:, 0]) / f["f00"][:, 0]
    assert np.median(d) < 1.5e-6, np.median(d)
    with pytest.raises(ConfigError, match="term"):
        FactorisedLoopRegressor(term="f00").fit(x4, y)


def test_cos_zero_keeps_l00_f01_precise_at_its_zero(procs) -> None:
    """(0,0) vanishes at cos theta = 0, tree and loop: fitted divided by cos theta
    (cos_zero=True) the error of f01/f00 within 1e-4 of x2 = 1/2 is several times smaller
    than the plain fit's (median: measured 4.1e-6 against 3.8e-5 on this window)."""
    x4, y = _f01_window_data(procs, 19)
    xt = 0.46 + 0.08 * np.random.default_rng(20).random((300, 4))
    xt[:, 1] = 0.5 + 1e-4 * (2 * np.random.default_rng(21).random(300) - 1)
    # float64 projection (1e-7 relative this close to the zero: ample for a 1e-5 median;
    # the exact projection of all 300 points would take minutes)
    f = QQZZ4D(exact=False).evaluate(xt, ["f00", "f01"])
    err = {}
    for flag in (False, True):
        reg = FactorisedLoopRegressor(helicity="L00", cells=1, degree=4, grading=1.0,
                                      coef_dtype="float64", term="f01", cos_zero=flag)
        pred = reg.fit(x4, y).predict(xt)
        err[flag] = float(np.median(np.abs(pred - f["f01"][:, 4]) / f["f00"][:, 4]))
    assert err[True] < 1e-5 and err[False] > 4 * err[True], err


def test_one_fit_serves_both_terms(procs) -> None:
    """for_term: the f01 model taken from a fitted 4D f11 model predicts exactly what an f01
    fit predicts (the same least squares on the same data); a 4D f01 model cannot give f11."""
    x4, y = _f01_window_data(procs, 22)
    kw = {"helicity": "L-0", "cells": 1, "degree": 3, "grading": 1.0}
    f11 = FactorisedLoopRegressor(**kw).fit(x4, y)
    f01 = FactorisedLoopRegressor(**kw, term="f01").fit(x4, y)
    xt = 0.46 + 0.08 * np.random.default_rng(23).random((50, 4))
    derived = f11.for_term("f01")
    assert len(derived.parts_) == 1 and derived.term == "f01"
    np.testing.assert_array_equal(derived.predict(xt), f01.predict(xt))
    np.testing.assert_array_equal(f11.for_term("f11").predict(xt), f11.predict(xt))
    with pytest.raises(ConfigError, match="real parts only"):
        f01.for_term("f11")


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_on_shell_model_is_the_2d_process(term, tmp_path) -> None:
    """on_shell=True: parts of (x1, x2) only, fitted on the 2D process (both bosons at MZ);
    predicts f11 / f01 of the 2D label at 2D points (median error of f11 / of f01/f00 on a
    window below 1.5e-7 / 5e-7; measured 3.5e-8 / 1.2e-7), round trip, 2D input only, needs
    a production helicity."""
    p2 = plugin_manager.get("processes", "qqbar-zz-4l/2d")
    x = 0.4 + 0.2 * np.random.default_rng(24).random((400, 2))
    _, one = p2.amplitudes(x)
    y = production_targets(one, on_shell_points(x))
    reg = FactorisedLoopRegressor(helicity="L-0", cells=1, degree=6, grading=1.0,
                                  coef_dtype="float64", term=term, on_shell=True).fit(x, y)
    assert reg.n_features_ == 2 and all(p.n_features_ == 2 for p in reg.parts_)
    assert len(reg.parts_) == (1 if term == "f01" else 2)
    xt = 0.42 + 0.16 * np.random.default_rng(25).random((200, 2))
    f = p2.evaluate(xt, ["f00", term])
    col = p2.helicities.index("L-0")
    pred = reg.predict(xt)
    scale = f["f00"][:, col] if term == "f01" else np.abs(f[term][:, col])
    assert np.median(np.abs(pred - f[term][:, col]) / scale) < {"f11": 1.5e-7, "f01": 5e-7}[term]
    reg.save(tmp_path)
    back = FactorisedLoopRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), pred)
    with pytest.raises(InputError, match="2"):
        reg.predict(np.full((3, 4), 0.5))
    with pytest.raises(ArtifactError, match="production variables"):
        FactorisedLoopRegressor.load(tmp_path, {**reg.get_params(), "on_shell": False})
    with pytest.raises(ConfigError, match="on_shell"):
        FactorisedLoopRegressor(helicity="LLL", on_shell=True).fit(x, y)


# -- the shipped models: cell edges, faces, full domain -------------------------------------
#: measured (2026-12-03, the ninth session's retrained defaults) on the point sets of
#: _shipped_sets (seeded): median and 90th
#: percentile of |delta| (f11: relative; f01: / f00, as on the cards) at the cell edges, on
#: uniform points and at the faces, and of the jump |pred(e + 1e-9) - pred(e - 1e-9)| across
#: the edges (same denominator). The test allows 3x each.
SHIPPED_MEASURED: dict[str, dict[str, tuple[float, float]]] = {
    "qqbar-zz-4l/2d/f01/L-0": {  # @11 (tenth session: Chebyshev-density points per cell;
        # @8 of the ninth session measured uniform 1.9e-10/3.4e-9, edges 9.6e-9/2.5e-7,
        # jump 1.8e-7/5.4e-6, faces 8.1e-9/1.2e-6)
        "uniform": (2.3e-12, 1.9e-11),
        "edges": (5.4e-12, 9.9e-11),
        "jump": (1.1e-07, 3.6e-06),
        "faces": (1.7e-11, 1.1e-08),
    },
    "qqbar-zz-4l/4d/f11/L--": {  # @13 (eleventh session: Chebyshev-density points per cell;
        # @9 of the ninth session measured uniform 1.6e-7/3.2e-6, edges 2.1e-6/3.9e-5, jump
        # 3.8e-6/6.5e-5, faces 3.7e-6/4.7e-5)
        "uniform": (2.7e-07, 4e-06),
        "edges": (1.8e-06, 2.9e-05),
        "jump": (2.7e-06, 4e-05),
        "faces": (3.3e-06, 9.7e-05),
    },
    "qqbar-zz-4l/4d/f01/L-+": {  # @10 (eleventh session; @6 of the ninth session measured
        # uniform 8.3e-8/1.1e-6, edges 8.5e-7/1.1e-4, jump 2.5e-6/2.3e-4, faces 1.7e-5/6.6e-4)
        "uniform": (1e-07, 1.8e-06),
        "edges": (8.1e-07, 7.9e-05),
        "jump": (1.5e-06, 0.00016),
        "faces": (7.8e-06, 0.00057),
    },
    "qqbar-zz-4l/4d/f01/L--": {  # @12 (twelfth session: the masses to degree 10 on 524,288
        # Chebyshev-density points; not pinned before)
        "uniform": (1e-06, 8.6e-06),
        "edges": (2.7e-06, 5.7e-05),
        "jump": (4.7e-06, 0.00011),
        "faces": (4.2e-06, 0.00038),
    },
    "qqbar-zz-4l/8d/f11/LLL": {  # @14 (eleventh session: the 4D f11 defaults' parts, refitted
        # on Chebyshev-density points; the tenth session's @11 measured uniform 6.6e-8/8.8e-7,
        # edges 6.9e-7/2.2e-5, jump 1.4e-6/4e-5, faces 2.6e-6/3.8e-5; the ninth session's @8
        # uniform 3.3e-7/5e-5, edges 5.4e-6/1.4e-4, jump 7.7e-6/2.7e-4, faces 2.8e-5/1.8e-4)
        "uniform": (9.7e-08, 1.4e-06),
        "edges": (5.6e-07, 1.6e-05),
        "jump": (9.2e-07, 2.1e-05),
        "faces": (1.7e-06, 2.6e-05),
    },
}


def _edge_points(reg: FactorisedLoopRegressor, dim: int, rng, per_edge: int = 8) -> np.ndarray:
    """Pairs of points 1e-9 either side (in the part's coordinates: x1 and, with ``angle``,
    the polar angle) of every interior cell edge of the first part; blocks of ``per_edge``
    points, the other coordinates shared by both sides."""
    edges = reg.parts_[0].edges_
    out = []
    for axis in (0, 1):
        for e in edges[axis][1:-1]:
            base = rng.random((per_edge, dim))
            for side in (-1.0, 1.0):
                x = base.copy()
                u = e + side * 1e-9
                x[:, axis] = np.sin(0.5 * np.pi * u) ** 2 if axis == 1 and reg.angle else u
                out.append(x)
    return np.concatenate(out)


def _face_points(dim: int, rng, n: int = 64) -> np.ndarray:
    """x1 or x2 (alternately) within [1e-4, 1e-3] of 0 or 1."""
    x = rng.random((n, dim))
    d = 10.0 ** rng.uniform(-4, -3, n)
    x[np.arange(n), np.arange(n) % 2] = np.where(rng.random(n) < 0.5, d, 1.0 - d)
    return x


def _shipped_sets(label: str):
    from zoo.api import load
    from zoo.labels import as_label

    lab = as_label(label)
    amp = load(label, verify=False)
    reg = amp.model.regressor
    assert isinstance(reg, FactorisedLoopRegressor)
    rng = np.random.default_rng([20_261_204, lab.dimension])
    proc = plugin_manager.get("processes", f"qqbar-zz-4l/{lab.dimension}d")
    j = proc.helicity_index(lab.helicity)
    out = {}
    for name, x in (("edges", _edge_points(reg, lab.dimension, rng)),
                    ("uniform", rng.random((512, lab.dimension))),
                    ("faces", _face_points(lab.dimension, rng))):
        f = proc.evaluate(x, ["f00", lab.term])
        denom = np.abs(f[lab.term][:, j]) if lab.term == "f11" else f["f00"][:, j]
        pred = amp.predict(x)
        out[name] = np.abs(pred - f[lab.term][:, j]) / denom
        if name == "edges":
            p, d = pred.reshape(-1, 2, 8), denom.reshape(-1, 2, 8)
            out["jump"] = (np.abs(p[:, 1] - p[:, 0]) / d[:, 0]).ravel()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("label", ["qqbar-zz-4l/2d/f01/L-0", "qqbar-zz-4l/4d/f11/L--",
                                   "qqbar-zz-4l/4d/f01/L-+", "qqbar-zz-4l/4d/f01/L--",
                                   "qqbar-zz-4l/8d/f11/LLL"])
def test_shipped_model_at_cell_edges_faces_and_on_the_domain(label) -> None:
    """A shipped qqzz-factorised model (graded cells, polar angle) against the generator on
    both sides of every interior cell edge of x1 and the angle, on uniform points and at the
    faces (x1 or x2 within [1e-4, 1e-3] of 0 or 1): median and p90 of |delta| and of the
    jump across the edges within 3x of what was measured (SHIPPED_MEASURED: the edge points, many in
    the graded end cells, have a p90 3-140x the uniform one, the faces 4-50000x)."""
    from zoo.registry.registry import Registry

    if not Registry.bundled().list(label):
        pytest.skip("registry/bundled is empty")
    stats = _shipped_sets(label)
    got = {k: (float(np.median(v)), float(np.percentile(v, 90))) for k, v in stats.items()}
    for key, (median, p90) in SHIPPED_MEASURED[label].items():
        assert got[key][0] <= 3 * median and got[key][1] <= 3 * p90, (key, got[key])


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_8d_uncertainty_from_compiled_amplitudes_equals_the_numpy_path(procs, term) -> None:
    """8D predict_uncertainty runs the compiled one-pass kernel (amplitudes and per-cell
    scales); it equals the all-numpy propagation (amplitudes by the parts):
    y to 1e-12 of the largest value, sigma to 1e-12 relative (measured 1e-17 / 2e-14 on the
    shipped models), on a window fit with x2 near its middle cell edge too."""
    from zoo.plugins.processes.qqzz import factorised_uncertainty as fu

    rng = np.random.default_rng(41)
    reg = _window_8d_fit(procs, rng, term)
    for part in reg.parts_:  # scales over four decades, one per fit cell
        part.cell_scale_ = 10.0 ** rng.uniform(-9, -5, int(np.prod(reg.cells)))
    x8 = rng.random((500, 8))
    x8[:, :4] = 0.42 + 0.16 * x8[:, :4]
    x8[:40, 1] = 0.5 + 0.1 * (rng.random(40) - 0.5)
    assert fu._compiled_8d(reg) is not None
    y_fast, s_fast = reg.predict_uncertainty(x8)
    reg._compiled_8d = (reg.parts_, None)  # force the numpy path
    y_ref, s_ref = reg.predict_uncertainty(x8)
    np.testing.assert_allclose(y_fast, y_ref, rtol=0, atol=1e-12 * np.abs(y_ref).max())
    np.testing.assert_allclose(s_fast, s_ref, rtol=1e-12, atol=0)
    np.testing.assert_allclose(y_fast, reg._predict_numpy(x8), rtol=0,
                               atol=1e-12 * np.abs(y_ref).max())
    # the amplitudes from PARALLEL_MIN rows on: blocks over threads, the same bits
    from zoo.plugins.regressors import piecewise_kernel as pk

    big = np.repeat(x8, pk.PARALLEL_MIN // len(x8) + 1, axis=0)
    del reg._compiled_8d  # the numpy path was forced above
    fast = fu._compiled_8d(reg)
    np.testing.assert_array_equal(fast.amplitudes8(big, n_threads=2),
                                  fast.amplitudes8(big, n_threads=1))


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_8d_one_pass_sigma_kernel_equals_the_numpy_path(procs, term) -> None:
    """The compiled one-pass (y, sigma) of an 8D model (``predict_sigma8``): y equal to the
    compiled batch prediction bit for bit, sigma to 1e-12 relative of the numpy propagation
    (measured 8e-16 on the shipped models), on a scale grid finer than the fit's (as
    ``set_cell_scale(refine=...)`` leaves it); serial and threaded blocks give the same bits;
    parts whose scale grids differ fall back to the numpy path."""
    from zoo.plugins.processes.qqzz import factorised_fast as ff
    from zoo.plugins.processes.qqzz import factorised_uncertainty as fu
    from zoo.plugins.regressors import piecewise_kernel as pk

    rng = np.random.default_rng(43)
    reg = _window_8d_fit(procs, rng, term)
    for part in reg.parts_:  # every axis cut in 3 (x1, angle) or 2: a refined scale grid
        part.scale_edges_ = [np.unique(np.concatenate(
            [np.linspace(e[i], e[i + 1], r + 1) for i in range(len(e) - 1)]))
            for e, r in zip(part.edges_, (3, 3, 2, 2))]
        n = int(np.prod([len(e) - 1 for e in part.scale_edges_]))
        part.cell_scale_ = 10.0 ** rng.uniform(-9, -5, n)
    x8 = rng.random((400, 8))
    x8[:, :4] = 0.42 + 0.16 * x8[:, :4]
    fast = fu._compiled_8d(reg)
    scales = ff.scale_args(reg.parts_)
    assert fast is not None and scales is not None
    y, s = reg.predict_uncertainty(x8)
    np.testing.assert_array_equal(y, fast.batch(x8, n_threads=1))
    reg._compiled_8d = (reg.parts_, None)  # force the numpy path
    y_ref, s_ref = reg.predict_uncertainty(x8)
    del reg._compiled_8d
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-12 * np.abs(y_ref).max())
    np.testing.assert_allclose(s, s_ref, rtol=1e-12, atol=0)
    big = np.repeat(x8, pk.PARALLEL_MIN // len(x8) + 1, axis=0)
    one, two = fast.predict_sigma8(big, scales, 1), fast.predict_sigma8(big, scales, 2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    # one part on another scale grid: no shared grid, the numpy path, the same sigma
    reg.parts_[0].scale_edges_ = list(reg.parts_[0].edges_)
    reg.parts_[0].cell_scale_ = reg.parts_[0].cell_scale_[:int(np.prod(reg.cells))]
    assert ff.scale_args(reg.parts_) is None
    y2, s2 = reg.predict_uncertainty(x8)
    reg._compiled_8d = (reg.parts_, None)
    y2_ref, s2_ref = reg.predict_uncertainty(x8)
    np.testing.assert_allclose(s2, s2_ref, rtol=1e-12, atol=0)


def test_an_8d_fit_is_the_four_4d_fits_of_its_representatives(procs) -> None:
    """With the symmetries an 8D column's fit is, representative by representative, the fit
    of the 4D production helicity on the same points (the premise of
    ``scripts/fit_factorised_8d.py --parts-from``): the coefficients agree to 1e-12 of the
    largest (measured: bit for bit), for L--, L-0, L-+, L00 against LLL."""
    from zoo.plugins.processes.qqzz.factorisation import REPRESENTATIVES, _col

    p4, _ = procs
    x4 = 0.4 + 0.2 * np.random.default_rng(47).random((1200, 4))
    _, one = p4.amplitudes(x4)
    y = production_targets(one, x4)
    params = {"cells": [2, 3, 1, 1], "degree": [3, 3, 2, 2], "grading": 1.0,
              "coef_dtype": "float64", "angle": True, "endpoints": True}
    full = FactorisedLoopRegressor(helicity="LLL", **params).fit(x4, y)
    names = {_col(-1, -1): "L--", _col(-1, 0): "L-0", _col(-1, 1): "L-+", _col(0, 0): "L00"}
    n = len(REPRESENTATIVES)
    for k, rep in enumerate(REPRESENTATIVES):
        part = FactorisedLoopRegressor(helicity=names[rep], **params).fit(x4, y)
        for mine, theirs in ((full.parts_[k], part.parts_[0]), (full.parts_[n + k], part.parts_[1])):
            scale = np.abs(mine.coef_).max()
            np.testing.assert_allclose(theirs.coef_, mine.coef_, rtol=0, atol=1e-12 * scale)


def test_the_shipped_8d_models_hold_the_4d_f11_defaults_parts() -> None:
    """The bundled 8D defaults were built by ``--parts-from``: every part's coefficients are
    those of the 4D f11 default of its representative (real parts, then imaginary)."""
    from zoo.api import load
    from zoo.plugins.processes.qqzz.factorisation import REPRESENTATIVES, _col
    from zoo.registry.registry import Registry

    if not Registry.bundled().list("qqbar-zz-4l/8d/f11/LLL"):
        pytest.skip("registry/bundled is empty")
    names = {_col(-1, -1): "L--", _col(-1, 0): "L-0", _col(-1, 1): "L-+", _col(0, 0): "L00"}
    four = {r: load(f"qqbar-zz-4l/4d/f11/{names[r]}").model.regressor.parts_
            for r in REPRESENTATIVES}
    n = len(REPRESENTATIVES)
    for term in ("f11", "f01"):
        parts = load(f"qqbar-zz-4l/8d/{term}/LLL").model.regressor.parts_
        for k, rep in enumerate(REPRESENTATIVES):
            np.testing.assert_array_equal(parts[k].coef_, four[rep][0].coef_)
            np.testing.assert_array_equal(parts[n + k].coef_, four[rep][1].coef_)


@pytest.mark.parametrize("term", ["f11", "f01"])
def test_8d_batches_in_cell_order_give_the_same_bits(procs, term, monkeypatch) -> None:
    """From SORT_MIN rows the 8D batch kernels take the rows in the order of their cells and
    put the results back: predictions, amplitudes and (y, sigma) equal those of the rows in
    their own order bit for bit, and each row its single-point result."""
    from zoo.plugins.processes.qqzz import factorised_fast as ff

    rng = np.random.default_rng(53)
    reg = _window_8d_fit(procs, rng, term)
    fast = ff.compiled(reg)
    x8 = rng.random((ff.SORT_MIN + 500, 8))
    x8[:, :4] = 0.4 + 0.2 * x8[:, :4]
    scales = ff.scale_args(reg.parts_)
    got = (fast.batch(x8, 1), fast.amplitudes8(x8, 1), fast.predict_sigma8(x8, scales, 1))
    monkeypatch.setattr(ff, "SORT_MIN", 10**9)  # the rows in their own order
    ref = (fast.batch(x8, 1), fast.amplitudes8(x8, 1), fast.predict_sigma8(x8, scales, 1))
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_array_equal(got[2][0], ref[2][0])
    np.testing.assert_array_equal(got[2][1], ref[2][1])
    np.testing.assert_array_equal(got[0][:20], [fast.one(p) for p in x8[:20]])
