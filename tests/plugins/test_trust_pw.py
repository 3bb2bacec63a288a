"""Uncertainty of pwcheb and qqzz-factorised (issue 16): per-cell scales, their storage, the
propagation to f11 and f01, and what they say about the errors."""

from __future__ import annotations

import numpy as np
import pytest

from zoo import plugin_manager
from zoo.errors import InputError, UnsupportedModelError
from zoo.plugins.processes.qqzz.factorised import FactorisedLoopRegressor, production_targets
from zoo.plugins.regressors.common import save_arrays
from zoo.plugins.regressors.piecewise import WEIGHTS_FILE, PiecewiseChebyshevRegressor


def _smooth(x: np.ndarray) -> np.ndarray:
    return np.exp(-x[:, 0]) * np.cos(2.0 * x[:, 1]) + 0.3 * x[:, 0] * x[:, 1]


def test_sigma_rises_where_the_training_data_are_corrupted() -> None:
    """A slab of training targets (0.5 <= x0 < 0.75) with noise of 1e-3: the leave-one-out
    scale of the cells there is > 30 times that of the clean cells (measured 3.2e3: the clean
    fit is ~1e-7), and on fresh points corrupted the same way the RMS error in the slab is
    the RMS sigma there within a factor 2 (measured ~1.0)."""
    rng = np.random.default_rng(0)
    x = rng.random((8000, 2))
    x[:2] = [[0.0, 0.0], [1.0, 1.0]]  # the cells are the quarters of each axis
    y = _smooth(x)
    slab = (x[:, 0] >= 0.5) & (x[:, 0] < 0.75)
    y[slab] += 1e-3 * rng.standard_normal(slab.sum())
    reg = PiecewiseChebyshevRegressor(cells=4, degree=4, grading=1.0).fit(x, y)
    xt = rng.random((4000, 2))
    pred, s = reg.predict_uncertainty(xt)
    np.testing.assert_array_equal(pred, reg.predict(xt))
    inside = (xt[:, 0] >= 0.5) & (xt[:, 0] < 0.75)
    assert s[inside].min() > 30 * s[~inside].max()
    target = _smooth(xt) + 1e-3 * inside * rng.standard_normal(len(xt))  # same corruption
    err = np.abs(pred - target)
    ratio = np.sqrt(np.mean(err[inside] ** 2)) / np.sqrt(np.mean(s[inside] ** 2))
    assert 0.5 < ratio < 2, ratio


def test_press_scale_matches_held_out_rms() -> None:
    """On a clean smooth function the leave-one-out scale of every cell is the RMS error on
    fresh points in that cell within a factor 3 (the point of PRESS: no refit, no held-out
    data, yet an out-of-sample figure)."""
    rng = np.random.default_rng(1)
    f = lambda x: np.sin(5.0 * x[:, 0]) * np.exp(x[:, 1]) + x[:, 1] ** 3  # noqa: E731
    x = rng.random((6000, 2))
    reg = PiecewiseChebyshevRegressor(cells=3, degree=3, grading=1.0).fit(x, f(x))
    press = reg.cell_scale_.copy()
    xt = rng.random((30000, 2))
    counts = reg.set_cell_scale(xt, f(xt))
    assert counts.min() > 1000
    ratio = press / reg.cell_scale_
    assert (ratio > 1 / 3).all() and (ratio < 3).all(), ratio


def test_scales_round_trip_and_old_files_have_none(tmp_path) -> None:
    rng = np.random.default_rng(2)
    x = rng.random((3000, 2))
    reg = PiecewiseChebyshevRegressor(cells=2, degree=3).fit(x, _smooth(x))
    reg.save(tmp_path / "new")
    back = PiecewiseChebyshevRegressor.load(tmp_path / "new", reg.get_params())
    assert back.has_uncertainty
    np.testing.assert_array_equal(back.cell_scale_, reg.cell_scale_)
    # a file written before the uncertainty existed: same arrays without cell_scale
    arrays = {"coef": reg.coef_, "index": reg.index_.astype(np.int16), "degrees": reg.degrees_,
              **{f"edges_{j}": e for j, e in enumerate(reg.edges_)}}
    (tmp_path / "old").mkdir()
    save_arrays(reg, tmp_path / "old", WEIGHTS_FILE, arrays, n_features="2")
    old = PiecewiseChebyshevRegressor.load(tmp_path / "old", reg.get_params())
    assert not old.has_uncertainty
    with pytest.raises(UnsupportedModelError, match="no per-point uncertainty"):
        old.predict_uncertainty(x[:5])
    np.testing.assert_array_equal(old.predict(x[:50]), reg.predict(x[:50]))
    with pytest.raises(InputError, match="held-out"):
        old.set_cell_scale(x[:3], _smooth(x[:3]), min_points=8)


