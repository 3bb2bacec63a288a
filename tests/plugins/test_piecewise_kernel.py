"""The compiled pwcheb kernel against the numpy design-matrix path.

Tolerance: |kernel - numpy| <= 1e-13 x max |prediction| of the model (the two differ only
in the order of the ~P products summed, each of order the prediction); NaN exactly where
numpy has NaN. Single-point, serial and parallel results are bitwise equal.

The sparse layout (total-degree bases): |sparse - numpy| <= 1e-14 x the sum of |terms| of
the point (summation order only), and bitwise equal to the tensor layout on the
scattered coefficients (the same sums in the same order, less exact zeros).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zoo.plugins.regressors import piecewise_kernel as pk
from zoo.plugins.regressors.piecewise import (
    PiecewiseChebyshevRegressor,
    basis_indices,
    graded_edges,
)

RTOL = 1e-13
#: sparse layout against numpy, relative to the sum of |terms| of a point
TERMS_RTOL = 1e-14


def random_model(cells: list[int], degrees: list[int], seed: int,
                 nan_cells: tuple[int, ...] = (),
                 basis: str = "tensor") -> PiecewiseChebyshevRegressor:
    """A pwcheb model with graded cells on a non-unit box and random decaying
    coefficients (no fit: any learned state the regressor can hold)."""
    rng = np.random.default_rng(seed)
    d = len(cells)
    reg = PiecewiseChebyshevRegressor(cells=cells, degree=degrees, basis=basis)
    lo, width = rng.uniform(-2, 1, d), rng.uniform(0.5, 3, d)
    reg.edges_ = [graded_edges(lo[j], lo[j] + width[j], cells[j], 1.0 + 0.4 * j)
                  for j in range(d)]
    reg.degrees_ = np.asarray(degrees, dtype=np.int64)
    reg.index_ = basis_indices(degrees, basis)
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


def _check_paths_bitwise_equal(reg, parallel, layout: tuple) -> None:
    """Serial, 2-thread, small-block parallel (``parallel(x, edges, offsets, degrees, coef,
    *layout, out, block)``), regressor and single-point predictions are bitwise equal."""
    kernel = reg._kernel()
    x = probe_points(reg, pk.PARALLEL_MIN // 3 + 123, seed=3)  # > PARALLEL_MIN points
    assert len(x) > pk.PARALLEL_MIN
    serial = kernel.predict(x, n_threads=1)
    np.testing.assert_array_equal(kernel.predict(x, n_threads=2), serial)
    blocks = np.empty(len(x))  # small blocks, a ragged last one
    parallel(x, kernel.edges, kernel.offsets, kernel.degrees, kernel.coef, *layout, blocks, 37)
    np.testing.assert_array_equal(blocks, serial)
    np.testing.assert_array_equal(reg.predict(x), serial)
    ones = np.array([kernel.one(p) for p in x[:300]])
    np.testing.assert_array_equal(ones, serial[:300])
    with pytest.raises(ValueError, match="length"):
        kernel.one(x[0, :3].copy())
    with pytest.raises(ValueError, match="shape"):
        kernel.predict(x[:, :3])


def test_single_point_serial_and_parallel_are_bitwise_equal() -> None:
    cells, degrees, nan_cells = MODELS["4d"]
    reg = random_model(cells, degrees, seed=7, nan_cells=nan_cells)
    _check_paths_bitwise_equal(reg, pk.predict_parallel, ())


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


# -- the sparse layout (basis="total") ---------------------------------------------------

TOTAL_MODELS = {
    "1d": ([5], [9], (2,)),
    "2d": ([6, 9], [8, 8], (3, 40)),
    "3d-aniso": ([3, 4, 2], [6, 2, 9], (0,)),
    "4d": ([3, 4, 2, 1], [7, 5, 0, 4], (5, 17)),
    "4d-shipped-degrees": ([2, 3, 1, 1], [12, 12, 8, 8], (4,)),
}


def sparse_kernel(reg: PiecewiseChebyshevRegressor) -> pk.SparsePiecewiseKernel:
    return pk.SparsePiecewiseKernel.build(reg.edges_, reg.degrees_, reg.index_, reg.coef_)


def sum_of_terms(reg: PiecewiseChebyshevRegressor, x: np.ndarray) -> np.ndarray:
    """Per point, sum_m |coef[cell, m] basis_m(x)|: the scale of the summation error."""
    flat, u = reg._locate(x)
    return np.einsum("np,np->n", np.abs(reg._design(u)), np.abs(reg.coef_[flat]))


@pytest.mark.parametrize("name", TOTAL_MODELS)
def test_sparse_kernel_equals_tensor_layout_and_numpy(name: str) -> None:
    cells, degrees, nan_cells = TOTAL_MODELS[name]
    reg = random_model(cells, degrees, seed=len(name), nan_cells=nan_cells, basis="total")
    assert len(cells) == 1 or reg.index_.shape[0] < np.prod(np.asarray(degrees) + 1)
    x = probe_points(reg, 1000, seed=6)  # edges, ulps either side, outside the box
    got = sparse_kernel(reg).predict(x)
    tensor = pk.PiecewiseKernel.build(reg.edges_, reg.degrees_, reg._tensor_coef()).predict(x)
    ref = reg._predict_numpy(x)
    flat, _ = reg._locate(x)
    hits_nan = np.isin(flat, nan_cells)
    assert np.array_equal(np.isnan(got), hits_nan) and hits_nan.any() and not hits_nan.all()
    np.testing.assert_array_equal(got, tensor)  # the same sums, in the same order
    ok = ~hits_nan
    assert np.all(np.abs(got[ok] - ref[ok]) <= TERMS_RTOL * sum_of_terms(reg, x[ok]))


def test_regressor_picks_the_layout() -> None:
    """basis="total" predicts in the sparse layout; the tensor basis, and a total-degree
    basis that is the full tensor (1D), in the tensor one; a changed basis repacks."""
    reg = random_model([3, 4], [5, 3], seed=2, basis="total")
    assert isinstance(reg._kernel(), pk.SparsePiecewiseKernel)
    x = probe_points(reg, 300, seed=8)
    sparse = reg.predict(x)
    reg.basis = "tensor"  # the same coefficients, scattered into the tensor layout
    assert isinstance(reg._kernel(), pk.PiecewiseKernel)
    np.testing.assert_array_equal(reg.predict(x), sparse)
    assert isinstance(random_model([3, 4], [5, 3], seed=2)._kernel(), pk.PiecewiseKernel)
    one_d = random_model([4], [6], seed=3, basis="total")
    assert isinstance(one_d._kernel(), pk.PiecewiseKernel)


def test_sparse_single_point_serial_and_parallel_are_bitwise_equal() -> None:
    cells, degrees, nan_cells = TOTAL_MODELS["4d"]
    reg = random_model(cells, degrees, seed=7, nan_cells=nan_cells, basis="total")
    kernel = reg._kernel()
    assert isinstance(kernel, pk.SparsePiecewiseKernel)
    _check_paths_bitwise_equal(reg, pk.predict_sparse_parallel, (kernel.seglen, kernel.gather))


def test_nested_layout_by_hand() -> None:
    """Total degree 2 in 3D: level 0 orders the tails (k1, k2) by their largest k0, so
    (0, 2) comes after (1, 0); level 1 regathers them by k1."""
    index = basis_indices([2, 2, 2], "total")  # lexicographic: (0,0,0), (0,0,1), ...
    columns, seglen, gather = pk.nested_layout(index, np.array([2, 2, 2]))
    np.testing.assert_array_equal(columns, [0, 1, 3, 2, 4, 5, 6, 7, 8, 9])
    np.testing.assert_array_equal(seglen, [6, 3, 1, 3, 2, 1, 1, 1, 1])
    np.testing.assert_array_equal(gather, [0, 1, 3, 2, 4, 5, 0, 1, 2])


def test_downward_closed_sets_only() -> None:
    assert pk.downward_closed(basis_indices([3, 0, 2], "tensor"))
    assert pk.downward_closed(basis_indices([4, 6, 2], "total"))
    hole = basis_indices([2, 2], "total")[1:]  # without (0, 0)
    assert not pk.downward_closed(hole)
    assert not pk.downward_closed(np.array([[0, 0], [0, 0]]))  # a duplicate
    assert not pk.downward_closed(np.array([[0, -1], [0, 0]]))
    reg = random_model([3, 2], [4, 4], seed=1, basis="total")
    with pytest.raises(ValueError, match="downward"):
        pk.SparsePiecewiseKernel.build(reg.edges_, reg.degrees_, reg.index_[1:],
                                       reg.coef_[:, 1:])
    with pytest.raises(ValueError, match="within the degrees"):
        pk.nested_layout(reg.index_, np.array([4, 3]))
    with pytest.raises(ValueError, match="fit together"):
        pk.SparsePiecewiseKernel.build(reg.edges_, reg.degrees_, reg.index_, reg.coef_[1:])


def test_sparse_layout_takes_any_order_of_the_index() -> None:
    """The same total-degree set stored in another order is the same model."""
    reg = random_model([3, 2, 2], [5, 4, 3], seed=4, nan_cells=(1,), basis="total")
    x = probe_points(reg, 300, seed=9)
    before = reg.predict(x)
    order = np.random.default_rng(0).permutation(reg.index_.shape[0])
    reg.index_, reg.coef_ = reg.index_[order], reg.coef_[:, order]
    assert isinstance(reg._kernel(), pk.SparsePiecewiseKernel)
    np.testing.assert_array_equal(reg.predict(x), before)


_BUNDLED_L = (Path(__file__).resolve().parents[2] / "registry" / "bundled" / "artifacts"
              / "qqbar-zz-4l" / "4d" / "f11" / "L--")
# the newest bundled version (re-published with uncertainties: the same coefficients)
BUNDLED_PART = (max((p for p in _BUNDLED_L.iterdir() if p.name.isdigit()), key=lambda p: int(p.name)) / "model" / "part00"
                if _BUNDLED_L.is_dir() else _BUNDLED_L / "absent")


def test_a_published_total_degree_part_predicts_as_before() -> None:
    """A shipped artifact (degrees (12, 12, 8, 8), float32 coefficients) loads as it is
    stored and predicts what the tensor layout predicted."""
    if not BUNDLED_PART.is_dir():
        pytest.skip("the bundled 4D f11 L-- artifact is absent")
    reg = PiecewiseChebyshevRegressor.load(BUNDLED_PART, {"basis": "total"})
    assert isinstance(reg._kernel(), pk.SparsePiecewiseKernel)
    x = probe_points(reg, 500, seed=10)
    before = pk.PiecewiseKernel.build(reg.edges_, reg.degrees_, reg._tensor_coef()).predict(x)
    np.testing.assert_array_equal(reg.predict(x), before)
