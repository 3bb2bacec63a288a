"""Reproducible, chunked generation of process data into a Zarr group.

Layout written at ``out`` (a Zarr v3 group)::

    x            (N, D) float64   points of [0,1]^D: uniform, or denser at the faces
                                  (``sampling="edges:F"``, see :func:`warp_edges`)
    <term>       (N, H) float64   one column per helicity, for each requested term
    attrs["zoo_generate"] = {process, dimension, helicities, terms, seed, n, chunk,
                             generator_version, provenance, complete}

Chunk ``i`` draws its points from ``numpy.random.default_rng([seed, i])``, so the data
depend only on (seed, n, chunk, sampling) and the process version: the same seed gives the
same bytes. Generation can be resumed: finished chunks are recorded and skipped.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError
from zoo.process import Process
from zoo.training.data import hash_json

DEFAULT_CHUNK = 65_536
UNIFORM = "uniform"


def edge_factor(sampling: str) -> float:
    """The edge-to-centre density ratio F of ``"edges:F"`` (1 for ``"uniform"``).

    Training data for regressors that fit locally (``pwcheb``) want more points where the
    amplitude changes fastest: the faces of the domain (threshold, forward/backward layers).
    """
    if sampling == UNIFORM:
        return 1.0
    kind, _, value = sampling.partition(":")
    try:
        factor = float(value)
    except ValueError:
        factor = float("nan")
    if kind != "edges" or not (1.0 <= factor < 1e6):
        raise ConfigError(
            f"sampling {sampling!r} is not understood; use 'uniform' or 'edges:F' with F >= 1, "
            "the density at the faces of [0,1]^D relative to the centre (e.g. 'edges:10')")
    return factor


def warp_edges(u: np.ndarray, factor: float) -> np.ndarray:
    """Map uniform ``u`` in [0,1) to points whose density is ``factor`` times higher at 0 and 1
    than at 1/2, per axis: ``x = u - a sin(2 pi u) / (2 pi)`` with ``a = (F - 1) / (F + 1)``.

    Monotone for F >= 1, fixes 0, 1/2 and 1; the density is ``1 / (1 - a cos(2 pi u))``, so
    ``(1 + a) / (1 - a) = F`` between the faces and the centre. Pure, float64.
    """
    a = (factor - 1.0) / (factor + 1.0)
    u = np.asarray(u, dtype=np.float64)
    return u - a * np.sin(2.0 * np.pi * u) / (2.0 * np.pi)


def chunk_points(seed: int, index: int, rows: int, dimension: int,
                 sampling: str = UNIFORM) -> np.ndarray:
    """The points of chunk ``index`` (deterministic in seed, index and sampling)."""
    u = np.random.default_rng([seed, index]).random((rows, dimension))
    factor = edge_factor(sampling)
    return u if factor == 1.0 else warp_edges(u, factor)


def provenance(process: Process, terms: Sequence[str], seed: int, n: int, chunk: int,
               sampling: str = UNIFORM) -> str:
    fields: dict[str, Any] = {
        "generator": f"{process.name}/{process.dimension}d",
        "generator_version": process.version,
        "terms": list(terms),
        "seed": seed,
        "n": n,
        "chunk": chunk,
    }
    if sampling != UNIFORM:  # uniform data keep the hashes they always had
        fields["sampling"] = sampling
    return hash_json(fields)


def generate(
    process: Process,
    out: str | os.PathLike,
    *,
    n: int,
    seed: int = 0,
    terms: Sequence[str] | None = None,
    chunk: int = DEFAULT_CHUNK,
    on_chunk: Callable[[int], None] | None = None,
    chunks: Sequence[int] | None = None,
    sampling: str = UNIFORM,
) -> dict[str, Any]:
    """Generate ``n`` points of ``process`` into the Zarr group ``out``; return its attrs.

    ``sampling``: ``"uniform"`` (test sets, the default) or ``"edges:F"`` (training sets for
    local fits: F times denser at the faces, :func:`warp_edges`). ``chunks`` restricts which chunk indices this call computes (used by Dask workers);
    ``on_chunk(rows)`` is called after each chunk (progress bars).
    """

    terms = list(terms or process.terms)
    for t in terms:
        process.check_term(t)
    if n <= 0 or chunk <= 0:
        raise ConfigError(f"n ({n}) and chunk ({chunk}) must be positive")
    edge_factor(sampling)  # validate before anything is written
    meta = {
        "process": process.name,
        "dimension": process.dimension,
        "helicities": list(process.helicities),
        "terms": terms,
        "seed": int(seed),
        "n": int(n),
        "chunk": int(chunk),
        "generator_version": process.version,
        "provenance": provenance(process, terms, seed, n, chunk, sampling),
    }
    if sampling != UNIFORM:
        meta["sampling"] = sampling
    group = open_output(out, meta)
    n_chunks = -(-n // chunk)
    todo = range(n_chunks) if chunks is None else chunks
    if group.attrs["zoo_generate"].get("complete"):
        # already finished (a rerun): nothing to compute, no progress markers to touch
        if on_chunk:
            for i in todo:
                on_chunk(min(chunk, n - i * chunk))
        return {**meta, "complete": True}
    for i in todo:
        if _is_done(out, i):
            if on_chunk:
                on_chunk(min(chunk, n - i * chunk))
            continue
        lo, hi = i * chunk, min(n, (i + 1) * chunk)
        x = chunk_points(seed, i, hi - lo, process.dimension, sampling)
        values = process.evaluate(x, terms)
        group["x"][lo:hi] = x
        for t in terms:
            group[t][lo:hi] = values[t]
        (_marker_dir(out) / f"{i}").touch()
        if on_chunk:
            on_chunk(hi - lo)
    done = all(_is_done(out, i) for i in range(n_chunks))
    if done:
        group.attrs["zoo_generate"] = {**meta, "complete": True}
        shutil.rmtree(_marker_dir(out), ignore_errors=True)
    return {**meta, "complete": done}


def open_output(out: str | os.PathLike, meta: dict[str, Any]):
    """Create the group (or reopen a compatible unfinished one for resuming)."""
    import zarr

    path = os.fspath(out)
    if os.path.exists(os.path.join(path, "zarr.json")):
        group = zarr.open_group(path, mode="r+")
        old = dict(group.attrs.get("zoo_generate", {}))
        complete = old.pop("complete", False)
        if old != meta:
            raise ConfigError(
                f"{path} already holds different generated data ({old.get('provenance', '?')[:12]}); "
                "choose another --out or delete it"
            )
        if not complete:
            _marker_dir(path).mkdir(exist_ok=True)
        return group
    group = zarr.open_group(path, mode="w")
    rows = min(meta["chunk"], meta["n"])
    group.create_array("x", shape=(meta["n"], meta["dimension"]), chunks=(rows, meta["dimension"]), dtype="float64")
    hel = len(meta["helicities"])
    for t in meta["terms"]:
        group.create_array(t, shape=(meta["n"], hel), chunks=(rows, hel), dtype="float64")
    group.attrs["zoo_generate"] = {**meta, "complete": False}
    _marker_dir(path).mkdir(exist_ok=True)
    return group


def _marker_dir(out: str | os.PathLike) -> Path:
    """Per-chunk completion markers, beside the group (Zarr warns about foreign entries)."""
    path = Path(out)
    return path.with_name(f".{path.name}.progress")


def _is_done(out: str | os.PathLike, index: int) -> bool:
    return (_marker_dir(out) / str(index)).exists()