@pytest.fixture(scope="module")
def window():
    """Loop amplitudes of 2500 fitting and 1500 fresh production points of a window (a
    coarse fit: visible errors that vary over the window)."""
    p4 = plugin_manager.get("processes", "qqbar-zz-4l/4d")
    rng = np.random.default_rng(7)
    x4 = 0.3 + 0.4 * rng.random((4000, 4))
    tree, one = p4.amplitudes(x4)
    return x4, tree, one


@pytest.mark.parametrize("helicity,term", [("LLL", "f11"), ("L-0", "f11"),
                                           ("L-+", "f01")])
def test_factorised_sigma_ranks_its_errors(window, helicity, term) -> None:
    """sigma of a coarse qqzz-factorised model (PRESS scales of its parts, propagated):
    y is predict's, and the mean error where sigma is in its top fifth exceeds the mean
    error where it is in its bottom fifth; sigma is within a factor 10 of the RMS error.
    The same after set_part_scales on the fresh points."""
    x4, tree, one = window
    fit, fresh = slice(0, 2500), slice(2500, None)
    reg = FactorisedLoopRegressor(helicity=helicity, term=term, cells=[3, 3, 1, 1],
                                  degree=[3, 3, 2, 2], grading=1.0, coef_dtype="float64")
    reg.fit(x4[fit], production_targets(one[fit], x4[fit]))
    assert reg.has_uncertainty
    rng = np.random.default_rng(8)
    if helicity[1] in "-0+":
        x = x4[fresh]
        from zoo.plugins.processes.qqzz.production import HELICITIES

        c = HELICITIES.index(helicity)
        t = {"f11": np.abs(one[fresh, c]) ** 2,
             "f01": 2 * np.real(np.conj(tree[fresh, c]) * one[fresh, c])}[term]
    else:
        x = np.concatenate([x4[fresh], rng.random((1500, 4))], axis=1)
        p8 = plugin_manager.get("processes", "qqbar-zz-4l/8d")
        t = p8.function(x, term, helicity)
    for step in ("press", "held-out"):
        y, s = reg.predict_uncertainty(x)
        np.testing.assert_array_equal(y, reg.predict(x))
        err = np.abs(y - t)
        order = np.argsort(s)
        fifth = len(s) // 5
        assert err[order[-fifth:]].mean() > err[order[:fifth]].mean(), step
        rms_ratio = np.sqrt(np.mean(err**2)) / np.sqrt(np.mean(s**2))
        assert 0.1 < rms_ratio < 10, (step, rms_ratio)
        reg.set_part_scales(x4[fresh], one[fresh])


def test_onnx_sigma_is_the_cell_scale() -> None:
    """The ONNX form of sigma (per-cell scale gathered by the graph's own cell index) equals
    predict_uncertainty's, bit for bit, including points on inner edges."""
    ort = pytest.importorskip("onnxruntime")
    from zoo.runtime.onnx_graph import Graph, build_model

    rng = np.random.default_rng(3)
    x = rng.random((3000, 2))
    reg = PiecewiseChebyshevRegressor(cells=[3, 4], degree=2, grading=1.4).fit(x, _smooth(x))
    g = Graph()
    xin = g.input("x", "float64", ["N", 2])
    out = reg.onnx_uncertainty_nodes(g, xin)
    model = build_model(g, [(out, "float64", ["N"])])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    xt = np.concatenate([rng.random((500, 2)), np.stack([reg.edges_[0][1:3],
                                                         reg.edges_[1][1:3]], axis=1)])
    got = sess.run(None, {"x": xt})[0].reshape(-1)
    np.testing.assert_array_equal(got, reg.predict_uncertainty(xt)[1])


