"""Streaming, resumable prediction into Zarr, on one machine or over Dask workers.

Output layout (a Zarr v3 group at ``out``)::

    y            (N,) float64    predictions, chunked like the work (``chunk`` rows)
    sigma        (N,) float64    with ``uncertainty``: calibrated one-sigma uncertainties
                                 (guarded: 0 where the exact function answered)
    exact        (N,) bool       with ``rtol``: where the exact function answered
    attrs["zoo_predict"] = {label, input, n, chunk, complete[, uncertainty][, rtol]}
    .zoo-done/<i>                 marker of each finished chunk (a rerun skips them)

Inputs: ``.zarr`` (a group with ``x`` (N, D) and optionally ``f00`` (N,), e.g. the output
of ``zoo generate``, or a bare (N, D) array), ``.npz`` (arrays ``x`` and optionally
``f00``) or ``.csv`` (all columns are coordinates, except a column headed ``f00``).
Zarr inputs are read chunk by chunk (bounded memory); npz and csv are read whole.

With Dask, the driver creates the output, then each task loads the amplitude by label
from the registry it is given (``ZOO_HOME`` passed along) and writes whole output
chunks, so concurrent workers never touch the same chunk. Data generation is
distributed the same way through :func:`zoo.training.generate.generate` (``chunks=``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, InputError, NumericalError

DEFAULT_CHUNK = 65_536
MARKERS = ".zoo-done"


# -- inputs ---------------------------------------------------------------------------------
@dataclass
class PointSource:
    """Points ``x`` (N, D) and optional ``f00`` (N,): arrays or Zarr arrays (sliced lazily)."""

    path: str
    x: Any
    f00: Any | None
    #: for an (N, H) f00 of ``zoo generate``: the column to use, or "sum" over helicities
    f00_column: int | str | None = None
    #: CSV only: whether the first line was taken as a header (and not read as a point)
    header: bool | None = None

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def rows(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray | None]:
        x = np.asarray(self.x[lo:hi], dtype=np.float64)
        f00 = None if self.f00 is None else np.asarray(self.f00[lo:hi], dtype=np.float64)
        if f00 is not None and f00.ndim == 2:
            f00 = f00.sum(axis=1) if self.f00_column == "sum" else f00[:, self.f00_column]
        return x, f00


def open_points(path: str | os.PathLike, helicity: str | None = None, *,
                header: bool | None = None) -> PointSource:
    """Open a ``.zarr``, ``.npz`` or ``.csv`` file of points (see the module docstring).

    A ``zoo generate`` group stores f00 per helicity (N, H): ``helicity`` (of the label
    being predicted; ``sum`` sums them) picks the column. ``header`` (CSV only): whether the
    first line names the columns; ``None`` detects it (a header is a first line with a
    field that is not a number).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"input {p} does not exist")
    suffix = p.suffix.lower()
    is_zarr = suffix == ".zarr" or (p / "zarr.json").is_file()
    if not is_zarr and not stat.S_ISREG(os.stat(p).st_mode):
        raise InputError(f"input {p} is not a regular file (a FIFO, device or directory); "
                         "write the points to a .zarr, .npz or .csv file")
    try:
        if suffix == ".zarr" or (p / "zarr.json").is_file():
            return _open_zarr(p, helicity)
        if suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                if "x" not in data.files:
                    raise InputError(f"{p} has arrays {data.files}; it needs 'x' (and optionally 'f00')")
                x = np.asarray(data["x"], dtype=np.float64)
                f00 = np.asarray(data["f00"], dtype=np.float64) if "f00" in data.files else None
            return _checked(PointSource(str(p), x, f00))
        if suffix == ".csv":
            return _checked(_open_csv(p, header))
    except InputError:
        raise
    except Exception as exc:  # whatever numpy, zipfile or zarr make of a malformed file
        raise InputError(f"cannot read {p} as points ({type(exc).__name__}: "
                         f"{str(exc)[:200]}); write x as a .zarr group, a .npz or a .csv "
                         "of numbers") from exc
    raise InputError(f"input {p}: unknown format {suffix!r}; use .zarr, .npz or .csv")


