"""Datasets: points, target and leading-order term, with a provenance hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from zoo.errors import InputError
from zoo.process import validate_points


@dataclass(frozen=True)
class Dataset:
    """``x`` (N, D) float64 in [0,1]^D, target ``y`` (N,) float64, ``f00`` (N,) or None.

    ``provenance`` is a sha256 hex digest identifying the data (source, its content or
    generator parameters, and any split applied); ``meta`` holds JSON-able details
    (source, path, target column, generator version, seed, ...).
    """

    x: np.ndarray
    y: np.ndarray
    f00: np.ndarray | None = None
    label: str | None = None
    provenance: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        x = validate_points(self.x, self.x.shape[1] if np.ndim(self.x) == 2 else -1)
        y = np.asarray(self.y, dtype=np.float64).reshape(-1)
        if y.shape[0] != x.shape[0]:
            raise InputError(f"x has {x.shape[0]} rows but y has {y.shape[0]}; they must match")
        if not np.isfinite(y).all():
            row = int(np.flatnonzero(~np.isfinite(y))[0])
            raise InputError(f"target y contains NaN or inf (first at row {row}); clean the data")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        if self.f00 is not None:
            f00 = np.asarray(self.f00, dtype=np.float64).reshape(-1)
            if f00.shape[0] != x.shape[0]:
                raise InputError(f"f00 has {f00.shape[0]} rows but x has {x.shape[0]}")
            object.__setattr__(self, "f00", f00)

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.x.shape[1])

    def take(self, index: np.ndarray, tag: str) -> Dataset:
        """Rows ``index`` as a new dataset whose provenance records ``tag``."""
        return replace(
            self,
            x=self.x[index],
            y=self.y[index],
            f00=None if self.f00 is None else self.f00[index],
            provenance=hash_json({"parent": self.provenance, "subset": tag}),
        )

    def split(
        self, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> tuple[Dataset, Dataset, Dataset]:
        """Seeded random train / validation / test split (fractions must sum to 1)."""
        if len(fractions) != 3 or abs(sum(fractions) - 1.0) > 1e-9 or min(fractions) < 0:
            raise InputError(f"split fractions {fractions} must be three numbers >= 0 summing to 1")
        n = len(self)
        order = np.random.default_rng(seed).permutation(n)
        n_train = int(round(fractions[0] * n))
        n_val = int(round(fractions[1] * n))
        parts = (order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])
        names = ("train", "validation", "test")
        return tuple(  # type: ignore[return-value]
            self.take(np.sort(p), f"{name}:{fractions}:{seed}") for p, name in zip(parts, names)
        )


def hash_json(obj: Any) -> str:
    """sha256 of a canonical JSON encoding."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def hash_arrays(*arrays: np.ndarray | None) -> str:
    """sha256 over the dtype, shape and bytes of the given arrays (None counts as empty)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()
