"""The contract of a physics process plugin and its symmetry generators.

A *process* provides, at one dimension D, a family of real functions
``f_term,h(x)`` of ``x`` in the unit hypercube [0,1]^D, one per perturbative term
(e.g. ``f00``, ``f01``, ``f11``) and helicity configuration ``h``. Process plugins are
registered through the ``zoo_register_processes`` hook.

A :class:`Symmetry` is a pair (helicity relabelling sigma, coordinate map phi) with

    f_term,h(x) = f_term,sigma(h)(phi(x))      for every term, h and x.

The resolver (:mod:`zoo.resolver`) closes the group they generate, so a process only
declares generators. The label helicity ``sum`` names the sum over all helicities; it is
invariant under every symmetry's relabelling and is resolved only through coordinate
maps that leave it unchanged.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.errors import InputError, UnknownLabelError

CoordMap = Callable[[np.ndarray], np.ndarray]

SUM = "sum"


@dataclass(frozen=True)
class Symmetry:
    """One symmetry generator: ``f_h(x) = f_{helicity_map[h]}(coord_map(x))``.

    ``coord_map`` must be vectorised over rows of an (N, D) float64 array, map the unit
    hypercube onto itself, and be an involution or of finite order (the resolver composes
    generators until the group closes). ``helicity_map`` must be a permutation of the
    process's helicity labels.
    """

    name: str
    helicity_map: Mapping[str, str]
    coord_map: CoordMap
    description: str = ""


@dataclass(frozen=True)
class CoordinatePermutation:
    """A coordinate map built from a permutation of axes and reflections ``x -> 1 - x``.

    ``y[:, i] = x[:, perm[i]]`` then ``y[:, i] = 1 - y[:, i]`` for ``i`` in ``reflect``.
    Such maps compose exactly in floating point (reflections are exact for x in [0, 1]
    only up to rounding; the map is applied once per prediction).
    """

    perm: tuple[int, ...]
    reflect: frozenset[int] = field(default_factory=frozenset)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(x, dtype=np.float64)[:, list(self.perm)].copy()
        for i in self.reflect:
            y[:, i] = 1.0 - y[:, i]
        return y


class Process(abc.ABC):
    """Base class of process plugins (one instance per process name and dimension)."""

    #: process name used as the first label field, e.g. "qqbar-zz-4l"
    name: str
    #: number of unit-hypercube coordinates
    dimension: int
    #: helicity labels in a fixed order (columns of :meth:`evaluate`)
    helicities: tuple[str, ...]
    #: term names, e.g. ("f00", "f01", "f11")
    terms: tuple[str, ...]
    #: version string of the implementation (recorded in provenance hashes)
    version: str = "0"

    @abc.abstractmethod
    def evaluate(self, x: np.ndarray, terms: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Return ``{term: array (N, len(helicities)) float64}`` at points ``x`` (N, D)."""

    def symmetries(self) -> list[Symmetry]:
        """The declared symmetry generators (default: none)."""
        return []

    def point_function(self, term: str, helicity: str) -> Callable[[np.ndarray], float] | None:
        """A compiled single-point form of :meth:`function`: ``(D,) float64 -> float`` equal
        to ``function(x[None], term, helicity)[0]`` to float rounding (``helicity='sum'``:
        the sum over all helicities), or None when the process has none (the default; the
        single-point path then calls :meth:`function` on one row). Used by the single-point
        path of models normalised by the exact f00 (:mod:`zoo.runtime.single`)."""
        return None

    def description(self) -> str:
        return (self.__doc__ or "").strip().splitlines()[0] if self.__doc__ else ""

    def onnx_f00(self, graph: Any, x: str, helicity: str) -> str | None:
        """Optional: ONNX nodes of the exact leading-order term ``f00`` (N,) of ``helicity``
        (``'sum'``: summed over helicities) at the float64 points named ``x`` (N, D) of a
        :class:`zoo.runtime.onnx_graph.Graph`; returns the output's name. Transforms that
        normalise by the process's f00 then compute it inside an exported graph instead of
        asking for an ``f00`` input. Default: None (no ONNX form; the graph takes f00 as an
        input)."""
        return None

    # -- helpers shared by every process ----------------------------------------------
    def check_x(self, x: np.ndarray) -> np.ndarray:
        return validate_points(x, self.dimension)

    def helicity_index(self, helicity: str) -> int:
        try:
            return self.helicities.index(helicity)
        except ValueError:
            raise UnknownLabelError(
                f"process {self.name!r} in {self.dimension}D has no helicity {helicity!r}; "
                f"choose one of {', '.join(self.helicities)} or 'sum'"
            ) from None

    def check_term(self, term: str) -> None:
        if term not in self.terms:
            raise UnknownLabelError(
                f"process {self.name!r} has no term {term!r}; choose one of {', '.join(self.terms)}"
            )

    def function(self, x: np.ndarray, term: str, helicity: str) -> np.ndarray:
        """One function ``f_term,helicity(x)`` (N,), ``helicity='sum'`` for the sum."""
        self.check_term(term)
        values = self.evaluate(x, [term])[term]
        if helicity == SUM:
            return values.sum(axis=1)
        return values[:, self.helicity_index(helicity)]


