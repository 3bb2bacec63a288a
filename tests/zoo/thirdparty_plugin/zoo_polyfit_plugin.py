"""A third-party regressor plugin: least-squares fit on quadratic features (numpy only)."""

from __future__ import annotations

import numpy as np

from zoo.hookspecs import hookimpl
from zoo.regressor import Regressor


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
        return reg

    @property
    def n_parameters(self):
        return int(self.coef_.size)


@hookimpl
def zoo_register_regressors(register):
    register("polyfit", PolyFit)
