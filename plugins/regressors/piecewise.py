"""``pwcheb``: piecewise tensor-product Chebyshev least squares on a graded grid (numpy).

A global polynomial converges slowly where the function is steep in a thin layer (the
forward logarithms near |cos theta| = 1 at high energy, the threshold region). This
regressor splits the input box into a grid of cells, each axis ``j`` cut into
``cells[j]`` intervals whose edges are graded towards both ends of the axis,

    edge_k = lo + (hi - lo) * ((1 - g) * k / n + g * (1 - cos(pi k / n)) / 2),

(``g = grading``: 0 uniform, 1 Chebyshev-clustered), and fits in every cell its own
tensor polynomial ``sum_k c_k prod_j T_{k_j}(u_j)`` (``k_j <= degree[j]``, ``u`` the
cell's coordinates mapped onto [-1, 1]) by least squares on the training points inside
it (normal equations with a relative ridge, Cholesky, two steps of iterative refinement). Cells
are independent: the fit is not continuous across cell faces, which costs nothing in
relative precision. Every cell holding training points needs at least as many as it has
coefficients (fewer is an error that says how to fix it); a cell holding none (outside the
data's support, e.g. beyond the fundamental domain of a symmetry fold) gets NaN
coefficients, so a prediction there is NaN rather than an invented number.

``robust = k`` (optional): each cell is first fitted by least absolute deviations
(iteratively reweighted least squares, 8 passes), which a gross outlier cannot pull
towards itself; training points whose residual there exceeds k times the cell's median
absolute residual (and 1e-12 of the target scale) are dropped before the final fit.
Generated amplitudes are smooth, so their residuals are the approximation error; a point
k = 1000 times off is a wrong label (e.g. a helicity amplitude projected in double
precision where it is 10^-9 of the others, at the forward faces), and in a cell of ~100
points one such point spoils the whole cell. ``n_outliers_`` counts them.

``basis = "total"`` keeps only the multi-indices of (anisotropic) total degree at most 1,
``sum_j k_j / degree[j] <= 1``, instead of the full tensor product: for a smooth function the
dropped mixed high-degree terms are the small ones, so at the same number of coefficients
(disk size) the degrees, or the cells, can be much higher (4D, degrees 8: 495 instead of
6561 coefficients per cell). Prediction runs the sparse layout of the compiled kernel, which
works on the stored coefficients only (4D, degrees (12, 12, 8, 8): 865 + 270
multiply-adds per point instead of the 13689 of the tensor layout; same results, see
:mod:`.piecewise_kernel`).

Stored as ``pwcheb.safetensors``: the edges of every axis, the degrees, the basis
multi-indices and the
coefficients (cells x basis) in ``coef_dtype``: float64, or float32 (half the disk for the
same cells; the fitted coefficients are rounded to float32 once at the end of ``fit``, so
the model that is scored is the one that is stored; a rounding of 6e-8 relative per
coefficient, far below the 1e-3 that matters here). Prediction always runs in float64.

Uncertainty (``predict_uncertainty``): one scale per cell, ``cell_scale_`` (cells,) float64,
``s(x) = cell_scale_[cell of x]``, an estimate of the RMS of ``|prediction - target|`` at
points the cell's fit never saw. ``fit`` sets it from the leave-one-out (PRESS) residuals of
each cell's least-squares fit, exact without refitting: the residual of point i with point i
left out is ``e_i / (1 - h_ii)``, ``h_ii = w_i a_i^T (A^T W A + lambda)^-1 a_i`` the diagonal
of the hat matrix (the ridge lambda included, so it is the leave-one-out residual of the
ridge fit), plus the change of the prediction by the float32 rounding of the coefficients.
A cell with barely more points than coefficients gets h_ii near 1 and a large scale, as it
should. :meth:`set_cell_scale` replaces the scales by the per-cell RMS residual on held-out
points (how scales are given to a model whose training data is gone), optionally on a
refinement of the cells (``refine``: every cell cut into equal parts per axis, the grid kept
as ``scale_edges_``), since the error varies within a cell (it rises towards a face where
the function has a layer the polynomial does not resolve); a refined cell without enough
points gets its cell's scale, a cell without enough the largest scale of the others. Stored in
``pwcheb.safetensors`` as ``cell_scale`` (float32 when the values are, as
:meth:`set_cell_scale` rounds them; and ``scale_edges_j``); a file without it loads with
``has_uncertainty`` False. The scale is constant within a cell (it does not follow the
error's variation inside the cell) and uncalibrated: the core multiplies it by the
calibration scale of the card.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.errors import ArtifactError, ConfigError, InputError, NumericalError
from zoo.hookspecs import hookimpl
from zoo.regressor import Regressor

from .chebyshev import chebyshev_table
from .common import (
    CoefficientCount,
    check_fitted,
    check_x,
    check_xy,
    load_arrays,
    save_arrays,
    validation_split,
)

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import Graph

WEIGHTS_FILE = "pwcheb.safetensors"
#: reweighting passes of the least-absolute-deviations fit that finds outliers (``robust``)
ROBUST_PASSES = 8
#: polynomial spaces of a cell
BASES = ("tensor", "total")


def basis_indices(degree: list[int], basis: str) -> np.ndarray:
    """(P, D) int64 multi-indices of a cell's basis, row-major in the tensor layout: all
    ``k_j <= degree[j]`` ("tensor"), or those with ``sum_j k_j / degree[j] <= 1`` ("total";
    an axis of degree 0 contributes nothing)."""
    idx = np.asarray(list(itertools.product(*(range(k + 1) for k in degree))),
                     dtype=np.int64).reshape(-1, len(degree))
    if basis == "total":
        d = np.maximum(np.asarray(degree, dtype=np.float64), 1.0)
        idx = idx[(idx / d).sum(axis=1) <= 1.0 + 1e-9]
    return idx
#: precisions the coefficients may be stored in
COEF_DTYPES = ("float64", "float32")


def graded_edges(lo: float, hi: float, n: int, grading: float) -> np.ndarray:
    """``n + 1`` cell edges on [lo, hi], geometrically graded towards both ends.

    Cell widths grow by the factor ``grading`` (>= 1) from each end to the middle
    (1: uniform); with n cells the end cells are ``(r - 1) / (2 (r^(n/2) - 1))`` of the axis
    (r = 2, n = 16: 0.2%), the geometric grading that suits logarithmic layers at the ends.
    """
    r = float(grading)
    m, odd = divmod(int(n), 2)
    side = r ** np.arange(m, dtype=np.float64)
    widths = np.concatenate([side, [r ** m] if odd else [], side[::-1]])
    t = np.concatenate([[0.0], np.cumsum(widths)]) / widths.sum()
    t[-1] = 1.0
    return lo + (hi - lo) * t


def _per_axis(value: Any, dimension: int, what: str, kind: type = int) -> list:
    vals = [kind(value)] * dimension if np.ndim(value) == 0 else [kind(v) for v in value]
    if len(vals) != dimension:
        raise ConfigError(f"{what} has {len(vals)} entries for {dimension} input columns; "
                          f"give one integer or one per column")
    return vals


class PiecewiseChebyshevRegressor(CoefficientCount, Regressor):
    """Piecewise tensor-product Chebyshev least squares (see the module docstring).

    Parameters: ``cells`` (cells per axis: int or one per column); ``degree`` (polynomial
    degree per axis in each cell: int or one per column); ``grading`` (ratio of
    neighbouring cell widths, from both ends of an axis to its middle; 1 uniform; one
    number or one per column); ``ridge`` (Tikhonov weight relative to
    the mean diagonal of each cell's normal matrix); ``chunk`` (rows per block);
    ``robust`` (None, or k > 1: drop the points whose residual in a least-absolute-
    deviations fit of their cell is above k times the median, then fit); ``coef_dtype``
    (``"float64"`` or ``"float32"``: precision of the stored coefficients); ``basis``
    (``"tensor"``, or ``"total"``: multi-indices with ``sum_j k_j / degree[j] <= 1``).
    """

    name = "pwcheb"
    version = "1"

    def __init__(self, cells: int | list[int] = 8, degree: int | list[int] = 6,
                 grading: float | list[float] = 1.5, ridge: float = 1e-12, chunk: int = 50_000,
                 robust: float | None = None, coef_dtype: str = "float64",
                 basis: str = "tensor") -> None:
        self.cells = cells
        self.degree = degree
        self.grading = grading
        self.ridge = ridge
        self.chunk = chunk
        self.robust = robust
        self.coef_dtype = coef_dtype
        self.basis = basis

    # -- geometry ------------------------------------------------------------------------
    def _check(self, dimension: int) -> tuple[list[int], list[int], list[float]]:
        cells = _per_axis(self.cells, dimension, "cells")
        degree = _per_axis(self.degree, dimension, "degree")
        grading = _per_axis(self.grading, dimension, "grading", float)
        if min(cells) < 1 or min(degree) < 0 or max(degree) > 255:
            raise ConfigError(f"cells must be >= 1 and degree in [0, 255], got {cells}, {degree}")
        if not all(1.0 <= g <= 10.0 for g in grading):
            raise ConfigError(f"grading must be in [1, 10], got {self.grading!r}")
        if float(self.ridge) < 0 or int(self.chunk) < 1:
            raise ConfigError("ridge must be >= 0 and chunk >= 1")
        if self.robust is not None and not float(self.robust) > 1.0:
            raise ConfigError(f"robust must be None or a factor > 1 (e.g. 1000), got {self.robust!r}")
        if self.basis not in BASES:
            raise ConfigError(f"basis must be one of {', '.join(BASES)}, got {self.basis!r}")
        if self.coef_dtype not in COEF_DTYPES:
            raise ConfigError(f"coef_dtype must be one of {', '.join(COEF_DTYPES)}, "
                              f"got {self.coef_dtype!r}")
        return cells, degree, grading

    def _locate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell index (N,) and local coordinates u in [-1, 1] (N, D) of points x."""
        n, d = x.shape
        flat = np.zeros(n, dtype=np.int64)
        u = np.empty_like(x)
        for j in range(d):
            e = self.edges_[j]
            k = np.clip(np.searchsorted(e, x[:, j], side="right") - 1, 0, len(e) - 2)
            a, b = e[k], e[k + 1]
            u[:, j] = (2.0 * x[:, j] - (a + b)) / (b - a)
            flat = flat * (len(e) - 1) + k
        return flat, u

    def _design(self, u: np.ndarray) -> np.ndarray:
        """(N, P) tensor Chebyshev basis at local coordinates u."""
        tables = [chebyshev_table(u[:, j], int(self.degrees_[j]))
                  for j in range(u.shape[1])]
        a = np.ones((u.shape[0], self.index_.shape[0]))
        for j, t in enumerate(tables):
            a *= t[self.index_[:, j]].T
        return a

    # -- estimator -----------------------------------------------------------------------
    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False,
            progress=False, sample_weight=None) -> PiecewiseChebyshevRegressor:
        """Fit on the union of (x, y) and the validation rows (no early stopping here).

        ``sample_weight`` (N,) > 0, optional: weighted least squares, minimising
        ``sum w (pred - y)^2`` (not with validation rows)."""
        if sample_weight is None:
            x, y, x_val, y_val = validation_split(x, y, x_val, y_val, 0)
            x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
        else:
            x, y = check_xy(x, y)
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if x_val is not None or sample_weight.shape != y.shape:
                raise InputError(f"sample_weight must have shape {y.shape}, one weight per "
                                 f"training row (and no validation rows), got "
                                 f"{sample_weight.shape}")
            if not (np.isfinite(sample_weight).all() and (sample_weight > 0).all()):
                raise InputError("sample_weight must be finite and > 0; drop zero-weight rows "
                                 "instead")
        cells, degree, grading = self._check(x.shape[1])
        lo, hi = x.min(axis=0), x.max(axis=0)
        hi = np.where(hi > lo, hi, lo + 1.0)
        self.edges_ = [graded_edges(float(lo[j]), float(hi[j]), cells[j], grading[j])
                       for j in range(x.shape[1])]
        self.degrees_ = np.asarray(degree, dtype=np.int64)
        self.index_ = basis_indices(degree, self.basis)
        n_cells, p = int(np.prod(cells)), self.index_.shape[0]
        flat, u = self._locate(x)
        counts = np.bincount(flat, minlength=n_cells)
        thin = np.flatnonzero((counts > 0) & (counts < p))
        if thin.size:
            worst = int(thin[np.argmin(counts[thin])])
            raise InputError(
                f"cell {worst} of {n_cells} holds {int(counts[worst])} training points but its "
                f"polynomial has {p} coefficients; train on more points, or use fewer cells, "
                "a lower degree, or less grading")
        order = np.argsort(flat, kind="stable")
        flat, u, y = flat[order], u[order], y[order]
        w = None if sample_weight is None else sample_weight[order]
        bounds = np.concatenate([[0], np.cumsum(counts)])
        step = int(self.chunk)
        coef = np.empty((n_cells, p))
        scale = float(np.max(np.abs(y))) if y.size else 0.0
        self.n_outliers_ = 0
        press = np.full(n_cells, np.nan)
        for c in range(n_cells):
            if counts[c] == 0:  # outside the data's support (e.g. beyond a symmetry fold)
                coef[c] = np.nan
                continue
            uc, yc = u[bounds[c]:bounds[c + 1]], y[bounds[c]:bounds[c + 1]]
            wc = None if w is None else w[bounds[c]:bounds[c + 1]]
            if self.robust is not None:
                keep = self._inliers(c, uc, yc, p, step, scale)
                self.n_outliers_ += int(keep.size - keep.sum())
                uc, yc = uc[keep], yc[keep]
                wc = None if wc is None else wc[keep]
            coef[c], cho = self._fit_cell(c, uc, yc, p, step, weights=wc, factor=True)
            press[c] = self._press_scale(uc, yc, coef[c], cho, step, wc)
        # rounded once to the stored precision: what is scored is what is saved
        self.coef_ = coef.astype(self.coef_dtype).astype(np.float64)
        self.cell_scale_ = press
        self.scale_edges_ = None
        self.n_features_ = int(x.shape[1])
        return self

    def _press_scale(self, u: np.ndarray, y: np.ndarray, coef: np.ndarray, cho: np.ndarray,
                     step: int, weights: np.ndarray | None) -> float:
        """RMS leave-one-out residual of one cell's fit (module docstring), the rounding of
        the coefficients to ``coef_dtype`` included."""
        from scipy.linalg import solve_triangular

        rounded = coef.astype(self.coef_dtype).astype(np.float64)
        wts = None if weights is None else weights / weights.max()
        total = 0.0
        for s0 in range(0, len(y), step):
            a = self._design(u[s0:s0 + step])
            e = y[s0:s0 + step] - a @ coef
            v = solve_triangular(cho, a.T, lower=True)  # L^-1 a_i, column i
            h = np.einsum("pn,pn->n", v, v)
            if wts is not None:
                h = h * wts[s0:s0 + step]
            loo = e / np.maximum(1.0 - h, 1e-12) + a @ (coef - rounded)
            total += float(loo @ loo)
        return float(np.sqrt(total / len(y)))

    def _fit_cell(self, c: int, u: np.ndarray, y: np.ndarray, p: int, step: int,
                  weights: np.ndarray | None = None, factor: bool = False) -> Any:
        """(Weighted) least squares of one cell: normal equations, Cholesky, two refinement
        steps. With ``factor``: (coefficients, lower Cholesky factor of the regularised
        normal matrix)."""
        pieces = [(s0, min(s0 + step, len(y))) for s0 in range(0, len(y), step)]
        wts = None if weights is None else weights / weights.max()

        def weighted(a, s0, s1):
            return a if wts is None else a * wts[s0:s1, None]

        gram, rhs = np.zeros((p, p)), np.zeros(p)
        for s0, s1 in pieces:
            a = self._design(u[s0:s1])
            aw = weighted(a, s0, s1)
            gram += aw.T @ a
            rhs += aw.T @ y[s0:s1]
        lam = float(self.ridge) * np.trace(gram) / p
        gram[np.diag_indices(p)] += lam
        try:
            cho = np.linalg.cholesky(gram)
        except np.linalg.LinAlgError:
            raise NumericalError(
                f"cell {c}: its normal equations are singular (points on a lower-"
                "dimensional set?); raise ridge, or lower the degree") from None

        from scipy.linalg import solve_triangular

        def solve(b):  # two triangular solves with the Cholesky factor: O(p^2), not O(p^3)
            return solve_triangular(cho, solve_triangular(cho, b, lower=True), lower=True,
                                    trans="T")

        coef = solve(rhs)
        for _ in range(2):  # iterative refinement against the normal equations' rounding
            r = -lam * coef
            for s0, s1 in pieces:
                a = self._design(u[s0:s1])
                r += weighted(a, s0, s1).T @ (y[s0:s1] - a @ coef)
            coef += solve(r)
        return (coef, cho) if factor else coef

    def _inliers(self, c: int, u: np.ndarray, y: np.ndarray, p: int, step: int,
                 scale: float) -> np.ndarray:
        """The points of one cell that are not wrong labels: residuals of a least-absolute-
        deviations fit (iteratively reweighted least squares; unlike least squares it is not
        pulled towards a gross outlier, so the outlier cannot hide behind the residuals it
        causes) at most ``robust`` times their median."""
        w = np.ones(len(y))
        floor = 1e-13 * max(scale, 1e-300)
        for _ in range(ROBUST_PASSES):
            coef = self._fit_cell(c, u, y, p, step, weights=w)
            res = np.abs(y - self._predict_cell(u, coef, step))
            w = 1.0 / np.maximum(res, floor)
        cut = max(float(self.robust) * float(np.median(res)), 1e-12 * scale)
        keep = res <= cut
        return keep if keep.sum() >= p else np.ones(len(y), dtype=bool)

    def _predict_cell(self, u: np.ndarray, coef: np.ndarray, step: int) -> np.ndarray:
        return np.concatenate([self._design(u[s0:s0 + step]) @ coef
                               for s0 in range(0, len(u), step)])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions at x (N, D) by the compiled kernel (:mod:`.piecewise_kernel`), on
        ``$ZOO_NUM_THREADS`` threads when set, else the idle physical cores
        (:func:`zoo.runtime.threads.default_threads`); NaN in empty cells."""
        check_fitted(self, "coef_")
        x = check_x(x, self.n_features_)
        return self._kernel().predict(x)

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None):
        """The compiled kernel (:mod:`.piecewise_kernel`), backend ``"numba"``: batches on
        ``n_threads`` and ``one`` point per call (bitwise the batch result)."""
        from zoo.errors import UnsupportedModelError
        from zoo.runtime.inference import Predictor

        check_fitted(self, "coef_")
        if backend not in ("auto", "native", "numba"):
            raise UnsupportedModelError(f"backend {backend!r}: pwcheb offers 'auto', 'native' "
                                        "and 'numba' (the same compiled kernel)")
        kernel = self._kernel()
        d = int(self.n_features_)

        def batch(x: np.ndarray) -> np.ndarray:
            return kernel.predict(check_x(x, d), n_threads)

        return Predictor(batch, d, "numba", one=kernel.one)

    # -- uncertainty -----------------------------------------------------------------------
    @property
    def has_uncertainty(self) -> bool:
        """Whether per-cell scales are known (fitted here, set, or stored)."""
        return hasattr(self, "coef_") and getattr(self, "cell_scale_", None) is not None

    def cell_index(self, x: np.ndarray, edges: list[np.ndarray] | None = None) -> np.ndarray:
        """Flat cell index (N,) int64 of validated points x (N, D) on the grid ``edges``
        (default: the fit's cells)."""
        flat = np.zeros(x.shape[0], dtype=np.int64)
        for j, e in enumerate(self.edges_ if edges is None else edges):
            k = np.clip(np.searchsorted(e, x[:, j], side="right") - 1, 0, len(e) - 2)
            flat = flat * (len(e) - 1) + k
        return flat

    def scale_edges(self) -> list[np.ndarray]:
        """The grid of ``cell_scale_``: the fit's cells, or their refinement by
        :meth:`set_cell_scale` (``scale_edges_``)."""
        return getattr(self, "scale_edges_", None) or self.edges_

    def predict_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(x), cell_scale_[cell of x])``, both (N,) float64 (module docstring; NaN
        in cells without data)."""
        check_fitted(self, "coef_")
        if not self.has_uncertainty:
            super().predict_uncertainty(x)
        x = check_x(x, self.n_features_)
        y = self._kernel().predict(x)
        scale = np.asarray(self.cell_scale_, dtype=np.float64)
        return y, scale[self.cell_index(x, self.scale_edges())]

    def set_cell_scale(self, x: np.ndarray, y: np.ndarray, *, min_points: int = 8,
                       refine: int | list[int] = 1, statistic: str = "rms",
                       cuts: dict[int, list[float]] | None = None) -> np.ndarray:
        """Set ``cell_scale_`` to the RMS of ``predict - y`` over the held-out points (x, y)
        in each cell of the fit's grid refined ``refine`` times per axis (every cell cut into
        ``refine[j]`` equal parts along axis j: the error varies within a fit cell, e.g.
        towards a face). A refined cell with fewer than ``min_points`` of them gets the RMS
        of its fit cell, or, with fewer there too, the largest scale of the others. Returns
        the counts per refined cell. ``statistic``: ``"rms"`` of the residuals, or ``"max"``
        (their largest magnitude: an envelope, for errors with heavy tails within a cell).

        ``cuts`` (axis -> positions): slabs of an axis whose error differs from the cell's in
        *every* cell, e.g. towards an edge of the domain (light or heavy bosons), with too few
        points per cell to resolve them: the grid is also cut there, and each slab's scale is
        the refined cell's times a factor pooled over all cells, the RMS of (residual / scale
        of its refined cell) over the slab's points divided by that over all points (1 for a
        slab with fewer than ``MIN_SLAB_POINTS``); factors of several axes multiply."""
        check_fitted(self, "coef_")
        if statistic not in ("rms", "max"):
            raise ConfigError(f"statistic must be 'rms' or 'max', got {statistic!r}")
        x, y = check_xy(x, y)
        if x.shape[1] != self.n_features_:
            raise InputError(f"x has {x.shape[1]} columns, the model takes {self.n_features_}")
        if int(min_points) < 1:
            raise ConfigError(f"min_points must be >= 1, got {min_points!r}")
        ref = _per_axis(refine, self.n_features_, "refine")
        if min(ref) < 1 or max(ref) > 64:
            raise ConfigError(f"refine must be in [1, 64] per axis, got {refine!r}")
        edges = [np.concatenate([(e[:-1, None] + np.diff(e)[:, None] * np.arange(k) / k)
                                 .reshape(-1), e[-1:]]) for e, k in zip(self.edges_, ref)]
        r = self._kernel().predict(x) - y

        def rms(flat, n):
            counts = np.bincount(flat, minlength=n)
            if statistic == "max":
                top = np.zeros(n)
                np.maximum.at(top, flat, np.abs(r))
                return top, counts
            ss = np.bincount(flat, weights=r * r, minlength=n)
            return np.sqrt(ss / np.maximum(counts, 1)), counts

        n_fit = self.coef_.shape[0]
        fine, counts = rms(self.cell_index(x, edges), int(np.prod([len(e) - 1 for e in edges])))
        coarse, c_counts = rms(self.cell_index(x), n_fit)
        if not (c_counts >= int(min_points)).any():
            raise InputError(f"no cell holds {min_points} of the {len(y)} held-out points; "
                             "give more points (spread over the cells)")
        coarse[c_counts < int(min_points)] = float(np.nanmax(coarse[c_counts >= int(min_points)]))
        coarse[np.isnan(self.coef_[:, 0])] = np.nan  # no data at fit time: no prediction
        # the fit cell of every refined cell: its centre's cell
        centres = np.stack(np.meshgrid(*[0.5 * (e[1:] + e[:-1]) for e in edges],
                                       indexing="ij"), -1).reshape(-1, len(edges))
        parent = self.cell_index(centres)
        thin = counts < int(min_points)
        fine[thin] = coarse[parent[thin]]
        fine[np.isnan(coarse[parent])] = np.nan
        if cuts:
            fine, edges = _slab_factors(self, x, r, edges, fine, cuts)
        # a scale needs no more digits than float32's (half the disk of a fine table)
        self.cell_scale_ = fine.astype(np.float32).astype(np.float64)
        self.scale_edges_ = edges if max(ref) > 1 or cuts else None
        return counts

    def onnx_uncertainty_nodes(self, graph: Graph, x: str) -> str:
        """``cell_scale_`` of each point's cell: (N,) (:func:`.piecewise_onnx.pwcheb_sigma_nodes`)."""
        from .piecewise_onnx import pwcheb_sigma_nodes

        check_fitted(self, "coef_")
        if not self.has_uncertainty:
            return super().onnx_uncertainty_nodes(graph, x)
        return pwcheb_sigma_nodes(graph, self, x)

    def onnx_max_rows(self) -> int:
        """Rows per pass of the ONNX graph: its per-row basis arrays kept to ~128 MB
        (:func:`.piecewise_onnx.basis_bytes`)."""
        from .piecewise_onnx import basis_bytes, max_rows

        check_fitted(self, "coef_")
        return max_rows(basis_bytes(self) + 8 * int(np.asarray(self.index_).shape[0]))

    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """The piecewise polynomial in float64 arithmetic: (N, 1)
        (:func:`.piecewise_onnx.pwcheb_nodes`)."""
        from .piecewise_onnx import pwcheb_nodes

        check_fitted(self, "coef_")
        return pwcheb_nodes(graph, self, x)

    def _kernel(self) -> Any:
        """The learned state packed for a compiled kernel, cached in ``_packed`` (not
        learned state: it is rebuilt whenever coef_, index_, degrees_ or edges_ are replaced,
        or basis changes): the sparse layout when :meth:`_sparse_layout`, else the tensor
        layout."""
        state = (self.coef_, self.index_, self.degrees_, *self.edges_)
        cached = getattr(self, "_packed", None)
        if (cached is None or cached[1] != self.basis or len(cached[0]) != len(state)
                or any(a is not b for a, b in zip(cached[0], state))):
            # numba: imported on first use
            from .piecewise_kernel import PiecewiseKernel, SparsePiecewiseKernel

            if self._sparse_layout():
                kernel = SparsePiecewiseKernel.build(self.edges_, self.degrees_, self.index_,
                                                     self.coef_)
            else:
                kernel = PiecewiseKernel.build(self.edges_, self.degrees_, self._tensor_coef())
            cached = (state, self.basis, kernel)
            self._packed = cached
        return cached[2]

    def _sparse_layout(self) -> bool:
        """Whether to predict in the sparse layout of :mod:`.piecewise_kernel`: basis
        "total" with an index that is not the full tensor in its order (the tensor kernel
        would then run on coefficients scattered into prod(degrees + 1) columns) and is
        downward closed (the total-degree sets of :func:`basis_indices` are)."""
        from .piecewise_kernel import downward_closed

        return (self.basis == "total" and not self._full_tensor()
                and downward_closed(self.index_))

    def _full_tensor(self) -> bool:
        """Whether index_ is the full tensor basis in its row-major order."""
        n_full = int(np.prod(self.degrees_ + 1))
        return (self.index_.shape[0] == n_full and np.array_equal(
            np.ravel_multi_index(tuple(self.index_.T), tuple(self.degrees_ + 1)),
            np.arange(n_full)))

    def _tensor_coef(self) -> np.ndarray:
        """coef_ in the full tensor layout of the kernel (zeros where the basis has no
        multi-index)."""
        if self._full_tensor():  # already the full tensor, in its order
            return self.coef_
        full = np.zeros((self.coef_.shape[0], int(np.prod(self.degrees_ + 1))))
        full[:, np.ravel_multi_index(tuple(self.index_.T), tuple(self.degrees_ + 1))] = self.coef_
        return full

    def _predict_numpy(self, x: np.ndarray) -> np.ndarray:
        """The reference path: (chunk, P) design matrices in numpy (x already validated)."""
        out = np.empty(x.shape[0])
        step = int(self.chunk)
        for s in range(0, x.shape[0], step):
            flat, u = self._locate(x[s:s + step])
            out[s:s + len(flat)] = np.einsum("np,np->n", self._design(u), self.coef_[flat])
        return out

    # -- storage -------------------------------------------------------------------------
    def save(self, directory: Path) -> list[str]:
        check_fitted(self, "coef_")
        # the multi-indices are small integers: int16 (a total-degree basis of 8 parts
        # would otherwise spend ~160 kB of a 2 MB budget on int64 indices)
        arrays = {"coef": self.coef_.astype(self.coef_dtype), "index": self.index_.astype(np.int16),
                  "degrees": self.degrees_}
        arrays.update({f"edges_{j}": e for j, e in enumerate(self.edges_)})
        if getattr(self, "cell_scale_", None) is not None:
            scale = np.asarray(self.cell_scale_, dtype=np.float64)
            # scales set on held-out points are float32 values (set_cell_scale): stored so
            narrow = scale.astype(np.float32)
            arrays["cell_scale"] = (narrow if np.array_equal(narrow.astype(np.float64), scale,
                                                            equal_nan=True) else scale)
            if getattr(self, "scale_edges_", None):
                arrays.update({f"scale_edges_{j}": e for j, e in enumerate(self.scale_edges_)})
        return save_arrays(self, directory, WEIGHTS_FILE, arrays,
                           n_features=str(self.n_features_))

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> PiecewiseChebyshevRegressor:
        t, meta, path = load_arrays(directory, WEIGHTS_FILE)
        try:
            d = int(meta["n_features"])
            reg = cls(**params)
            reg.coef_ = t["coef"].astype(np.float64)
            reg.index_ = t["index"].astype(np.int64)
            reg.degrees_ = t["degrees"].astype(np.int64)
            reg.edges_ = [t[f"edges_{j}"].astype(np.float64) for j in range(d)]
            if "cell_scale" in t:  # artifacts saved before the uncertainty have none
                reg.cell_scale_ = t["cell_scale"].astype(np.float64)
                if "scale_edges_0" in t:
                    reg.scale_edges_ = [t[f"scale_edges_{j}"].astype(np.float64)
                                        for j in range(d)]
        except (KeyError, ValueError) as exc:
            raise ArtifactError(f"cannot read {path}: {exc}") from exc
        n_cells = int(np.prod([len(e) - 1 for e in reg.edges_]))
        if (reg.coef_.shape != (n_cells, reg.index_.shape[0]) or reg.index_.shape[1] != d
                or reg.degrees_.shape != (d,) or reg.index_.min(initial=0) < 0
                or np.any(reg.index_ > reg.degrees_)
                or len(np.unique(reg.index_, axis=0)) != len(reg.index_)
                or any(np.any(np.diff(e) <= 0) for e in reg.edges_)
                or (getattr(reg, "cell_scale_", None) is not None
                    and reg.cell_scale_.shape != (int(np.prod(
                        [len(e) - 1 for e in reg.scale_edges()])),))):
            raise ArtifactError(f"{path}: edges, degrees and coefficients do not fit together")
        reg.n_features_ = d
        return reg



