"""The piecewise Chebyshev regressor: contract, exactness, grading, storage, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.errors import ArtifactError, ConfigError, InputError
from zoo.plugins.regressors.piecewise import PiecewiseChebyshevRegressor, graded_edges
from zoo.testing import RegressorContract


class TestPiecewise(RegressorContract):
    max_relative_rms = 0.02  # measured 0.0070 (2 cells per axis, degree 3)

    def regressor_factory(self):
        return PiecewiseChebyshevRegressor(cells=2, degree=3)


class TestPiecewiseAnisotropic(RegressorContract):
    max_relative_rms = 0.05  # measured 0.0213

    def regressor_factory(self):
        return PiecewiseChebyshevRegressor(cells=[3, 2, 1], degree=[3, 2, 2], grading=2.0)


def test_graded_edges() -> None:
    np.testing.assert_allclose(graded_edges(0.0, 1.0, 4, 1.0), [0, 0.25, 0.5, 0.75, 1.0])
    # widths 1, 2, 2, 1 (r = 2, n = 4) and 1, 2, 4, 2, 1 (n = 5)
    np.testing.assert_allclose(graded_edges(0.0, 1.0, 4, 2.0), [0, 1 / 6, 1 / 2, 5 / 6, 1])
    np.testing.assert_allclose(np.diff(graded_edges(0.0, 10.0, 5, 2.0)),
                               [1.0, 2.0, 4.0, 2.0, 1.0])
    assert np.all(np.diff(graded_edges(-2.0, 3.0, 7, 1.3)) > 0)


def test_reproduces_a_piecewise_smooth_polynomial(tmp_path) -> None:
    """A cubic in x0 times a quadratic in x1 is exact in every cell: 1e-10 absolute."""
    rng = np.random.default_rng(0)

    def f(x):
        return (1 + 2 * x[:, 0] - 3 * x[:, 0] ** 3) * (0.5 + x[:, 1] ** 2)

    x = rng.random((4000, 2))
    reg = PiecewiseChebyshevRegressor(cells=[4, 3], degree=[3, 2], grading=[1.7, 1.2],
                                      ridge=0.0).fit(x, f(x))
    xt = rng.random((1000, 2))
    assert np.max(np.abs(reg.predict(xt) - f(xt))) < 1e-10
    assert reg.n_parameters == 4 * 3 * 4 * 3
    reg.save(tmp_path)
    back = PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), reg.predict(xt))


def test_float32_coefficients_halve_the_file_and_are_what_is_scored(tmp_path) -> None:
    """float32 storage: the in-memory model already carries the rounded coefficients (so
    its metrics are those of the stored model), the file is about half the size, and the
    rounding costs ~1e-7 relative on a smooth function (tolerance 1e-6)."""
    rng = np.random.default_rng(5)
    x = rng.random((6000, 2))
    y = np.exp(x[:, 0]) * np.cos(3 * x[:, 1]) + 4.0
    kw = {"cells": [6, 4], "degree": 8, "grading": 1.0}
    r64 = PiecewiseChebyshevRegressor(**kw).fit(x, y)
    r32 = PiecewiseChebyshevRegressor(**kw, coef_dtype="float32").fit(x, y)
    assert np.array_equal(r32.coef_, r32.coef_.astype(np.float32))
    assert not np.array_equal(r64.coef_, r64.coef_.astype(np.float32))
    xt = rng.random((2000, 2))
    yt = np.exp(xt[:, 0]) * np.cos(3 * xt[:, 1]) + 4.0
    assert np.max(np.abs(r32.predict(xt) - r64.predict(xt)) / np.abs(yt)) < 1e-6
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    r64.save(tmp_path / "a")
    r32.save(tmp_path / "b")
    size64 = (tmp_path / "a" / "pwcheb.safetensors").stat().st_size
    size32 = (tmp_path / "b" / "pwcheb.safetensors").stat().st_size
    assert size32 < 0.6 * size64
    back = PiecewiseChebyshevRegressor.load(tmp_path / "b", r32.get_params())
    np.testing.assert_array_equal(back.predict(xt), r32.predict(xt))


def test_cells_beat_one_polynomial_on_a_steep_layer() -> None:
    """log(x + 1e-3): geometrically graded cells reach 1e-5 where uniform cells and one
    polynomial of the same size stop near 1e-4."""
    rng = np.random.default_rng(1)
    x = rng.random((100000, 1))
    y = np.log(x[:, 0] + 1e-3)
    xt = rng.random((5000, 1))
    yt = np.log(xt[:, 0] + 1e-3)
    errors = {}
    for name, kw in {"graded": {"cells": 16, "degree": 7, "grading": 2.0},
                     "uniform": {"cells": 16, "degree": 7, "grading": 1.0},
                     "one": {"cells": 1, "degree": 127}}.items():
        reg = PiecewiseChebyshevRegressor(**kw).fit(x, y)
        errors[name] = np.max(np.abs(reg.predict(xt) - yt))
    assert errors["graded"] < 1e-5, errors
    assert errors["uniform"] > 1e-5 and errors["one"] > 1e-5, errors


def test_too_few_points_per_cell_says_what_to_do() -> None:
    x = np.random.default_rng(2).random((50, 2))
    with pytest.raises(InputError, match="fewer cells"):
        PiecewiseChebyshevRegressor(cells=4, degree=3).fit(x, x[:, 0])


def test_robust_refit_drops_wrong_labels() -> None:
    """Three wrong labels (1e-3 .. 1e-1 off) in a smooth 2D function: the plain fit is
    spoiled near them (error > 1e-5), the robust refit drops exactly those three and is back
    at the approximation error (< 1e-8) everywhere."""
    rng = np.random.default_rng(4)
    x = rng.random((20000, 2))
    f = lambda z: np.exp(z[:, 0]) * np.cos(2 * z[:, 1])  # noqa: E731
    y = f(x)
    bad = np.array([5, 1234, 17000])
    y[bad] += np.array([1e-3, -1e-2, 1e-1])
    xt = rng.random((5000, 2))
    plain = PiecewiseChebyshevRegressor(cells=4, degree=6, grading=1.0).fit(x, y)
    robust = PiecewiseChebyshevRegressor(cells=4, degree=6, grading=1.0, robust=1000).fit(x, y)
    assert np.max(np.abs(plain.predict(xt) - f(xt))) > 1e-5
    assert np.max(np.abs(robust.predict(xt) - f(xt))) < 1e-8
    assert robust.n_outliers_ == 3 and plain.n_outliers_ == 0
    clean = PiecewiseChebyshevRegressor(cells=4, degree=6, grading=1.0, robust=1000).fit(x, f(x))
    assert clean.n_outliers_ == 0  # smooth data: nothing is dropped


def test_total_degree_basis(tmp_path) -> None:
    """basis="total": multi-indices with sum k_j / d_j <= 1; a polynomial of that space is
    reproduced (1e-10), the compiled kernel equals the numpy path (1e-13), the artifact
    round-trips, and an index beyond the degrees is refused."""
    from zoo.plugins.regressors.piecewise import basis_indices

    idx = basis_indices([4, 2], "total")
    assert len(idx) == 9 and all(k[0] / 4 + k[1] / 2 <= 1 for k in idx)  # 5 + 3 + 1
    assert len(basis_indices([8, 8, 8, 8], "total")) == 495
    assert len(basis_indices([3, 0], "total")) == 4
    rng = np.random.default_rng(9)
    x = rng.random((3000, 2))

    def f(z):  # degree (4, 0), (2, 1), (0, 2) terms: inside the space
        return 1 + z[:, 0] ** 4 - 2 * z[:, 0] ** 2 * z[:, 1] + 3 * z[:, 1] ** 2

    reg = PiecewiseChebyshevRegressor(cells=[2, 3], degree=[4, 2], grading=1.0, ridge=0.0,
                                      basis="total").fit(x, f(x))
    assert reg.n_parameters == 6 * 9
    xt = rng.random((500, 2))
    assert np.max(np.abs(reg.predict(xt) - f(xt))) < 1e-10
    np.testing.assert_allclose(reg.predict(xt), reg._predict_numpy(xt), rtol=0, atol=1e-13)
    reg.save(tmp_path)
    back = PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), reg.predict(xt))
    from safetensors.numpy import load_file, save_file

    path = tmp_path / "pwcheb.safetensors"
    t = load_file(path)
    t["index"][0, 0] = 5  # beyond degree 4
    from safetensors import safe_open

    with safe_open(path, "np") as fh:
        meta = fh.metadata()
    save_file(t, path, metadata=meta)
    with pytest.raises(ArtifactError, match="do not fit together"):
        PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())


def test_sample_weight_moves_the_error_where_the_weight_is_small() -> None:
    """Weighted least squares: a function no cubic reproduces, fitted with weight 1e4 on
    x0 < 0.2; the weighted fit is >10x more precise there than the plain one (measured
    28x), constant weights give the plain fit (1e-12), bad weights are refused."""
    rng = np.random.default_rng(7)
    x = rng.random((6000, 1))
    y = np.exp(3 * x[:, 0])
    w = np.where(x[:, 0] < 0.2, 1e4, 1.0)
    kw = {"cells": 1, "degree": 3, "grading": 1.0}
    plain = PiecewiseChebyshevRegressor(**kw).fit(x, y)
    weighted = PiecewiseChebyshevRegressor(**kw).fit(x, y, sample_weight=w)
    xt = np.linspace(0.0, 0.2, 200)[:, None]
    err = [np.max(np.abs(r.predict(xt) - np.exp(3 * xt[:, 0]))) for r in (plain, weighted)]
    assert err[1] < err[0] / 10, err
    same = PiecewiseChebyshevRegressor(**kw).fit(x, y, sample_weight=np.full(6000, 3.0))
    np.testing.assert_allclose(same.predict(xt), plain.predict(xt), rtol=1e-12)
    for bad in (np.ones(5), np.zeros(6000), np.full(6000, np.nan)):
        with pytest.raises(InputError, match="sample_weight"):
            PiecewiseChebyshevRegressor(**kw).fit(x, y, sample_weight=bad)


@pytest.mark.parametrize("kw", [{"cells": 0}, {"degree": -1}, {"grading": 0.5},
                                {"cells": [2, 2, 2]}, {"robust": 0.5},
                                {"coef_dtype": "float16"}, {"basis": "sparse"}])
def test_bad_parameters(kw) -> None:
    x = np.random.default_rng(2).random((500, 2))
    with pytest.raises(ConfigError):
        PiecewiseChebyshevRegressor(**kw).fit(x, x[:, 0])


def test_inconsistent_artifact_is_refused(tmp_path) -> None:
    from safetensors.numpy import load_file, save_file

    x = np.random.default_rng(3).random((2000, 2))
    reg = PiecewiseChebyshevRegressor(cells=2, degree=2).fit(x, x[:, 0] * x[:, 1])
    reg.save(tmp_path)
    path = tmp_path / "pwcheb.safetensors"
    t = load_file(str(path))
    t["coef"] = t["coef"][:-1]
    save_file(t, str(path), metadata={"n_features": "2"})
    with pytest.raises(ArtifactError, match="do not fit together"):
        PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())


def test_cells_without_data_predict_nan() -> None:
    """An L-shaped support (as after a symmetry fold): the cell [1/2, 1]^2 holds no
    training point and answers NaN; the others fit."""
    rng = np.random.default_rng(4)
    x = rng.random((6000, 2))
    x = x[(x[:, 0] < 0.5) | (x[:, 1] < 0.5)]
    x = np.vstack([x, [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]])  # the box is exactly [0, 1]^2
    reg = PiecewiseChebyshevRegressor(cells=[2, 2], degree=2, grading=1.0).fit(x, x.sum(axis=1))
    got = reg.predict(np.array([[0.2, 0.3], [0.8, 0.8]]))
    assert abs(got[0] - 0.5) < 1e-10 and np.isnan(got[1])
