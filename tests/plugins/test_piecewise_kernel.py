"""The compiled pwcheb kernel against the numpy design-matrix path.

Tolerance: |kernel - numpy| <= 1e-13 x max |prediction| of the model (the two differ only
in the order of the ~P products summed, each of order the prediction); NaN exactly where
numpy has NaN. Single-point, serial and parallel results are bitwise equal.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zoo.plugins.regressors import piecewise_kernel as pk
from zoo.plugins.regressors.piecewise import PiecewiseChebyshevRegressor, graded_edges

RTOL = 1e-13


def random_model(cells: list[int], degrees: list[int], seed: int,
                 nan_cells: tuple[int, ...] = ()) -> PiecewiseChebyshevRegressor:
    """A pwcheb model with graded cells on a non-unit box and random decaying
    coefficients (no fit: any learned state the regressor can hold)."""
    rng = np.random.default_rng(seed)
    d = len(cells)
    reg = PiecewiseChebyshevRegressor(cells=cells, degree=degrees)
    lo, width = rng.uniform(-2, 1, d), rng.uniform(0.5, 3, d)
    reg.edges_ = [graded_edges(lo[j], lo[j] + width[j], cells[j], 1.0 + 0.4 * j)
                  for j in range(d)]
    reg.degrees_ = np.asarray(degrees, dtype=np.int64)
    reg.index_ = np.asarray(list(itertools.product(*(range(k + 1) for k in degrees))),
                            dtype=np.int64).reshape(-1, d)
    coef = rng.standard_normal((int(np.prod(cells)), len(reg.index_)))
    coef /= (1.0 + reg.index_.sum(axis=1)) ** 2
    coef[list(nan_cells)] = np.nan
    reg.coef_ = coef
    reg.n_features_ = d
    return reg


def probe_points(reg: PiecewiseChebyshevRegressor, n: int, seed: int) -> np.ndarray:
    """Random points in the box, plus coordinates exactly on every edge, one ulp either
    side of it, and 1e-3 of the axis outside both ends."""
    rng = np.random.default_rng(seed)
    special = []
    for e in reg.edges_:
        span = e[-1] - e[0]
        special.append(np.concatenate([e, np.nextafter(e, -np.inf), np.nextafter(e, np.inf),
                                       [e[0] - 1e-3 * span, e[-1] + 1e-3 * span]]))
    x = np.column_stack([rng.uniform(e[0], e[-1], n) for e in reg.edges_])
    picks = np.column_stack([rng.choice(s, n) for s in special])
    mixed = np.where(rng.random(x.shape) < 0.5, picks, x)
    return np.ascontiguousarray(np.vstack([x, picks, mixed]))


MODELS = {
    "1d": ([5], [7], ()),
    "2d": ([16, 48], [6, 6], (3, 100)),
    "2d-aniso": ([7, 3], [2, 9], (0,)),
    "4d": ([3, 4, 2, 1], [5, 3, 0, 4], (5, 17)),
}


@pytest.mark.parametrize("name", MODELS)
def test_kernel_equals_numpy(name: str) -> None:
    cells, degrees, nan_cells = MODELS[name]
    reg = random_model(cells, degrees, seed=len(name), nan_cells=nan_cells)
    x = probe_points(reg, 2000, seed=1)
    got, ref = reg.predict(x), reg._predict_numpy(x)
    flat, _ = reg._locate(x)
    hits_nan = np.isin(flat, nan_cells)
    assert np.array_equal(np.isnan(ref), hits_nan)
    assert hits_nan.any() == bool(nan_cells) and not hits_nan.all()
    scale = np.max(np.abs(ref[~hits_nan]))
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=RTOL * scale)  # NaN == NaN


def test_cell_location_matches_searchsorted() -> None:
    """Constant polynomials equal to their cell number: the kernel returns the flat cell
    index that numpy's searchsorted(side="right") - 1, clipped, gives, on edges too."""
    reg = random_model([4, 6, 3], [0, 0, 0], seed=3)
    reg.coef_ = np.arange(reg.coef_.shape[0], dtype=np.float64)[:, None]
    x = probe_points(reg, 500, seed=2)
    flat, _ = reg._locate(x)
    np.testing.assert_array_equal(reg.predict(x), flat.astype(np.float64))


def test_single_point_serial_and_parallel_are_bitwise_equal() -> None:
    cells, degrees, nan_cells = MODELS["4d"]
    reg = random_model(cells, degrees, seed=7, nan_cells=nan_cells)
    kernel = reg._kernel()
    x = probe_points(reg, pk.PARALLEL_MIN // 3 + 123, seed=3)  # > PARALLEL_MIN points
    assert len(x) > pk.PARALLEL_MIN
    serial = kernel.predict(x, n_threads=1)
    np.testing.assert_array_equal(kernel.predict(x, n_threads=2), serial)
    blocks = np.empty(len(x))  # small blocks, a ragged last one
    pk.predict_parallel(x, kernel.edges, kernel.offsets, kernel.degrees, kernel.coef, blocks, 37)
    np.testing.assert_array_equal(blocks, serial)
    np.testing.assert_array_equal(reg.predict(x), serial)
    ones = np.array([kernel.one(p) for p in x[:300]])
    np.testing.assert_array_equal(ones, serial[:300])
    with pytest.raises(ValueError, match="length"):
        kernel.one(x[0, :3].copy())
    with pytest.raises(ValueError, match="shape"):
        kernel.predict(x[:, :3])


def test_float32_stored_coefficients(tmp_path) -> None:
    rng = np.random.default_rng(5)
    x = rng.random((3000, 2))
    y = np.exp(x[:, 0]) * np.cos(3 * x[:, 1]) + 4.0
    reg = PiecewiseChebyshevRegressor(cells=[3, 4], degree=[4, 3], grading=1.5,
                                      coef_dtype="float32").fit(x, y)
    xt = probe_points(reg, 1000, seed=4)
    ref = reg._predict_numpy(xt)
    np.testing.assert_allclose(reg.predict(xt), ref, rtol=RTOL, atol=RTOL * np.abs(ref).max())
    reg.save(tmp_path)
    back = PiecewiseChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), reg.predict(xt))


def test_cache_follows_the_learned_state() -> None:
    reg = random_model([3, 2], [2, 2], seed=9)
    x = probe_points(reg, 50, seed=5)
    before = reg.predict(x)
    reg.coef_ = 2.0 * reg.coef_
    np.testing.assert_array_equal(reg.predict(x), 2.0 * before)
    assert "_packed" in vars(reg) and "_packed" not in reg.get_params()


def test_thread_count(monkeypatch) -> None:
    monkeypatch.setenv("ZOO_NUM_THREADS", "1")
    assert pk.resolve_threads(None) == 1
    assert pk.resolve_threads(10**6) == pk.numba.config.NUMBA_NUM_THREADS
    assert pk.resolve_threads(0) == 1


def test_inconsistent_arrays_are_refused() -> None:
    reg = random_model([3, 2], [2, 2], seed=9)
    with pytest.raises(ValueError):
        pk.PiecewiseKernel.build(reg.edges_, reg.degrees_, reg.coef_[:, :-1])
    with pytest.raises(ValueError):
        pk.PiecewiseKernel.build([reg.edges_[0][::-1], reg.edges_[1]], reg.degrees_, reg.coef_)
