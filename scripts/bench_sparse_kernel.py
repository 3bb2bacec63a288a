"""``pwcheb`` total-degree models: the sparse kernel against the tensor layout, points/s.

Two models, each timed on one batch of ``--n`` uniform points (default 10^5) with the
kernel the regressor now picks (``sparse``) and with the former path (``tensor``: the
coefficients scattered into the full tensor layout of the compiled kernel):

* ``synthetic``: a total-degree model of ``--degrees`` on ``--cells`` graded cells of the
  unit box with random decaying coefficients (no fit), through its kernel's ``predict``;
* each ``--label``: a shipped amplitude, ``zoo.load(label).predict`` (transforms and every
  pwcheb part included; the tensor path is forced on all its pwcheb parts).

    NUMBA_NUM_THREADS=1 python scripts/bench_sparse_kernel.py \
        [--n 100000] [--repeat 7] [--threads 1] [--label qqbar-zz-4l/4d/f11/L--]

The paths alternate within each of ``--repeat`` rounds (a shared machine's load then
weighs on both alike); the table gives the best, median and worst of the rounds, the
speed-up of the best rates and the largest difference between the two paths' predictions
relative to the largest |prediction|. Compilation is excluded (one warm-up call each).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


def synthetic_model(cells: list[int], degrees: list[int], seed: int = 0) -> Any:
    """A fitted-looking ``pwcheb`` model with basis "total" on the unit box: edges graded
    by 1.3, coefficients standard normal over (1 + sum k)^2."""
    from zoo.plugins.regressors.piecewise import (
        PiecewiseChebyshevRegressor,
        basis_indices,
        graded_edges,
    )

    reg = PiecewiseChebyshevRegressor(cells=cells, degree=degrees, basis="total")
    reg.edges_ = [graded_edges(0.0, 1.0, c, 1.3) for c in cells]
    reg.degrees_ = np.asarray(degrees, dtype=np.int64)
    reg.index_ = basis_indices(degrees, "total")
    coef = np.random.default_rng(seed).standard_normal((int(np.prod(cells)), len(reg.index_)))
    reg.coef_ = coef / (1.0 + reg.index_.sum(axis=1)) ** 2
    reg.n_features_ = len(cells)
    return reg


def pwcheb_parts(regressor: Any) -> list[Any]:
    """The ``pwcheb`` regressors inside ``regressor`` (itself, or the parts of a composite
    such as ``qqzz-factorised``)."""
    from zoo.plugins.regressors.piecewise import PiecewiseChebyshevRegressor

    if isinstance(regressor, PiecewiseChebyshevRegressor):
        return [regressor]
    parts = getattr(regressor, "parts_", [])
    return [p for p in parts if isinstance(p, PiecewiseChebyshevRegressor)]


def tensor_kernels(parts: list[Any]) -> list[Any]:
    """The parts packed as before the sparse kernel: the compiled kernel on coefficients
    scattered into the full tensor layout."""
    from zoo.plugins.regressors.piecewise_kernel import PiecewiseKernel

    return [PiecewiseKernel.build(p.edges_, p.degrees_, p._tensor_coef()) for p in parts]


@contextmanager
def using(parts: list[Any], kernels: list[Any]) -> Iterator[None]:
    """Within the block each part predicts with the given kernel."""
    for p, kernel in zip(parts, kernels):
        p._kernel = lambda k=kernel: k  # shadows the method on this instance
    try:
        yield
    finally:
        for p in parts:
            del p._kernel


def compare(paths: dict[str, Callable[[], np.ndarray]], n: int, repeat: int) -> dict[str, Any]:
    """Points/s of every path over ``repeat`` alternating rounds, and their predictions."""
    preds = {name: fn() for name, fn in paths.items()}  # warm-up: compile, pack
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(repeat):
        for name, fn in paths.items():
            t0 = time.perf_counter()
            fn()
            rates[name].append(n / (time.perf_counter() - t0))
    return {"rates": rates, "preds": preds}


def rows(model: str, sizes: dict[str, str], result: dict[str, Any]) -> list[str]:
    """Markdown table rows of one model (``tensor`` first, then ``sparse``)."""
    rates, preds = result["rates"], result["preds"]
    ref = preds["tensor"]
    scale = float(np.nanmax(np.abs(ref)))
    diff = float(np.nanmax(np.abs(preds["sparse"] - ref))) / scale
    same = np.array_equal(preds["sparse"], ref, equal_nan=True)
    agree = {"tensor": "-", "sparse": f"{diff:.1e}" + (" (bitwise equal)" if same else "")}
    out = []
    for name in ("tensor", "sparse"):
        r = sorted(rates[name])
        speedup = r[-1] / max(rates["tensor"])
        out.append(f"| {model} | {name} | {sizes[name]} | {r[-1] / 1e6:.3f} | "
                   f"{statistics.median(r) / 1e6:.3f} | {r[0] / 1e6:.3f} | {speedup:.2f}x | "
                   f"{agree[name]} |")
    return out


def bench_synthetic(cells: list[int], degrees: list[int], x: np.ndarray, threads: int,
                    repeat: int) -> list[str]:
    from zoo.plugins.regressors.piecewise_kernel import PiecewiseKernel

    reg = synthetic_model(cells, degrees)
    sparse = reg._kernel()
    tensor = PiecewiseKernel.build(reg.edges_, reg.degrees_, reg._tensor_coef())
    result = compare({"tensor": lambda: tensor.predict(x, n_threads=threads),
                      "sparse": lambda: sparse.predict(x, n_threads=threads)}, len(x), repeat)
    name = f"synthetic, total {tuple(degrees)}, cells {tuple(cells)}: kernel.predict"
    sizes = {"tensor": str(tensor.coef.shape[1]), "sparse": str(sparse.coef.shape[1])}
    return rows(name, sizes, result)


def bench_label(label: str, n: int, repeat: int, seed: int) -> list[str]:
    import zoo

    amp = zoo.load(label)
    parts = pwcheb_parts(amp.model.regressor)
    if not parts:
        raise SystemExit(f"{label} holds no pwcheb model")
    x = np.random.default_rng(seed).uniform(0.01, 0.99, size=(n, amp.dimension))

    before = tensor_kernels(parts)

    def tensor() -> np.ndarray:
        with using(parts, before):
            return amp.predict(x)

    result = compare({"tensor": tensor, "sparse": lambda: amp.predict(x)}, n, repeat)
    sizes = {"tensor": "+".join(str(int(np.prod(p.degrees_ + 1))) for p in parts),
             "sparse": "+".join(str(p.index_.shape[0]) for p in parts)}
    name = (f"{label}@{amp.card.get('version', '?')} ({len(parts)} pwcheb parts): "
            "zoo.load(label).predict")
    return rows(name, sizes, result)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="points per batch")
    ap.add_argument("--repeat", type=int, default=7, help="timed rounds per path")
    ap.add_argument("--threads", type=int, default=1, help="kernel threads (ZOO_NUM_THREADS)")
    ap.add_argument("--cells", default="12,22,1,1", help="synthetic model: cells per axis")
    ap.add_argument("--degrees", default="12,12,8,8", help="synthetic model: degree per axis")
    ap.add_argument("--label", action="append", default=None,
                    help="shipped amplitude(s) to time (default qqbar-zz-4l/4d/f11/L--)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    os.environ["ZOO_NUM_THREADS"] = str(args.threads)
    cells = [int(v) for v in args.cells.split(",")]
    degrees = [int(v) for v in args.degrees.split(",")]
    x = np.random.default_rng(args.seed).random((args.n, len(cells)))

    print(f"\n### pwcheb total-degree models: points/s at a batch of {args.n:g}, "
          f"{args.threads} thread(s), {args.repeat} rounds\n")
    print("| model | layout | coefficients per cell evaluated | best (M/s) | median | worst "
          "| speed-up (best) | max diff / max abs |")
    print("|---|---|---|---|---|---|---|---|")
    for line in bench_synthetic(cells, degrees, x, args.threads, args.repeat):
        print(line, flush=True)
    for label in args.label or ["qqbar-zz-4l/4d/f11/L--"]:
        for line in bench_label(label, args.n, args.repeat, args.seed):
            print(line, flush=True)


if __name__ == "__main__":
    main()
