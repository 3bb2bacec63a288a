"""``symmetry``: use the invariances of a function under coordinate maps.

``ctx.invariances`` lists every non-identity element ``g`` of a finite group G of maps
of [0,1]^D with ``f(g(x)) = f(x)``. Two modes:

* ``fold``: ``x -> c(x) = lexmin {x} u {g(x) : g in G}``, the lexicographically
  smallest point of the orbit, applied at fit and predict time; ``priority`` orders the
  coordinates for that comparison (e.g. ``[0, 2, 3, 1]``: for a map x2 -> 1 - x2, x3 <-> x4
  the fold keeps x3 <= x4 and the whole x2 axis, instead of x2 <= 1/2). ``c`` is constant on
  orbits, so the regressor sees only the fundamental domain (1/|G| of the volume).
  Because the group is closed, ``c(c(x)) = c(x)`` (exactly for permutations and
  reflections ``x -> 1 - x`` of coordinates > 1/2; to one ulp otherwise).
* ``augment``: at fit time append ``g(x)`` for every ``g`` with the same ``y`` and
  ``f00`` (|G| times the rows); forward at predict time is the identity.

The target is untouched, so the inverse is the identity. With no invariances both
modes are the identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.plugins.transforms._util import check_choice
from zoo.transform import Batch, Context, Transform

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import ExportContext, Graph

MODES = ("fold", "augment")


def _images(x: np.ndarray, ctx: Context):
    for name, coord_map in ctx.invariances:
        gx = np.asarray(coord_map(x), dtype=np.float64)
        if gx.shape != x.shape:
            raise InputError(
                f"coordinate map {name!r} returned shape {gx.shape} for input {x.shape}; "
                "coordinate maps must be vectorised (N, D) -> (N, D)"
            )
        yield gx


def lexmin_fold(x: np.ndarray, ctx: Context, priority: list[int] | None = None) -> np.ndarray:
    """The lexicographically smallest point of each row's orbit (vectorised), comparing the
    coordinates in the order ``priority`` (default 0, 1, ..., D-1)."""
    xa = np.asarray(x, dtype=np.float64)
    if xa.ndim != 2:
        raise InputError(f"x must have shape (N, D), got {xa.shape}")
    order = np.arange(xa.shape[1]) if priority is None else np.asarray(priority, dtype=np.int64)
    if sorted(order.tolist()) != list(range(xa.shape[1])):
        raise ConfigError(f"priority {priority!r} must order all {xa.shape[1]} coordinates "
                          f"once, e.g. {list(range(xa.shape[1]))}")
    best = xa.copy()
    rows = np.arange(best.shape[0])
    for gx in _images(xa, ctx):
        differ = gx[:, order] != best[:, order]
        first = order[np.argmax(differ, axis=1)]
        smaller = differ.any(axis=1) & (gx[rows, first] < best[rows, first])
        best[smaller] = gx[smaller]
    return best


class SymmetryTransform(Transform):
    """Fold points onto a fundamental domain, or augment training data, under ``ctx.invariances``."""

    name: ClassVar[str] = "symmetry"

    def __init__(self, mode: str = "fold", priority: list[int] | None = None):
        self.mode = mode
        self.priority = priority

    def fit(self, batch: Batch, ctx: Context) -> SymmetryTransform:
        check_choice(self, "mode", self.mode, MODES)
        return self

    def fit_forward(self, batch: Batch, ctx: Context) -> Batch:
        self.fit(batch, ctx)
        if self.mode == "fold" or not ctx.invariances:
            return self.forward(batch, ctx)
        x = np.asarray(batch.x, dtype=np.float64)
        xs = [x, *_images(x, ctx)]
        order = len(xs)

        def tile(v):
            return None if v is None else np.tile(np.asarray(v, dtype=np.float64), order)

        return batch.replace(x=np.concatenate(xs, axis=0), y=tile(batch.y), f00=tile(batch.f00))

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        check_choice(self, "mode", self.mode, MODES)
        if self.mode == "augment" or not ctx.invariances:
            return batch
        return batch.replace(x=lexmin_fold(batch.x, ctx, self.priority))

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        return y

    # -- one point: the fold compiled (zoo.runtime.single) ---------------------------------
    def point_forward(self, ctx: Context):
        """The fold of one point, compiled over the signed-permutation maps of the group
        (:func:`zoo.runtime.single.compile_fold`); None in augment mode or without
        invariances; the batch fold on one row for other maps."""
        check_choice(self, "mode", self.mode, MODES)
        if self.mode == "augment" or not ctx.invariances:
            return None
        from zoo.runtime.single import compile_fold

        d = getattr(ctx.process, "dimension", None)  # the maps act on the process's points
        fold = None if d is None else compile_fold([m for _, m in ctx.invariances], d,
                                                   self.priority)
        return fold if fold is not None else super().point_forward(ctx)

    def point_inverse(self, ctx: Context):
        return None

    # -- ONNX: the fold as a lexicographic minimum over the group's images ------------------
    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        invariances = getattr(ctx.context, "invariances", ())
        if self.mode != "fold" or not invariances:
            return x
        from zoo.runtime.onnx_graph import signed_permutation

        maps = [signed_permutation(m, ctx.dimension) for _, m in invariances]
        return onnx_fold(graph, x, [m for m in maps if m is not None], self.priority)

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        return y


def onnx_fold(g: Graph, x: str, maps: list[tuple[np.ndarray, ...]],
              priority: list[int] | None = None) -> str:
    """Nodes of :func:`lexmin_fold`: the lexicographic minimum of each row over {x} and its
    images under ``maps`` (:func:`zoo.runtime.onnx_graph.signed_permutation` triples), comparing the
    coordinates in the order ``priority`` (default: natural), with Equal/CumSum/Less/Where."""
    from onnx import TensorProto

    from zoo.runtime.onnx_graph import apply_map

    best = x
    zero = g.const(np.array(0.0), "zero")
    axis = g.const(np.array(1, dtype=np.int64), "axis")
    order = None if priority is None else g.const(np.asarray(priority, dtype=np.int64), "prio")

    def ordered(v: str) -> str:
        return v if order is None else g.op("Gather", [v, order], axis=1)

    for spec in maps:
        gx = apply_map(g, x, *spec)
        gxo, besto = ordered(gx), ordered(best)
        differ = g.op("Not", [g.op("Equal", [gxo, besto])], "differ")
        before = g.op("CumSum", [g.op("Cast", [differ], to=TensorProto.DOUBLE), axis], exclusive=1)
        first = g.op("And", [differ, g.op("Equal", [before, zero])], "first")
        hit = g.op("And", [first, g.op("Less", [gxo, besto])], "hit")
        smaller = g.op("ReduceMax", [g.op("Cast", [hit], to=TensorProto.DOUBLE)], axes=[1],
                       keepdims=1)
        best = g.op("Where", [g.op("Greater", [smaller, zero]), gx, best], "fold")
    return best

