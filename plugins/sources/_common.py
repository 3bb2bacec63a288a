"""Helpers shared by the built-in source readers: validation, provenance, the Dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.labels import parse
from zoo.training.data import Dataset, hash_arrays, hash_json

# bump when a reader changes how it turns files into arrays
READER_VERSION = "1"


def existing_path(path: str | Path, what: str) -> Path:
    """``path`` as a Path that exists, or InputError naming it."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"{what}: {str(p)!r} does not exist; check the path given to --data")
    return p


def check_options(source: str, options: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(
            f"source {source!r} has no option(s) {', '.join(map(repr, unknown))}; "
            f"valid ones: {', '.join(allowed) or '(none)'}"
        )


def check_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 1:
        raise ConfigError(f"limit={limit!r} is invalid; give a positive number of rows or None")
    return int(limit)


def check_label(label: str | None) -> str | None:
    return None if label is None else str(parse(label))


def check_block(
    x: np.ndarray, y: np.ndarray, f00: np.ndarray | None, where: str, offset: int = 0
) -> None:
    """Validate rows read from one file (or block): x in [0,1], y and f00 finite.

    ``offset`` is the row number (in ``where``) of the block's first row.
    """
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        row = offset + int(np.flatnonzero(bad)[0])
        raise InputError(f"{where}: x contains NaN or inf (first at row {row}); fix the data")
    bad = ((x < 0.0) | (x > 1.0)).any(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{where}: x is outside the unit hypercube [0,1]^{x.shape[1]} at row {offset + i} "
            f"({x[i].tolist()}); the zoo expects points of the unit hypercube"
        )
    for name, v in (("y", y), ("f00", f00)):
        if v is None:
            continue
        bad = ~np.isfinite(v)
        if bad.any():
            row = offset + int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{where}: {name} contains NaN or inf (first at row {row}); clean the data"
            )


def make_dataset(
    source: str,
    path: Path,
    x: np.ndarray,
    y: np.ndarray,
    f00: np.ndarray | None,
    *,
    target: str,
    label: str | None,
    options: dict[str, Any],
    meta: dict[str, Any] | None = None,
) -> Dataset:
    """Build the Dataset with a content-based provenance hash (arrays + source + options).

    The path is recorded in ``meta`` but not hashed: the same data read from another
    place has the same provenance.
    """
    provenance = hash_json(
        {
            "source": source,
            "reader_version": READER_VERSION,
            "target": target,
            "options": options,
            "arrays": hash_arrays(x, y, f00),
        }
    )
    info = {
        "source": source,
        "path": str(path),
        "target": target,
        "n": int(x.shape[0]),
        "dimension": int(x.shape[1]),
        "has_f00": f00 is not None,
        **(meta or {}),
    }
    return Dataset(x=x, y=y, f00=f00, label=label, provenance=provenance, meta=info)