@hookimpl
def zoo_register_regressors(register):
    register("pwcheb", PiecewiseChebyshevRegressor)


#: fewest held-out points a slab of ``set_cell_scale(cuts=...)`` needs for its own factor
MIN_SLAB_POINTS = 50


def _slab_factors(reg: PiecewiseChebyshevRegressor, x: np.ndarray, r: np.ndarray,
                  edges: list[np.ndarray], fine: np.ndarray,
                  cuts: dict[int, list[float]]) -> tuple[np.ndarray, list[np.ndarray]]:
    """The table of :meth:`PiecewiseChebyshevRegressor.set_cell_scale` on ``edges`` with the
    ``cuts`` added: each new cell's refined-cell scale times the pooled factors of its slabs
    (``r``: the residuals at the held-out points ``x``)."""
    n_axes = len(edges)
    bad = [j for j in cuts if not 0 <= int(j) < n_axes]
    if bad:
        raise ConfigError(f"cuts names axes {bad}; the model has axes 0..{n_axes - 1}")
    with np.errstate(divide="ignore", invalid="ignore"):
        q = r / fine[reg.cell_index(x, edges)]
    ok = np.isfinite(q)
    overall = np.sqrt(np.mean(q[ok] ** 2)) if ok.any() else 0.0
    slabs, factors, new = {}, {}, list(edges)
    for j, pos in cuts.items():
        j = int(j)
        e = np.asarray(edges[j], dtype=np.float64)
        inner = np.asarray(sorted(float(p) for p in pos if e[0] < float(p) < e[-1]))
        slabs[j] = np.concatenate([e[:1], inner, e[-1:]])
        new[j] = np.unique(np.concatenate([e, inner]))
        b = np.clip(np.searchsorted(slabs[j], x[:, j], side="right") - 1, 0, len(inner))
        f = np.ones(len(inner) + 1)
        for k in range(len(f)):
            sel = ok & (b == k)
            if sel.sum() >= MIN_SLAB_POINTS and overall > 0:
                f[k] = np.sqrt(np.mean(q[sel] ** 2)) / overall
        factors[j] = f
    centres = np.stack(np.meshgrid(*[0.5 * (e[1:] + e[:-1]) for e in new], indexing="ij"),
                       -1).reshape(-1, n_axes)
    table = fine[reg.cell_index(centres, edges)].copy()
    for j, f in factors.items():
        k = np.clip(np.searchsorted(slabs[j], centres[:, j], side="right") - 1, 0, len(f) - 1)
        table *= f[k]
    return table, new
