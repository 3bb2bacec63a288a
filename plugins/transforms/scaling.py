"""Scalers of the target (and of the points): ``log``, ``asinh``, ``standardise``.

* ``log``: ``y -> log(y)`` for ``y > 0``; inverse ``exp``.
* ``asinh``: ``y -> asinh(y / s)``; inverse ``s * sinh``. Linear for ``|y| << s``,
  logarithmic for ``|y| >> s``: for targets that change sign (f01, f01/f00).
* ``standardise``: ``v -> (v - mean) / std`` with mean and (population) std fitted on
  the training data; ``v`` is ``y`` or, column-wise, ``x``. Inverse ``v * std + mean``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from zoo.errors import ArtifactError, ConfigError, InputError
from zoo.plugins.transforms._util import (
    NotFittedError,
    as_vector,
    check_choice,
    check_state,
    first_bad_row,
)
from zoo.transform import Batch, Context, Transform

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import ExportContext, Graph


def _training_y(owner: Transform, batch: Batch) -> np.ndarray:
    if batch.y is None:
        raise InputError(f"{owner.name} needs the target y to fit; the training batch has none")
    y = as_vector(batch.y, len(batch), "y")
    if y.size == 0:
        raise InputError(f"{owner.name} cannot be fitted on an empty batch")
    return y


class Log(Transform):
    """``y -> log(y)`` (requires ``y > 0``); inverse ``exp``."""

    name: ClassVar[str] = "log"

    def __init__(self):
        pass

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        if batch.y is None:
            return batch
        y = as_vector(batch.y, len(batch), "y")
        bad = ~(y > 0.0)
        if bad.any():
            row = first_bad_row(bad)
            raise InputError(
                f"log needs y > 0 but row {row} has y={float(y[row])!r}; for terms that cross zero "
                "(e.g. f01 or f01/f00) use the 'asinh' transform instead"
            )
        return batch.replace(y=np.log(y))

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        return np.exp(np.asarray(y, dtype=np.float64))

    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        return x

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        return graph.op("Exp", [y])

    def point_forward(self, ctx: Context):
        return None

    def point_inverse(self, ctx: Context):
        def exp(y: float, x: np.ndarray, f00: float) -> float:
            return math.exp(y)
        return exp


class Asinh(Transform):
    """``y -> asinh(y / s)``; inverse ``s * sinh``.

    ``scale``: a float ``s > 0``, or ``"auto"`` for ``s = median |y|`` of the training data.
    """

    name: ClassVar[str] = "asinh"

    def __init__(self, scale: float | str = "auto"):
        self.scale = scale

    def fit(self, batch: Batch, ctx: Context) -> Asinh:
        if self.scale == "auto":
            s = float(np.median(np.abs(_training_y(self, batch))))
            if not (math.isfinite(s) and s > 0.0):
                raise InputError(
                    f"asinh(scale='auto'): the median |y| of the training data is {s!r}; "
                    "give a positive float scale= instead"
                )
        else:
            try:
                s = float(self.scale)
            except (TypeError, ValueError):
                s = float("nan")
            if not (math.isfinite(s) and s > 0.0):
                raise ConfigError(
                    f"asinh: scale={self.scale!r} is invalid; give a positive float or 'auto'"
                )
        self.scale_ = s
        return self

    def _s(self) -> float:
        s = getattr(self, "scale_", None)
        if s is None:
            raise NotFittedError("asinh is not fitted: call fit_forward() or set_state() first")
        return s

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        s = self._s()
        if batch.y is None:
            return batch
        return batch.replace(y=np.arcsinh(as_vector(batch.y, len(batch), "y") / s))

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        return self._s() * np.sinh(np.asarray(y, dtype=np.float64))

    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        return x

    def point_forward(self, ctx: Context):
        return None

    def point_inverse(self, ctx: Context):
        s = self._s()

        def unasinh(y: float, x: np.ndarray, f00: float) -> float:
            return s * math.sinh(y)
        return unasinh

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        # s * sinh(v) = (s / 2) (e^v - e^-v): ONNX Runtime has no double Sinh
        e = graph.op("Exp", [y])
        return graph.op("Mul", [graph.op("Sub", [e, graph.op("Reciprocal", [e])]),
                                graph.const(np.array(0.5 * self._s()), "half_scale")], "unasinh")

    def get_state(self) -> dict[str, np.ndarray]:
        return {"scale": np.array([self._s()], dtype=np.float64)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scale_ = float(check_state(self, state, ("scale",))["scale"].reshape(-1)[0])


class Standardise(Transform):
    """``v -> (v - mean) / std``, fitted on training data; ``target`` = ``"y"`` or ``"x"``.

    For ``"x"`` the statistics are per column. A zero std (constant column) is replaced
    by 1 so that the map stays invertible. The inverse maps predictions (``target="y"``)
    back; with ``target="x"`` predictions are untouched and :meth:`inverse_points`
    undoes the map on points.
    """

    name: ClassVar[str] = "standardise"

    def __init__(self, target: str = "y"):
        self.target = target

    def fit(self, batch: Batch, ctx: Context) -> Standardise:
        check_choice(self, "target", self.target, ("y", "x"))
        if self.target == "y":
            v = _training_y(self, batch)[:, None]
        else:
            v = np.asarray(batch.x, dtype=np.float64)
            if v.ndim != 2 or v.shape[0] == 0:
                raise InputError(f"standardise(target='x') needs (N, D) points, got {v.shape}")
        mean = v.mean(axis=0)
        std = v.std(axis=0)
        std[~(std > 0.0)] = 1.0
        self.mean_ = mean.astype(np.float64)
        self.std_ = std.astype(np.float64)
        return self

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        mean = getattr(self, "mean_", None)
        if mean is None:
            raise NotFittedError(
                "standardise is not fitted: call fit_forward() or set_state() first"
            )
        return mean, self.std_

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        mean, std = self._stats()
        if self.target == "x":
            return batch.replace(x=(np.asarray(batch.x, dtype=np.float64) - mean) / std)
        if batch.y is None:
            return batch
        return batch.replace(y=(as_vector(batch.y, len(batch), "y") - mean[0]) / std[0])

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        mean, std = self._stats()
        y = np.asarray(y, dtype=np.float64)
        return y if self.target == "x" else y * std[0] + mean[0]

    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        if self.target != "x":
            return x
        mean, std = self._stats()
        return graph.op("Div", [graph.op("Sub", [x, graph.const(mean, "mean")]),
                                graph.const(std, "std")], "stdx")

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        if self.target == "x":
            return y
        mean, std = self._stats()
        return graph.op("Add", [graph.op("Mul", [y, graph.const(np.array(float(std[0])), "ystd")]),
                                graph.const(np.array(float(mean[0])), "ymean")], "unstd")

    def point_forward(self, ctx: Context):
        if self.target != "x":
            return None
        mean, std = self._stats()

        def standardised(x: np.ndarray) -> np.ndarray:
            return (x - mean) / std
        return standardised

    def point_inverse(self, ctx: Context):
        if self.target == "x":
            return None
        mean, std = self._stats()
        m, s = float(mean[0]), float(std[0])

        def unstandardised(y: float, x: np.ndarray, f00: float) -> float:
            return y * s + m
        return unstandardised

    def inverse_points(self, x: np.ndarray) -> np.ndarray:
        """Undo the map on points (``target="x"``; identity for ``target="y"``)."""
        mean, std = self._stats()
        x = np.asarray(x, dtype=np.float64)
        return x * std + mean if self.target == "x" else x

    def get_state(self) -> dict[str, np.ndarray]:
        mean, std = self._stats()
        return {"mean": mean.copy(), "std": std.copy()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        st = check_state(self, state, ("mean", "std"))
        mean, std = st["mean"].reshape(-1), st["std"].reshape(-1)
        if mean.shape != std.shape or not (std > 0).all():
            raise ArtifactError("standardise state: mean and std must match in shape, std > 0")
        self.mean_, self.std_ = mean, std