def test_refined_scale_grid_follows_the_error_within_a_cell(tmp_path) -> None:
    """One cell, a function with a layer at x0 = 0 the cubic cannot resolve: the error is
    largest near x0 = 0; with refine=(4, 1) the scale of the quarter at x0 = 0 exceeds that
    of the others (measured x2.7; > x2 required), the refined grid is stored and loaded, and the ONNX
    sigma equals it."""
    rng = np.random.default_rng(4)
    f = lambda x: np.sqrt(x[:, 0] + 1e-3) + x[:, 1]  # noqa: E731
    x = rng.random((4000, 2))
    reg = PiecewiseChebyshevRegressor(cells=1, degree=3, grading=1.0).fit(x, f(x))
    xt = rng.random((8000, 2))
    counts = reg.set_cell_scale(xt, f(xt), refine=[4, 1])
    assert counts.shape == (4,) and counts.min() > 1000
    assert reg.cell_scale_[0] > 2 * reg.cell_scale_[1:].max()
    reg.save(tmp_path)
    back = PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict_uncertainty(xt)[1], reg.predict_uncertainty(xt)[1])
    assert len(back.scale_edges()[0]) == 5


def test_cuts_give_every_cell_a_pooled_slab_factor(tmp_path) -> None:
    """Three cells along x0, one along x1, and a layer at x1 = 0 that every cell's cubic
    misses: ``cuts={1: [0.05]}`` cuts every cell at x1 = 0.05 with one factor per slab pooled
    over all cells, so the slab at the layer gets the larger scale in each cell (measured
    x4.57 in every cell, the ratio of the two pooled factors; > x2 required) although no
    cell alone could estimate it; the table is float32
    values, stored as float32, and loads back equal. A slab with fewer than MIN_SLAB_POINTS
    points keeps factor 1; an axis the model lacks is refused."""
    from zoo.errors import ConfigError
    from zoo.plugins.regressors import piecewise as pw

    rng = np.random.default_rng(5)
    f = lambda x: np.sqrt(x[:, 1] + 1e-3) + np.sin(3.0 * x[:, 0])  # noqa: E731
    x = rng.random((6000, 2))
    x[:2] = [[0.0, 0.0], [1.0, 1.0]]  # the cells: thirds of x0, all of x1
    reg = PiecewiseChebyshevRegressor(cells=[3, 1], degree=3, grading=1.0).fit(x, f(x))
    xt = rng.random((12000, 2))
    reg.set_cell_scale(xt, f(xt), cuts={1: [0.05]})
    edges = reg.scale_edges()
    assert len(edges[0]) == 4 and list(edges[1]) == [0.0, 0.05, 1.0]
    table = reg.cell_scale_.reshape(3, 2)
    assert (table[:, 0] > 2 * table[:, 1]).all(), table
    np.testing.assert_array_equal(reg.cell_scale_.astype(np.float32).astype(np.float64),
                                  reg.cell_scale_)
    reg.save(tmp_path)
    from safetensors.numpy import load_file

    assert load_file(str(tmp_path / WEIGHTS_FILE))["cell_scale"].dtype == np.float32
    back = PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict_uncertainty(xt)[1], reg.predict_uncertainty(xt)[1])
    # too few points in the thin slab: factor 1 there, the cells' own scale
    few = xt[xt[:, 1] >= 0.05][: 4000]
    few = np.concatenate([few, xt[xt[:, 1] < 0.05][: pw.MIN_SLAB_POINTS - 1]])
    plain = PiecewiseChebyshevRegressor(cells=[3, 1], degree=3, grading=1.0).fit(x, f(x))
    plain.set_cell_scale(few, f(few))
    reg.set_cell_scale(few, f(few), cuts={1: [0.05]})
    ratio = reg.cell_scale_.reshape(3, 2)[:, 0] / plain.cell_scale_
    assert np.all(np.abs(ratio - ratio[0]) < 1e-6 * ratio[0])  # one overall factor only
    with pytest.raises(ConfigError, match="axes"):
        reg.set_cell_scale(xt, f(xt), cuts={5: [0.5]})
