"""Maps of chosen input coordinates before the regressor (the target is untouched).

* ``sqrt-x``: ``x_j -> sqrt(x_j)``.
* ``angle-x``: ``x_j -> (2 / pi) arcsin(sqrt(x_j))``, i.e. ``1 - theta / pi`` for
  ``cos(theta) = 2 x_j - 1``: the polar angle instead of its cosine.

``sqrt-x``:
At a two-body threshold the amplitudes depend on the momentum ``p ~ sqrt(s - (m1 + m2)^2)``,
i.e. on ``sqrt(x1)`` for ``x1`` that vanishes linearly at threshold (the processes here):
terms odd in ``p`` make a function non-analytic in ``x1`` at 0, which a polynomial in ``x1``
resolves only slowly. In ``u = sqrt(x1)`` they are polynomials again (even terms ``x1^k =
u^(2k)`` stay analytic).

``angle-x``: helicity amplitudes go like ``sin(theta/2)^a cos(theta/2)^b`` at the beam
(square roots of x2 and 1 - x2 for odd a, b), and forward layers of width ``delta`` in x2
(t-channel poles regulated by m^2 / s) are ``~ sqrt(delta)`` wide in theta: polynomials in
the angle resolve both with far fewer cells.

Points are expected in [0, 1]; the inverse is the identity. Apply after ``symmetry`` (whose
maps act on the original coordinates).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.transform import Batch, Context, Transform

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import ExportContext, Graph


def angle_coordinate(x: np.ndarray) -> np.ndarray:
    """``(2 / pi) arcsin(sqrt(x))`` for x in [0, 1]: monotone onto [0, 1] (float64); from the
    nearer face (``pi / 2 - arcsin(sqrt(1 - x))`` above 1/2, where ``1 - x`` is exact), so
    both ends keep full relative precision."""
    x = np.asarray(x, dtype=np.float64)
    v = np.arcsin(np.sqrt(np.minimum(x, 1.0 - x)))
    return (2.0 / np.pi) * np.where(x > 0.5, np.pi / 2 - v, v)


class SqrtCoordinates(Transform):
    """``x_j -> sqrt(x_j)`` for ``j`` in ``columns`` (0-based)."""

    name: ClassVar[str] = "sqrt-x"
    _map = staticmethod(np.sqrt)

    def __init__(self, columns: list[int] = (0,)):
        self.columns = columns

    def _columns(self, d: int) -> list[int]:
        cols = [int(c) for c in np.atleast_1d(self.columns)]
        if not cols or any(c < 0 or c >= d for c in cols) or len(set(cols)) != len(cols):
            raise ConfigError(f"{self.name}: columns {self.columns!r} must be distinct indices in "
                              f"0..{d - 1} of the {d} input coordinates")
        return cols

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        x = np.array(batch.x, dtype=np.float64, copy=True)
        cols = self._columns(x.shape[1])
        if np.any(x[:, cols] < 0.0) or np.any(x[:, cols] > 1.0):
            raise InputError(f"{self.name} needs coordinates in [0, 1] in its columns "
                             f"{cols}; pass points of the unit hypercube")
        x[:, cols] = self._map(x[:, cols])
        return batch.replace(x=x)

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        return y

    def point_inverse(self, ctx: Context):
        return None

    # -- ONNX: the map on the chosen columns (clipped to [0, 1]), the rest unchanged ---------
    def _onnx_map(self, graph: Graph, x: str) -> str:
        return graph.op("Sqrt", [x])

    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        mask = np.zeros(ctx.dimension, dtype=bool)
        mask[self._columns(ctx.dimension)] = True
        xc = graph.op("Clip", [x, graph.const(np.array(0.0), "lo"),
                               graph.const(np.array(1.0), "hi")])
        return graph.op("Where", [graph.const(mask, "cmask"), self._onnx_map(graph, xc), x],
                        "coordx")

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        return y


class AngleCoordinates(SqrtCoordinates):
    """``x_j -> (2 / pi) arcsin(sqrt(x_j))`` for ``j`` in ``columns`` (0-based)."""

    name: ClassVar[str] = "angle-x"
    _map = staticmethod(angle_coordinate)

    def __init__(self, columns: list[int] = (1,)):
        self.columns = columns

    def _onnx_map(self, graph: Graph, x: str) -> str:
        return onnx_angle(graph, x)


def onnx_angle(g: Graph, x: str) -> str:
    """Nodes of :func:`angle_coordinate` in float64 (ONNX Runtime has Asin in float32 only):
    with ``a = min(x, 1 - x)``, ``v = arcsin(sqrt(a))`` from the float32 Asin refined by two
    Newton steps on ``sin(v) = sqrt(a)`` (cos v >= 1/sqrt 2 there: quadratic convergence to
    ~1e-16), then ``v`` or ``pi / 2 - v``."""
    from onnx import TensorProto

    half = g.const(np.array(0.5), "half")
    a = g.op("Min", [x, g.op("Sub", [g.const(np.array(1.0), "one"), x])])
    s = g.op("Sqrt", [a])
    v = g.op("Cast", [g.op("Asin", [g.op("Cast", [s], to=TensorProto.FLOAT)])],
             to=TensorProto.DOUBLE)
    for _ in range(2):
        v = g.op("Sub", [v, g.op("Div", [g.op("Sub", [g.op("Sin", [v]), s]), g.op("Cos", [v])])])
    upper = g.op("Sub", [g.const(np.array(np.pi / 2), "halfpi"), v])
    v = g.op("Where", [g.op("Greater", [x, half]), upper, v])
    return g.op("Mul", [v, g.const(np.array(2.0 / np.pi), "twopi")], "anglex")
