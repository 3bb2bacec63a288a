"""``f00-normalise``: divide the target by the leading-order term.

Forward ``y -> r = y / f00``, inverse ``r -> y = r * f00``; both exact up to one
rounding. Higher-order terms are strongly correlated with f00, so the ratio ``r`` is a
much smoother function of ``x`` than ``y`` itself (the paper's main trick).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.plugins.transforms._util import as_vector, check_choice, first_bad_row
from zoo.transform import Batch, Context, Transform

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import ExportContext, Graph

SOURCES = ("data", "process")
HELICITY_CHOICES = ("label", "sum")


class F00Normalise(Transform):
    """``y -> y / f00`` with ``f00 > 0``; inverse ``y * f00``.

    ``source="data"``: f00 is the batch's ``f00`` column (at predict time the caller
    must pass it). ``source="process"``: f00 is computed exactly by ``ctx.f00(x)`` at the
    batch's points, at fit and at predict time. The output batch carries the f00 used.

    ``helicity="label"``: the leading order of the function's own helicity (the paper's
    choice). ``helicity="sum"``: the leading order summed over all helicities of the
    process (the unpolarised tree, ``ctx.f00_sum``), which never vanishes inside the
    domain: for helicities whose own tree has zeros there (f11/f00 then has poles), the
    ratio to the sum stays smooth. With ``source="data"`` the caller passes that sum.
    """

    name: ClassVar[str] = "f00-normalise"

    def __init__(self, source: str = "data", helicity: str = "label"):
        self.source = source
        self.helicity = helicity

    def _f00(self, batch: Batch, ctx: Context) -> np.ndarray:
        check_choice(self, "source", self.source, SOURCES)
        check_choice(self, "helicity", self.helicity, HELICITY_CHOICES)
        n = len(batch)
        if self.source == "data":
            if batch.f00 is None:
                raise InputError(
                    "f00-normalise(source='data') needs the leading-order term f00 at these "
                    "points: pass f00= (an array with one value per point), or use "
                    "source='process' to compute it from the process"
                )
            f00 = as_vector(batch.f00, n, "f00")
        else:
            if ctx.f00 is None:
                raise ConfigError(
                    "f00-normalise(source='process') needs the process's exact f00, but the "
                    "context has none (data without a process plugin); use source='data' "
                    "with an f00 column, or give a label of a registered process"
                )
            fn = ctx.f00 if self.helicity == "label" else ctx.f00_sum
            if fn is None:
                raise ConfigError(
                    "f00-normalise(helicity='sum') needs the process's leading order summed "
                    "over helicities, but the context has none; use helicity='label'")
            f00 = as_vector(fn(batch.x), n, f"ctx.f00{'' if fn is ctx.f00 else '_sum'}(x)")
        bad = ~(np.isfinite(f00) & (f00 > 0.0))
        if bad.any():
            row = first_bad_row(bad)
            raise InputError(
                f"f00 must be finite and > 0 for f00-normalise, but row {row} has "
                f"f00={float(f00[row])!r}; drop such points or do not normalise this target"
            )
        return f00

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        f00 = self._f00(batch, ctx)
        y = None if batch.y is None else as_vector(batch.y, len(batch), "y") / f00
        return batch.replace(y=y, f00=f00)

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        f00 = self._f00(batch, ctx)
        return as_vector(y, len(batch), "prediction") * f00

    # -- one point: y * f00 with the process's compiled f00 (zoo.runtime.single) ----------
    def point_forward(self, ctx: Context):
        return None

    def point_inverse(self, ctx: Context):
        """``y * f00(x)``: f00 from the process's compiled single-point form
        (:attr:`Context.f00_point`; its batch f00 on one row when it has none), or the
        caller's f00 with ``source="data"``; f00 must be finite and > 0 (InputError)."""
        check_choice(self, "source", self.source, SOURCES)
        check_choice(self, "helicity", self.helicity, HELICITY_CHOICES)
        if self.source == "data":
            def times_given(y: float, x: np.ndarray, f00: float) -> float:
                if f00 != f00:
                    raise InputError(
                        "f00-normalise(source='data') needs the leading-order term f00 at this "
                        "point: pass f00= (one value)")
                return y * _checked(f00)
            return times_given
        fn = ctx.f00_point(self.helicity == "sum") if ctx.f00_point is not None else None
        if fn is None:
            batch = self._f00

            def fn(x: np.ndarray) -> float:
                return float(batch(Batch(x=x.reshape(1, -1)), ctx)[0])

        def times_f00(y: float, x: np.ndarray, f00: float) -> float:
            return y * _checked(fn(x))
        return times_f00

    # -- ONNX: f00 inside the graph when the process gives its ONNX form
    # (source="process", Process.onnx_f00), else a graph input ------------------------------
    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        return x

    def _onnx_f00(self, graph: Graph, ctx: ExportContext) -> str | None:
        process = getattr(ctx.context, "process", None)
        if self.source != "process" or process is None or ctx.points is None:
            return None
        from zoo.labels import as_label

        hel = "sum" if self.helicity == "sum" else as_label(ctx.label).helicity
        return process.onnx_f00(graph, ctx.points, hel)

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        inside = self._onnx_f00(graph, ctx)
        if inside is not None:
            return graph.op("Mul", [y, inside], "times_f00")
        if getattr(self, "helicity", "label") == "sum":
            f00 = ctx.input("f00_sum", "f00_sum (N,) leading-order term summed over all "
                                       "helicities at x")
        else:
            f00 = ctx.input("f00", "f00 (N,) leading-order term of the requested label at x")
        return graph.op("Mul", [y, f00], "times_f00")


def _checked(f00: float) -> float:
    if not (f00 > 0.0 and f00 < np.inf):
        raise InputError(
            f"f00 must be finite and > 0 for f00-normalise, but this point has f00={f00!r}; "
            "such points (a zero of the leading order) cannot be predicted by this model")
    return f00
