"""Small helpers shared by the built-in transforms."""

from __future__ import annotations

import numpy as np

from zoo.errors import ArtifactError, ConfigError, InputError, NotFittedError

__all__ = ["NotFittedError", "as_vector", "check_choice", "check_state", "first_bad_row"]


def check_choice(owner: object, name: str, value: object, choices: tuple[str, ...]) -> str:
    """Raise ConfigError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ConfigError(
            f"{type(owner).__name__}: {name}={value!r} is invalid; choose one of "
            + ", ".join(repr(c) for c in choices)
        )
    return str(value)


def as_vector(values: np.ndarray, n: int, what: str) -> np.ndarray:
    """``values`` as a float64 (n,) array, or InputError."""
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.shape[0] != n:
        raise InputError(f"{what} has {arr.shape[0]} rows but the batch has {n}")
    return arr


def first_bad_row(mask: np.ndarray) -> int:
    """Index of the first True entry of ``mask``."""
    return int(np.flatnonzero(mask)[0])


def check_state(owner: object, state: dict[str, np.ndarray], keys: tuple[str, ...]) -> dict:
    """Validate a state dict written by ``get_state``; return float64 copies."""
    got = set(state)
    if got != set(keys):
        raise ArtifactError(
            f"{type(owner).__name__} state must have exactly the arrays {sorted(keys)}, "
            f"got {sorted(got)}; the artifact's transform state is malformed"
        )
    out = {}
    for key in keys:
        arr = np.array(state[key], dtype=np.float64)
        if not np.isfinite(arr).all():
            raise ArtifactError(f"{type(owner).__name__} state array {key!r} is not finite")
        out[key] = arr
    return out
