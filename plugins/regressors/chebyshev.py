"""``chebyshev``: linear least squares on a Chebyshev polynomial basis (numpy only).

For smooth functions of few variables (the 2D and 4D amplitudes, normalised by f00)
a polynomial of moderate degree is far more precise than trees or networks, tiny on
disk and fast to evaluate. Each input column is mapped affinely from its training
range onto [-1, 1]; the basis is the product ``prod_j T_{k_j}(u_j)`` over the
multi-indices ``k`` with total degree ``sum k_j <= degree`` (``basis="total"``) or
``max k_j <= degree`` (``basis="tensor"``). The coefficients minimise
``|A c - y|^2 + ridge * |c|^2`` (normal equations accumulated in chunks, solved by an
eigendecomposition, plus ``refine`` steps of iterative refinement on the residual).

Stored as ``chebyshev.safetensors`` (multi-indices, coefficients, input ranges).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ArtifactError, ConfigError
from zoo.hookspecs import hookimpl
from zoo.regressor import Regressor

from .common import (
    CoefficientCount,
    check_fitted,
    check_x,
    load_arrays,
    save_arrays,
    validation_split,
)

WEIGHTS_FILE = "chebyshev.safetensors"
BASES = ("total", "tensor")


def multi_indices(dimension: int, degree: int, basis: str) -> np.ndarray:
    """(P, D) int array of the basis multi-indices, sorted by total degree."""
    rng = range(degree + 1)
    idx = [k for k in itertools.product(rng, repeat=dimension)
           if basis == "tensor" or sum(k) <= degree]
    idx.sort(key=lambda k: (sum(k), k))
    return np.asarray(idx, dtype=np.int64).reshape(-1, dimension)


def chebyshev_table(u: np.ndarray, degree: int) -> np.ndarray:
    """T_0..T_degree at u: shape (degree + 1, N, D), by the three-term recurrence."""
    t = np.empty((degree + 1, *u.shape))
    t[0] = 1.0
    if degree >= 1:
        t[1] = u
    for k in range(2, degree + 1):
        np.multiply(2.0 * u, t[k - 1], out=t[k])
        t[k] -= t[k - 2]
    return t


class ChebyshevRegressor(CoefficientCount, Regressor):
    """Least-squares Chebyshev polynomial regressor.

    Parameters: ``degree`` (max total degree, or per-variable degree for ``tensor``);
    ``basis`` (total|tensor); ``ridge`` (Tikhonov weight relative to the mean diagonal
    of A^T A); ``refine`` (iterative-refinement steps); ``chunk`` (rows per block).
    """

    name = "chebyshev"
    version = "1"

    def __init__(self, degree: int = 20, basis: str = "total", ridge: float = 1e-13,
                 refine: int = 2, chunk: int = 20_000) -> None:
        self.degree = degree
        self.basis = basis
        self.ridge = ridge
        self.refine = refine
        self.chunk = chunk

    def _check(self) -> None:
        if self.basis not in BASES:
            raise ConfigError(f"basis must be one of {', '.join(BASES)}, got {self.basis!r}")
        if int(self.degree) < 0 or int(self.chunk) < 1 or int(self.refine) < 0:
            raise ConfigError("degree and refine must be >= 0 and chunk >= 1")
        if float(self.ridge) < 0:
            raise ConfigError(f"ridge must be >= 0, got {self.ridge!r}")

    def _design(self, x: np.ndarray) -> np.ndarray:
        u = (2.0 * x - (self.hi_ + self.lo_)) / (self.hi_ - self.lo_)
        t = chebyshev_table(u, int(self.index_.max(initial=0)))
        a = np.ones((x.shape[0], self.index_.shape[0]))
        for j in range(x.shape[1]):
            a *= t[self.index_[:, j], :, j].T
        return a

    def _blocks(self, x: np.ndarray):
        step = int(self.chunk)
        for s in range(0, x.shape[0], step):
            yield s, self._design(x[s:s + step])

    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False,
            progress=False) -> ChebyshevRegressor:
        """Fit on the union of (x, y) and the validation rows (no early stopping here)."""
        self._check()
        x, y, x_val, y_val = validation_split(x, y, x_val, y_val, 0)
        x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
        self.lo_, self.hi_ = x.min(axis=0), x.max(axis=0)
        self.hi_ = np.where(self.hi_ > self.lo_, self.hi_, self.lo_ + 1.0)
        self.index_ = multi_indices(x.shape[1], int(self.degree), self.basis)
        p = self.index_.shape[0]
        gram, rhs = np.zeros((p, p)), np.zeros(p)
        for s, a in self._blocks(x):
            gram += a.T @ a
            rhs += a.T @ y[s:s + a.shape[0]]
        lam = float(self.ridge) * np.trace(gram) / p
        gram[np.diag_indices(p)] += lam
        w, v = np.linalg.eigh(gram)
        w = np.where(w > w.max() * 1e-15, w, np.inf)

        def solve(b: np.ndarray) -> np.ndarray:
            return v @ ((v.T @ b) / w)

        coef = solve(rhs)
        for _ in range(int(self.refine)):
            r = np.zeros(p)
            for s, a in self._blocks(x):
                r += a.T @ (y[s:s + a.shape[0]] - a @ coef)
            coef = coef + solve(r - lam * coef)
        self.coef_ = coef
        self.n_features_ = int(x.shape[1])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        check_fitted(self, "coef_")
        x = check_x(x, self.n_features_)
        out = np.empty(x.shape[0])
        for s, a in self._blocks(x):
            out[s:s + a.shape[0]] = a @ self.coef_
        return out

    def save(self, directory: Path) -> list[str]:
        check_fitted(self, "coef_")
        return save_arrays(self, directory, WEIGHTS_FILE,
                           {"index": self.index_, "coef": self.coef_, "lo": self.lo_, "hi": self.hi_})

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> ChebyshevRegressor:
        t, _, path = load_arrays(directory, WEIGHTS_FILE)
        try:
            reg = cls(**params)
            reg.index_, reg.coef_ = t["index"].astype(np.int64), t["coef"].astype(np.float64)
            reg.lo_, reg.hi_ = t["lo"].astype(np.float64), t["hi"].astype(np.float64)
        except KeyError as exc:
            raise ArtifactError(f"cannot read {path}: no array {exc}") from exc
        if reg.index_.ndim != 2 or reg.index_.shape[0] != reg.coef_.shape[0]:
            raise ArtifactError(f"{path}: index and coef shapes disagree")
        reg.n_features_ = int(reg.index_.shape[1])
        return reg



@hookimpl
def zoo_register_regressors(register):
    register("chebyshev", ChebyshevRegressor)
