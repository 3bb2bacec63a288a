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
            coef[c] = self._fit_cell(c, uc, yc, p, step, weights=wc)
        # rounded once to the stored precision: what is scored is what is saved
        self.coef_ = coef.astype(self.coef_dtype).astype(np.float64)
        self.n_features_ = int(x.shape[1])
        return self

    def _fit_cell(self, c: int, u: np.ndarray, y: np.ndarray, p: int, step: int,
                  weights: np.ndarray | None = None) -> np.ndarray:
        """(Weighted) least squares of one cell: normal equations, Cholesky, two refinement
        steps."""
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
        return coef

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
        except (KeyError, ValueError) as exc:
            raise ArtifactError(f"cannot read {path}: {exc}") from exc
        n_cells = int(np.prod([len(e) - 1 for e in reg.edges_]))
        if (reg.coef_.shape != (n_cells, reg.index_.shape[0]) or reg.index_.shape[1] != d
                or reg.degrees_.shape != (d,) or reg.index_.min(initial=0) < 0
                or np.any(reg.index_ > reg.degrees_)
                or len(np.unique(reg.index_, axis=0)) != len(reg.index_)
                or any(np.any(np.diff(e) <= 0) for e in reg.edges_)):
            raise ArtifactError(f"{path}: edges, degrees and coefficients do not fit together")
        reg.n_features_ = d
        return reg



@hookimpl
def zoo_register_regressors(register):
    register("pwcheb", PiecewiseChebyshevRegressor)