def _open_zarr(p: Path, helicity: str | None) -> PointSource:
    import zarr

    node = zarr.open(str(p), mode="r")
    if isinstance(node, zarr.Array):
        return _checked(PointSource(str(p), node, None))
    keys = set(node.array_keys())
    if "x" not in keys:
        raise InputError(f"{p} has arrays {sorted(keys)}; it needs 'x' (and optionally 'f00')")
    f00 = node["f00"] if "f00" in keys else None
    column: int | str | None = None
    if f00 is not None and len(f00.shape) == 2:
        hels = list(dict(node.attrs.get("zoo_generate", {})).get("helicities", []))
        if helicity == "sum":
            column = "sum"
        elif helicity in hels:
            column = hels.index(helicity)
        elif f00.shape[1] == 1:
            column = 0
        else:
            raise InputError(f"{p}: f00 has {f00.shape[1]} helicity columns {hels}; cannot "
                             f"pick one for helicity {helicity!r}")
    return _checked(PointSource(str(p), node["x"], f00, column))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _open_csv(p: Path, header: bool | None = None) -> PointSource:
    """A comma-separated file: every row a point (a column headed ``f00`` aside).

    Without an explicit ``header``, the first line is a header exactly when one of its
    fields is not a number (``6.37e-01``, ``nan`` and ``inf`` are numbers, so a headerless
    file written by ``numpy.savetxt`` keeps its first row)."""
    with open(p) as fh:
        first = fh.readline()
    names = [c.strip().strip('"') for c in first.split(",")]
    if header is None:
        header = not all(_is_number(c) for c in names if c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input contained no data": below
        data = np.loadtxt(p, delimiter=",", skiprows=1 if header else 0, ndmin=2,
                          dtype=np.float64)
    if data.size == 0:
        raise InputError(f"{p} holds no points; write one point per line, coordinates "
                         "separated by commas")
    if header and "f00" in names:
        j = names.index("f00")
        return PointSource(str(p), np.delete(data, j, axis=1), data[:, j].copy(), header=True)
    return PointSource(str(p), data, None, header=header)


def _checked(src: PointSource) -> PointSource:
    if len(src.x.shape) != 2:
        raise InputError(f"{src.path}: x has shape {tuple(src.x.shape)}; expected (N, D)")
    if src.f00 is not None and (tuple(src.f00.shape)[:1] != (src.n,) or len(src.f00.shape) > 2):
        raise InputError(f"{src.path}: f00 has shape {tuple(src.f00.shape)} for {src.n} points")
    return src


# -- output ---------------------------------------------------------------------------------
def open_output(out: str | os.PathLike, meta: dict[str, Any]) -> Any:
    """Create the output group, or reopen a compatible unfinished one (resume)."""
    import zarr

    path = os.fspath(out)
    if os.path.exists(os.path.join(path, "zarr.json")):
        group = zarr.open_group(path, mode="r+")
        old = dict(group.attrs.get("zoo_predict", {}))
        old.pop("complete", None)
        if old != meta:
            raise ConfigError(
                f"{path} already holds other predictions ({old.get('label', '?')} of "
                f"{old.get('input', '?')}); choose another --output or delete it")
        return group
    group = zarr.open_group(path, mode="w")
    rows = (min(meta["chunk"], max(1, meta["n"])),)
    for name, dtype in _columns(meta).items():
        group.create_array(name, shape=(meta["n"],), chunks=rows, dtype=dtype)
    group.attrs["zoo_predict"] = {**meta, "complete": False}
    (Path(path) / MARKERS).mkdir(exist_ok=True)
    return group


def _columns(meta: dict[str, Any]) -> dict[str, str]:
    """The output arrays of a prediction run and their dtypes."""
    cols = {"y": "float64"}
    if meta.get("uncertainty"):
        cols["sigma"] = "float64"
    if meta.get("rtol") is not None:
        cols["exact"] = "bool"
    return cols


def amplitude_predictor(amplitude: Any, *, uncertainty: bool = False, rtol: float | None = None
                        ) -> Callable[[np.ndarray, np.ndarray | None], Any]:
    """``predict(x, f00)`` for :func:`predict_chunks`: ``amplitude.predict`` itself, or one
    returning ``{"y", "sigma", "exact"}`` columns (``uncertainty``: sigma; ``rtol``: the
    guarded prediction and its exact mask)."""
    if rtol is not None:
        def guarded(x: np.ndarray, f00: np.ndarray | None) -> dict[str, np.ndarray]:
            y, info = amplitude.predict(x, f00, rtol=rtol, return_info=True)
            out = {"y": y, "exact": info["exact"]}
            if uncertainty:
                out["sigma"] = info["sigma"]
            return out

        return guarded
    if uncertainty:
        def with_sigma(x: np.ndarray, f00: np.ndarray | None) -> dict[str, np.ndarray]:
            y, sigma = amplitude.predict(x, f00, return_uncertainty=True)
            return {"y": y, "sigma": sigma}

        return with_sigma
    return amplitude.predict


def _done(out: str | os.PathLike, i: int) -> bool:
    return (Path(out) / MARKERS / str(i)).exists()


def predict_chunks(predict: Callable[[np.ndarray, np.ndarray | None], np.ndarray],
                   source: PointSource, out: str | os.PathLike, indices: Sequence[int],
                   chunk: int, on_chunk: Callable[[int], None] | None = None) -> int:
    """Predict chunks ``indices`` of ``source`` into ``out``; skip finished ones; return rows."""
    import zarr

    group = zarr.open_group(os.fspath(out), mode="r+")
    rows = 0
    for i in indices:
        lo, hi = i * chunk, min(source.n, (i + 1) * chunk)
        if not _done(out, i):
            x, f00 = source.rows(lo, hi)
            try:
                result = predict(x, f00)
            except (InputError, NumericalError) as exc:  # rows in the message: of this chunk
                raise type(exc)(f"in the chunk of input rows {lo}..{hi - 1} (row numbers below "
                                f"count from {lo}): {exc}") from exc
            for name, values in (result if isinstance(result, dict) else {"y": result}).items():
                group[name][lo:hi] = values
            (Path(out) / MARKERS / str(i)).touch()
        rows += hi - lo
        if on_chunk:
            on_chunk(hi - lo)
    return rows


def finish(out: str | os.PathLike, n_chunks: int) -> bool:
    """Mark the output complete when every chunk is done; return whether it is."""
    import zarr

    done = all(_done(out, i) for i in range(n_chunks))
    if done:
        group = zarr.open_group(os.fspath(out), mode="r+")
        group.attrs["zoo_predict"] = {**dict(group.attrs["zoo_predict"]), "complete": True}
    return done


def predict_file(amplitude: Any, input_path: str | os.PathLike, out: str | os.PathLike, *,
                 chunk: int = DEFAULT_CHUNK, on_chunk: Callable[[int], None] | None = None,
                 header: bool | None = None, uncertainty: bool = False,
                 rtol: float | None = None) -> dict[str, Any]:
    """Stream the points of ``input_path`` through ``amplitude.predict`` into ``out``
    (``uncertainty``: also ``sigma``; ``rtol``: guarded, also ``exact``; see
    :func:`amplitude_predictor`).

    The result's ``n_read`` is the number of input rows and ``n`` the number written
    (equal; a mismatch raises)."""
    source = open_points(input_path, label_helicity(str(amplitude.label)), header=header)
    meta = _meta(str(amplitude.label), input_path, source.n, chunk, uncertainty, rtol)
    group = open_output(out, meta)
    n_chunks = -(-source.n // chunk)
    predict = amplitude_predictor(amplitude, uncertainty=uncertainty, rtol=rtol)
    rows = predict_chunks(predict, source, out, range(n_chunks), chunk, on_chunk)
    written = int(group["y"].shape[0])
    if rows != source.n or written != source.n:  # pragma: no cover - an invariant
        raise InputError(f"read {source.n} rows of {input_path} but wrote {written} predictions")
    return {**meta, "complete": finish(out, n_chunks), "n_read": source.n,
            "n_written": written, "header": source.header}


def label_helicity(label: str) -> str | None:
    from zoo.labels import parse

    try:
        return parse(label).helicity
    except Exception:  # noqa: BLE001 - a malformed label fails later, when it is loaded
        return None


def _meta(label: str, input_path: str | os.PathLike, n: int, chunk: int,
          uncertainty: bool = False, rtol: float | None = None) -> dict[str, Any]:
    if chunk <= 0:
        raise ConfigError(f"chunk must be positive, got {chunk}")
    meta: dict[str, Any] = {"label": label, "input": os.path.abspath(os.fspath(input_path)),
                            "n": int(n), "chunk": int(chunk)}
    if uncertainty:  # only when asked: outputs written before keep their metadata
        meta["uncertainty"] = True
    if rtol is not None:
        meta["rtol"] = float(rtol)
    return meta


# -- Dask -----------------------------------------------------------------------------------
@contextlib.contextmanager
def client(scheduler: str, n_workers: int = 2) -> Iterator[Any]:
    """A Dask client: ``local`` starts (and stops) a LocalCluster (processes, 1 thread each).

    Local workers get one BLAS/OpenMP thread each but not distributed's default
    ``MALLOC_TRIM_THRESHOLD_=65536``: with it glibc serves every activation buffer of the
    forward pass through mmap/munmap, which halved the workers' throughput (measured
    0.21 vs 0.38 M points/s per worker, BENCHMARKS.md). Remote clusters keep their own
    configuration (set ``distributed.nanny.pre-spawn-environ`` there likewise).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler != "local":
        with Client(scheduler) as cl:
            yield cl
        return
    with dask.config.set({"distributed.nanny.pre-spawn-environ": dict(WORKER_ENV)}), \
            LocalCluster(n_workers=n_workers, processes=True, threads_per_worker=1,
                         dashboard_address=None) as cluster, Client(cluster) as cl:
        yield cl


#: environment of local Dask workers (replaces distributed's pre-spawn defaults)
WORKER_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _split(indices: Sequence[int], parts: int) -> list[list[int]]:
    parts = max(1, min(parts, len(indices)))
    return [list(indices[k::parts]) for k in range(parts)]


_AMPLITUDES: dict[tuple, Any] = {}


def _worker_predict(label: str, registry: str | None, zoo_home: str | None, input_path: str,
                    out: str, indices: list[int], chunk: int, uncertainty: bool = False,
                    rtol: float | None = None) -> int:
    """Runs on a worker: load the amplitude once per process, predict ``indices``."""
    if zoo_home:
        os.environ["ZOO_HOME"] = zoo_home
    _pin_threads()
    key = (label, registry, zoo_home)
    amp = _AMPLITUDES.get(key)
    if amp is None:
        from zoo.api import load

        amp = _AMPLITUDES[key] = load(label, registry=registry)
    source = open_points(input_path, label_helicity(label))
    predict = amplitude_predictor(amp, uncertainty=uncertainty, rtol=rtol)
    return predict_chunks(predict, source, out, indices, chunk)


def _pin_threads() -> None:
    """Compute with the worker's own thread count, not every core of the machine."""
    from distributed import get_worker

    try:
        threads = get_worker().state.nthreads
    except (ValueError, AttributeError):
        return
    os.environ.setdefault("ZOO_NUM_THREADS", str(threads))


def dask_predict(label: str, input_path: str | os.PathLike, out: str | os.PathLike, *,
                 scheduler: str = "local", registry: str | None = None, chunk: int = DEFAULT_CHUNK,
                 tasks_per_worker: int = 4, n_workers: int = 2,
                 on_chunk: Callable[[int], None] | None = None, uncertainty: bool = False,
                 rtol: float | None = None) -> dict[str, Any]:
    """Predict a Zarr input over Dask workers into ``out`` (resumable like :func:`predict_file`;
    ``uncertainty`` and ``rtol`` as there)."""
    from distributed import as_completed

    input_path = os.path.abspath(os.fspath(input_path))
    out = os.path.abspath(os.fspath(out))
    if not (Path(input_path) / "zarr.json").is_file():
        raise InputError(f"--dask needs a Zarr input that every worker can read; {input_path} "
                         "is not one (convert it, e.g. with zarr.save)")
    source = open_points(input_path, label_helicity(label))
    meta = _meta(label, input_path, source.n, chunk, uncertainty, rtol)
    open_output(out, meta)
    n_chunks = -(-source.n // chunk)
    todo = [i for i in range(n_chunks) if not _done(out, i)]
    home = os.environ.get("ZOO_HOME")
    reg = None if registry is None else (
        os.path.abspath(registry) if os.path.exists(registry) else registry)
    with client(scheduler, n_workers) as cl:
        workers = max(1, len(cl.scheduler_info().get("workers", {})) or n_workers)
        futures = [cl.submit(_worker_predict, label, reg, home, input_path, out, part, chunk,
                             uncertainty, rtol, pure=False)
                   for part in _split(todo, workers * tasks_per_worker)]
        if on_chunk:
            on_chunk(source.n - sum(min(chunk, source.n - i * chunk) for i in todo))
        for fut in as_completed(futures):
            rows = fut.result()
            if on_chunk:
                on_chunk(rows)
    return {**meta, "complete": finish(out, n_chunks)}


def _worker_generate(process_key: str, out: str, n: int, seed: int, terms: list[str] | None,
                     chunk: int, indices: list[int], sampling: str = "uniform") -> int:
    from zoo import plugin_manager
    from zoo.training.generate import generate

    proc = plugin_manager.get("processes", process_key)
    generate(proc, out, n=n, seed=seed, terms=terms, chunk=chunk, chunks=indices,
             sampling=sampling)
    return sum(min(chunk, n - i * chunk) for i in indices)


def dask_generate(process_key: str, out: str | os.PathLike, *, n: int, seed: int = 0,
                  terms: Sequence[str] | None = None, chunk: int = 65_536,
                  scheduler: str = "local", n_workers: int = 2, tasks_per_worker: int = 4,
                  on_chunk: Callable[[int], None] | None = None,
                  sampling: str = "uniform") -> dict[str, Any]:
    """:func:`zoo.training.generate.generate` with its chunks computed on Dask workers."""
    from distributed import as_completed

    from zoo import plugin_manager
    from zoo.training.generate import generate

    out = os.path.abspath(os.fspath(out))
    proc = plugin_manager.get("processes", process_key)
    terms_l = list(terms) if terms else None
    generate(proc, out, n=n, seed=seed, terms=terms_l, chunk=chunk, chunks=[],
             sampling=sampling)  # create
    n_chunks = -(-n // chunk)
    marker = Path(out) / ".zoo-done"
    todo = [i for i in range(n_chunks) if not (marker / str(i)).exists()]
    with client(scheduler, n_workers) as cl:
        workers = max(1, len(cl.scheduler_info().get("workers", {})) or n_workers)
        futures = [cl.submit(_worker_generate, process_key, out, n, seed, terms_l, chunk, part,
                             sampling, pure=False)
                   for part in _split(todo, workers * tasks_per_worker)]
        for fut in as_completed(futures):
            rows = fut.result()
            if on_chunk:
                on_chunk(rows)
    return generate(proc, out, n=n, seed=seed, terms=terms_l, chunk=chunk, chunks=[],
                    sampling=sampling)