def as_real_array(x: object, name: str, expected: str) -> np.ndarray:
    """``x`` as a float64 array, or :class:`InputError` for anything that is not an array
    of real numbers (complex values would lose their imaginary part, booleans and strings
    would be numbers by accident)."""
    if x is None or isinstance(x, str | bytes | dict | set):
        raise InputError(f"{name} is a {type(x).__name__}; expected {expected} as a numpy array")
    try:
        raw = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nesting and the like
        raise InputError(
            f"{name} cannot be read as an array ({exc}); expected {expected} as a rectangular "
            "numpy array"
        ) from exc
    if raw.dtype.kind not in "fiuO":
        kind = {"c": "complex", "b": "boolean", "U": "string", "S": "bytes"}.get(
            raw.dtype.kind, str(raw.dtype))
        raise InputError(
            f"{name} has dtype {raw.dtype} ({kind}); expected {expected} as real numbers "
            "(float64)"
        )
    try:
        return np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(
            f"{name} holds values that are not real numbers ({exc}); expected {expected} as "
            "float64"
        ) from exc


def validate_points(x: np.ndarray, dimension: int, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as a C-contiguous (N, D) float64 array, or raise :class:`InputError`.

    Accepts a single point of shape (D,) and any real numeric array (integers, float32).
    Rejects what cannot be points without a silent conversion: complex, boolean, string or
    non-numeric object arrays, ragged nesting, wrong dimensions, NaN/inf and points outside
    [0, 1]^D, naming the offending row.
    """
    arr = as_real_array(x, name, f"(N, {dimension}) points of the unit hypercube")
    if arr.ndim == 1 and arr.shape[0] == dimension:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dimension:
        raise InputError(
            f"{name} has shape {arr.shape}; expected (N, {dimension}) points of the unit "
            f"hypercube [0,1]^{dimension}. Reshape your input, e.g. x.reshape(-1, {dimension})."
        )
    block = 1 << 16  # check in blocks: no full-size temporary masks for large inputs
    for lo in range(0, arr.shape[0], block):
        part = arr[lo : lo + block]
        if part.size and part.min() >= 0.0 and part.max() <= 1.0:  # NaN fails both tests
            continue  # every value finite and in [0, 1]: no per-row masks needed
        finite = np.isfinite(part).all(axis=1)
        if not finite.all():
            row = lo + int(np.flatnonzero(~finite)[0])
            raise InputError(
                f"{name} contains NaN or inf (first at row {row}); remove or fix those points"
            )
        outside = ((part < 0.0) | (part > 1.0)).any(axis=1)
        if outside.any():
            row = lo + int(np.flatnonzero(outside)[0])
            raise InputError(
                f"{name} has points outside the unit hypercube [0,1]^{dimension} (first at row "
                f"{row}: {arr[row].tolist()}); map your phase-space points onto [0,1]^{dimension} first"
            )
    return np.ascontiguousarray(arr)
