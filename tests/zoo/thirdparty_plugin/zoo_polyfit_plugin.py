"""A third-party regressor plugin: least-squares fit on quadratic features (numpy only).

It gives itself an ONNX form (``onnx_nodes``) and a fast path (``fast_predictor``) through
the plugin interface, exactly like the built-in regressors. ``CALLS`` counts the batches
its fast path evaluated (the tests check that ``zoo predict`` used it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.hookspecs import hookimpl
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

    def __init__(self, degree: int = 2, ridge: float = 1e-10):
        self.degree = degree
        self.ridge = ridge

    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False, progress=False):
        a = _features(x, self.degree)
        self.coef_ = np.linalg.solve(a.T @ a + self.ridge * np.eye(a.shape[1]), a.T @ y)
        self.n_features_ = int(x.shape[1])
        return self

    def predict(self, x):
        return _features(np.asarray(x, dtype=np.float64), self.degree) @ self.coef_

    def save(self, directory):
        from safetensors.numpy import save_file

        save_file({"coef": self.coef_}, str(directory / "coef.safetensors"))
        return ["coef.safetensors"]

    @classmethod
    def load(cls, directory, params):
        from safetensors.numpy import load_file

        reg = cls(**params)
        reg.coef_ = load_file(str(directory / "coef.safetensors"))["coef"]
        d = 1
        while 1 + d * reg.degree + d * (d - 1) // 2 < reg.coef_.size:
            d += 1
        reg.n_features_ = d
        return reg

    # -- the optional parts of the contract ---------------------------------------------
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
