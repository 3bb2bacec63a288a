"""A third-party regressor plugin: least-squares fit on quadratic features (numpy only).

It gives itself an ONNX form (``onnx_nodes``), a fast path (``fast_predictor``) and a
per-point uncertainty (``predict_uncertainty``, ``onnx_uncertainty_nodes``) through the
plugin interface, exactly like the built-in regressors. The uncertainty is the held-out
residual RMS per cell of a regular grid (``unc_bins`` cells per axis, the first
``unc_axes`` axes), learned from the validation data ``fit`` receives; cells with fewer
than 5 validation points take the global RMS; without validation data there is none. ``CALLS`` counts the batches
its fast path evaluated (the tests check that ``zoo predict`` used it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.hookspecs import hookimpl
from zoo.process import CoordinatePermutation, Process, Symmetry
from zoo.regressor import Regressor

#: batches evaluated by the fast path (read by the tests)
CALLS = {"fast": 0}


def _features(x: np.ndarray, degree: int) -> np.ndarray:
    cols = [np.ones(len(x))]
    for i in range(x.shape[1]):
        for p in range(1, degree + 1):
            cols.append(x[:, i] ** p)
    for i in range(x.shape[1]):
        for j in range(i + 1, x.shape[1]):
            cols.append(x[:, i] * x[:, j])
    return np.stack(cols, axis=1)


class PolyFit(Regressor):
    name = "polyfit"
    version = "0.3.1"

    def __init__(self, degree: int = 2, ridge: float = 1e-10, unc_bins: int = 4,
                 unc_axes: int = 1):
        self.degree = degree
        self.ridge = ridge
        self.unc_bins = unc_bins
        self.unc_axes = unc_axes

    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False, progress=False):
        a = _features(x, self.degree)
        self.coef_ = np.linalg.solve(a.T @ a + self.ridge * np.eye(a.shape[1]), a.T @ y)
        self.n_features_ = int(x.shape[1])
        if x_val is not None and len(x_val):
            res2 = (self.predict(x_val) - np.asarray(y_val, dtype=np.float64)) ** 2
            cells = self._cells(x_val)
            n = np.bincount(cells, minlength=self._n_cells())
            total = np.bincount(cells, weights=res2, minlength=self._n_cells())
            rms = np.sqrt(res2.mean())
            with np.errstate(invalid="ignore", divide="ignore"):
                self.cell_rms_ = np.where(n >= 5, np.sqrt(total / np.maximum(n, 1)), rms)
        return self

    # -- the uncertainty: held-out residual RMS per grid cell -------------------------------
    def _axes(self) -> int:
        return max(1, min(int(self.unc_axes), self.n_features_))

    def _n_cells(self) -> int:
        return int(self.unc_bins) ** self._axes()

    def _cells(self, x: np.ndarray) -> np.ndarray:
        b = int(self.unc_bins)
        idx = np.clip((np.asarray(x, dtype=np.float64)[:, : self._axes()] * b).astype(np.int64),
                      0, b - 1)
        return (idx * (b ** np.arange(idx.shape[1]))).sum(axis=1)

    @property
    def has_uncertainty(self) -> bool:
        return hasattr(self, "cell_rms_")

    def predict_uncertainty(self, x):
        if not self.has_uncertainty:
            return super().predict_uncertainty(x)
        x = np.asarray(x, dtype=np.float64)
        return self.predict(x), np.asarray(self.cell_rms_[self._cells(x)], dtype=np.float64)

    def onnx_uncertainty_nodes(self, graph: Any, x: str) -> str:
        """The cell index (Floor, Clip, weighted sum) gathered from the RMS table: (N,)."""
        if not self.has_uncertainty:
            return super().onnx_uncertainty_nodes(graph, x)
        b, d = int(self.unc_bins), self._axes()
        cols = graph.op("Slice", [x, graph.const(np.array([0], dtype=np.int64), "s0"),
                                  graph.const(np.array([d], dtype=np.int64), "s1"),
                                  graph.const(np.array([1], dtype=np.int64), "sax")])
        idx = graph.op("Floor", [graph.op("Mul", [cols, graph.const(np.array(float(b)), "b")])])
        idx = graph.op("Clip", [idx, graph.const(np.array(0.0), "lo"),
                                graph.const(np.array(float(b - 1)), "hi")])
        weights = graph.const((float(b) ** np.arange(d)).reshape(-1, 1), "w")
        cell = graph.op("Reshape", [graph.op("MatMul", [idx, weights]),
                                    graph.const(np.array([-1], dtype=np.int64), "flat")])
        from onnx import TensorProto

        cell = graph.op("Cast", [cell], "cell", to=TensorProto.INT64)
        return graph.op("Gather", [graph.const(np.asarray(self.cell_rms_, dtype=np.float64),
                                               "rms"), cell], "polyfit_s", axis=0)

    def predict(self, x):
        return _features(np.asarray(x, dtype=np.float64), self.degree) @ self.coef_

    def save(self, directory):
        from safetensors.numpy import save_file

        state = {"coef": self.coef_}
        if self.has_uncertainty:
            state["cell_rms"] = np.asarray(self.cell_rms_, dtype=np.float64)
        save_file(state, str(directory / "coef.safetensors"))
        return ["coef.safetensors"]

    @classmethod
    def load(cls, directory, params):
        from safetensors.numpy import load_file

        reg = cls(**params)
        state = load_file(str(directory / "coef.safetensors"))
        reg.coef_ = state["coef"]
        if "cell_rms" in state:  # artifacts saved before the uncertainty load without it
            reg.cell_rms_ = state["cell_rms"]
        d = 1
        while 1 + d * reg.degree + d * (d - 1) // 2 < reg.coef_.size:
            d += 1
        reg.n_features_ = d
        return reg

    # -- the optional parts of the contract ---------------------------------------------
    def onnx_max_rows(self) -> int:
        """Rows per pass of the exported graph: the core loops over chunks of this many (a
        third-party plugin bounds its graph's memory as the built-in ones do)."""
        return 128

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """The feature columns (Gather, Mul) concatenated, times the coefficients: (N, 1)."""
        cols = [graph.op("Gather", [x, graph.const(np.array([i], dtype=np.int64), "col")],
                         "xi", axis=1) for i in range(self.n_features_)]
        feats = []
        for c in cols:
            power = c
            feats.append(power)
            for _ in range(2, self.degree + 1):
                power = graph.op("Mul", [power, c], "pow")
                feats.append(power)
        for i in range(len(cols)):
            for j in range(i + 1, len(cols)):
                feats.append(graph.op("Mul", [cols[i], cols[j]], "cross"))
        a = graph.op("Concat", feats, "features", axis=1)
        coef = np.asarray(self.coef_, dtype=np.float64)
        y = graph.op("MatMul", [a, graph.const(coef[1:].reshape(-1, 1), "coef")])
        return graph.op("Add", [y, graph.const(coef[:1], "intercept")], "polyfit_y")

    def fast_predictor(self, *, backend="auto", n_threads=None, chunk=None):
        """Chunks of ``chunk`` rows through a preallocated feature matrix (backend
        ``polyfit-chunked``); ``native`` is the plain predict."""
        if backend != "auto":
            return super().fast_predictor(backend=backend)
        from zoo.runtime.inference import CHUNK, Predictor

        rows = int(chunk or CHUNK)
        coef, degree = np.asarray(self.coef_, dtype=np.float64), self.degree

        def predict(x: np.ndarray) -> np.ndarray:
            CALLS["fast"] += 1
            out = np.empty(x.shape[0], dtype=np.float64)
            for s in range(0, x.shape[0], rows):
                out[s : s + rows] = _features(np.asarray(x[s : s + rows], dtype=np.float64),
                                              degree) @ coef
            return out

        return Predictor(predict, self.n_features_, "polyfit-chunked")

    @property
    def n_parameters(self):
        return int(self.coef_.size)


@hookimpl
def zoo_register_regressors(register):
    register("polyfit", PolyFit)


# -- a third-party process with a known hard region (the uncertainty tests use it) -----------
class BumpProcess(Process):
    """``bump/2d``: helicities L, R on [0,1]^2 with f_R(x1, x2) = f_L(x1, 1 - x2).

    ``f00_L = 1 + x1 + 2 x2``; ``f11_L = f00_L g`` with ``g = 1 + 0.5 x1 + 0.3 x2 + 0.2 x1 x2
    + 0.5 max(0, 1 - x1 / 0.1)^2``: a quadratic ratio except a narrow bump at x1 < 0.1 that
    a quadratic fit cannot follow; ``f01_L = f00_L (0.3 - x2 + 0.1 x1)`` crosses zero.
    """

    name = "bump"
    dimension = 2
    helicities = ("L", "R")
    terms = ("f00", "f01", "f11")
    version = "1"

    def evaluate(self, x, terms=None):
        x = self.check_x(x)
        out: dict[str, list[np.ndarray]] = {t: [] for t in (terms or self.terms)}
        x1 = x[:, 0]
        for x2 in (x[:, 1], 1.0 - x[:, 1]):
            f00 = 1.0 + x1 + 2.0 * x2
            g = (1.0 + 0.5 * x1 + 0.3 * x2 + 0.2 * x1 * x2
                 + 0.5 * np.maximum(0.0, 1.0 - x1 / 0.1) ** 2)
            vals = {"f00": f00, "f11": f00 * g, "f01": f00 * (0.3 - x2 + 0.1 * x1)}
            for t in out:
                out[t].append(vals[t])
        return {t: np.stack(v, axis=1) for t, v in out.items()}

    def symmetries(self):
        return [Symmetry("flip", {"L": "R", "R": "L"},
                         CoordinatePermutation((0, 1), frozenset({1})))]


@hookimpl
def zoo_register_processes(register):
    register(BumpProcess())
