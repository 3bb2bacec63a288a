"""The single-point path: one point per call through the whole prediction pipeline.

An event generator calls an amplitude one phase-space point at a time; the batch path
(:meth:`zoo.api.Amplitude.predict`) spends ~0.1-2 ms per call in validation, numpy
temporaries and Python around the compiled kernels. :func:`build` composes, once, the
compiled single-point forms of every stage, each owned by whoever owns the stage:

1. the check of the point (core: (D,) finite, in [0, 1]);
2. the coordinate map of the requested label onto its canonical stored function (core: a
   compiled signed permutation, :mod:`zoo.runtime.point_kernels`);
3. each transform's point map, in chain order (:meth:`zoo.transform.Transform.point_forward`;
   e.g. the symmetry fold, compiled);
4. the regressor's single-point predictor (:meth:`zoo.runtime.inference.Predictor.one`, from
   the plugin's :meth:`~zoo.regressor.Regressor.fast_predictor`; e.g. the pwcheb kernel or the
   whole qqzz-factorised model compiled for one point);
5. each transform's inverse on the scalar, in reverse order
   (:meth:`zoo.transform.Transform.point_inverse`; e.g. times the exact f00 of the process,
   compiled by the process plugin: :meth:`zoo.process.Process.point_function`).

A stage without a compiled form falls back to its batch code on one row (correct, slower):
the result equals the batch path to float rounding either way. The core names no plugin.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo.errors import InputError

PointMap = Callable[[np.ndarray], np.ndarray]
PointInverse = Callable[[float, np.ndarray, float], float]


def signed_maps(maps: Sequence[Callable[[np.ndarray], np.ndarray]], dimension: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(perm (G, D) int64, reflect (G, D) uint8, shift (G, D) uint8)`` of coordinate maps
    that are signed permutations (:func:`zoo.runtime.onnx_graph.signed_permutation`; the
    identity included), or None when one of them is not."""
    from zoo.errors import UnsupportedModelError
    from zoo.runtime.onnx_graph import signed_permutation

    perms, refls, shifts = [], [], []
    for m in maps:
        try:
            spec = signed_permutation(m, dimension)
        except UnsupportedModelError:
            return None
        if spec is None:
            spec = (np.arange(dimension), np.zeros(dimension, bool), np.zeros(dimension, bool))
        perms.append(np.asarray(spec[0], dtype=np.int64))
        refls.append(np.asarray(spec[1], dtype=np.uint8))
        shifts.append(np.asarray(spec[2], dtype=np.uint8))
    if not perms:
        z = np.zeros((0, dimension))
        return z.astype(np.int64), z.astype(np.uint8), z.astype(np.uint8)
    return np.stack(perms), np.stack(refls), np.stack(shifts)


def compile_map(coord_map: Callable[[np.ndarray], np.ndarray] | None, dimension: int
                ) -> PointMap | None:
    """A compiled point map ``(D,) -> (D,)`` of ``coord_map`` (None for the identity); the
    batch map on one row when it is not a signed permutation."""
    if coord_map is None:
        return None
    probe = np.random.default_rng(3).uniform(0.02, 0.98, size=(8, dimension))
    if np.array_equal(np.asarray(coord_map(probe), dtype=np.float64), probe):
        return None
    spec = signed_maps([coord_map], dimension)
    if spec is None:
        def by_batch(x: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(coord_map(x.reshape(1, -1))[0], dtype=np.float64)
        return by_batch
    from zoo.runtime.point_kernels import apply_map

    perm, reflect, shift = spec

    def mapped(x: np.ndarray) -> np.ndarray:
        return apply_map(x, perm, reflect, shift)

    return mapped


def compile_fold(maps: Sequence[Callable[[np.ndarray], np.ndarray]], dimension: int,
                 priority: Sequence[int] | None = None) -> PointMap | None:
    """A compiled lexicographic-minimum fold of one point over the images under ``maps``
    (the order of comparison ``priority``, default natural), or None when a map is not a
    signed permutation (the caller then folds in its batch code)."""
    spec = signed_maps(maps, dimension)
    if spec is None:
        return None
    from zoo.runtime.point_kernels import lexmin

    perm, reflect, shift = spec
    order = np.asarray(range(dimension) if priority is None else priority, dtype=np.int64)

    def folded(x: np.ndarray) -> np.ndarray:
        return lexmin(x, perm, reflect, shift, order)

    return folded


class OnePoint:
    """``f(x) -> float``: the requested label's physical value at one point ``x`` (D,) of the
    unit hypercube, through the compiled stages of :func:`build`; equal to
    ``Amplitude.predict(x[None])[0]`` to float rounding (~1e-15 relative).

    ``x``: a sequence or (D,) array of finite numbers in [0, 1], else
    :class:`~zoo.errors.InputError`. ``f00``: the leading-order value at ``x``, needed only
    by a chain that normalises by an f00 taken from data (as ``predict(x, f00)``).
    ``stages`` names the path of each stage (``"compiled"`` or ``"batch"``).
    """

    def __init__(self, dimension: int, coord_map: PointMap | None,
                 forwards: Sequence[PointMap | None], one: Callable[[np.ndarray], float],
                 inverses: Sequence[PointInverse | None], stages: dict[str, str]):
        self.dimension = int(dimension)
        self.stages = dict(stages)
        self._map = coord_map
        steps = [(f, i) for f, i in zip(forwards, inverses)]
        self._forwards = [f for f, _ in steps]
        self._one = one
        # (index of the step input the inverse needs, inverse), reverse chain order
        self._inverses = [(k, inv) for k, (_, inv) in reversed(list(enumerate(steps)))
                          if inv is not None]
        self._kernels()

    def _kernels(self) -> None:
        from zoo.runtime.point_kernels import first_bad

        self._first_bad = first_bad

    def __call__(self, x: Any, f00: float | None = None) -> float:
        p = x if type(x) is np.ndarray and x.dtype == np.float64 else _as_point(x)
        if p.shape != (self.dimension,):
            raise InputError(f"x has shape {p.shape}; one point of this amplitude is a "
                             f"({self.dimension},) array of coordinates in [0, 1]")
        if not p.flags.c_contiguous:
            p = np.ascontiguousarray(p)
        bad = self._first_bad(p)
        if bad >= 0:
            raise InputError(f"x[{bad}] = {float(p[bad])!r} is not a finite number in [0, 1]; "
                             "points of the unit hypercube only")
        if self._map is not None:
            p = self._map(p)
        seen = []
        for fwd in self._forwards:
            seen.append(p)
            if fwd is not None:
                p = fwd(p)
        y = self._one(p)
        if self._inverses:
            f = math.nan if f00 is None else float(f00)
            for k, inv in self._inverses:
                y = inv(y, seen[k], f)
        return float(y)

    def __repr__(self) -> str:
        return f"<OnePoint D={self.dimension} {self.stages}>"


def _as_point(x: Any) -> np.ndarray:
    from zoo.process import as_real_array

    return np.ascontiguousarray(as_real_array(x, "x", "one point (D,) of the unit hypercube"),
                                dtype=np.float64)


def build(model: Any, coord_map: Callable[[np.ndarray], np.ndarray] | None = None
          ) -> OnePoint:
    """The single-point path of ``model`` (a :class:`zoo.model.Model`) evaluated at
    ``coord_map(x)`` (the requested label's map onto the canonical function; None: the
    canonical label itself). Built once; numba compiles (or loads from its cache) the
    kernels on the first build of a kind."""
    d = int(model.dimension)
    ctx = model.context
    stages: dict[str, str] = {}
    cmap = compile_map(coord_map, d)
    stages["coordinate map"] = "identity" if cmap is None else "compiled"
    forwards: list[PointMap | None] = []
    inverses: list[PointInverse | None] = []
    for step in model.chain.steps:
        fwd = step.point_forward(ctx)
        inv = step.point_inverse(ctx)
        forwards.append(fwd)
        inverses.append(inv)
        stages[step.name] = "/".join(getattr(f, "zoo_path", "compiled") if f else "identity"
                                     for f in (fwd, inv))
    pred = model._predictor()
    one = getattr(pred, "one", None)
    if one is None:  # a plain predict (the fast path was refused)
        def one(p: np.ndarray) -> float:
            return float(np.asarray(pred(p.reshape(1, -1)), dtype=np.float64).reshape(-1)[0])
        stages["regressor"] = "batch"
    else:
        stages["regressor"] = getattr(pred, "backend", "?")
    return OnePoint(d, cmap, forwards, one, inverses, stages)


__all__: Sequence[str] = ("OnePoint", "build", "compile_fold", "compile_map", "signed_maps")
