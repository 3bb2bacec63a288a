"""Speed of the q qbar -> ZZ production processes: points/s of ``evaluate`` (all terms).

Usage: ``python scripts/bench_production.py [--n 2000] [--repeat 3] [--seed 0] [--sampling S]
[--no-dd] [--node-test] [--only 4d,2d,8d] [--cpu] [--accuracy N]``; ``--sampling edges:F`` warps
the points towards the faces as ``zoo generate --sampling edges:F``; ``--no-dd``: extended
precision in MPFR only (pre-dd); ``--node-test``: 2D/4D with the 8D stability test at the nodes;
``--accuracy N``: also the largest relative error of f (f00, f11; f01 to sqrt(f00 f11)) of
``evaluate`` against the projection in extended precision of all of the first N points;
``--points FILE.npz``: the first D coordinates of the array ``x`` of that file (e.g. a reference
file of ``../shared/data/qqbar_zz_dks_reference``) instead of random points.
Each production point costs 4 evaluations of the 8D amplitudes (decay-angle nodes).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from zoo.plugins.processes.qqzz import amplitudes as amp
from zoo.plugins.processes.qqzz.process import QQZZ8D
from zoo.plugins.processes.qqzz.production import QQZZ2D, QQZZ4D
from zoo.training.generate import edge_factor, warp_edges


def bench(proc, x: np.ndarray, terms, repeat: int, clock=time.perf_counter) -> float:
    """Best of ``repeat`` runs, points per second (``clock``: wall or CPU time)."""
    proc.evaluate(x[:8], terms)  # warm-up
    best = np.inf
    for _ in range(repeat):
        t0 = clock()
        proc.evaluate(x, terms)
        best = min(best, clock() - t0)
    return x.shape[0] / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="points per run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sampling", default="uniform", help="uniform or edges:F")
    ap.add_argument("--no-dd", action="store_true", help="MPFR-only extended precision")
    ap.add_argument("--only", default="4d,2d,8d", help="processes to time")
    ap.add_argument("--cpu", action="store_true", help="CPU time (process_time), not wall")
    ap.add_argument("--node-test", action="store_true", help="8D stability test at the nodes")
    ap.add_argument("--accuracy", type=int, default=0, help="points checked against extended")
    ap.add_argument("--points", default=None, help=".npz file whose x[:, :D] are the points")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    dd = not a.no_dd
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, n={a.n}, "
        f"sampling={a.sampling}, dd={dd}, clock={'cpu' if a.cpu else 'wall'}"
    )
    print("| process | terms | points/s | extended-precision points (dd) |")
    print("|---|---|---|---|")
    kw = {"node_test": True} if a.node_test else {}
    procs = {"4d": QQZZ4D(dd=dd, **kw), "2d": QQZZ2D(dd=dd, **kw), "8d": QQZZ8D(dd=dd)}
    for name in a.only.split(","):
        proc = procs[name]
        x = rng.uniform(0.0, 1.0, size=(a.n, proc.dimension))
        factor = edge_factor(a.sampling)
        if factor != 1.0:
            x = warp_edges(x, factor)
        if a.points:
            with np.load(a.points) as data:
                x = np.ascontiguousarray(data["x"][: a.n, : proc.dimension], dtype=np.float64)
        for terms in (("f00", "f01", "f11"), ("f00",)):
            proc.evaluate(x[:64], terms)  # one-time loads (numba caches, lazy imports)
            rate = bench(proc, x, terms, a.repeat, time.process_time if a.cpu else time.perf_counter)
            ext = (
                f"{proc.last_exact} ({proc.last_exact_dd})"
                if hasattr(proc, "last_exact")
                else f"{sum(i.n_rescued_points for i in proc.last_rescue)} "
                f"({sum(i.n_rescued_dd for i in proc.last_rescue)})"
            )
            print(f"| {proc.name}/{proc.dimension}d | {','.join(terms)} | {rate:,.0f} | {ext} |")
        if a.accuracy and hasattr(proc, "last_exact"):
            print(f"  accuracy ({a.accuracy} points): {accuracy(proc, x[: a.accuracy])}")


def accuracy(proc, x: np.ndarray) -> str:
    """Largest relative error of ``proc.evaluate(x)`` against the extended-precision projection
    of every point (dd where the digit loss allows, else MPFR), and how many exceed 1e-9."""
    from zoo.plugins.processes.qqzz import ddamp
    from zoo.plugins.processes.qqzz.production import PROD_DD_MAX_LOSS, project_exact

    f = proc.evaluate(x)
    x4 = proc._to_x4(x)
    n = x4.shape[0]
    use = ddamp.project_loss_digits(x4) <= PROD_DD_MAX_LOSS
    t = np.empty((n, 18), dtype=np.complex128)
    lo = np.empty((n, 18), dtype=np.complex128)
    for sel, fn in ((use, ddamp.project_dd), (~use, project_exact)):
        if sel.any():
            t[sel], lo[sel] = fn(x4[sel], mu=proc.mu)
    g = amp.squared(t, lo)
    e = np.zeros(n)
    for term in ("f00", "f11"):
        e = np.maximum(e, (np.abs(f[term] - g[term]) / np.abs(g[term])).max(axis=1))
    d = np.abs(f["f01"] - g["f01"]) / np.sqrt(g["f00"] * g["f11"])
    e = np.maximum(e, d.max(axis=1))
    return f"worst {e.max():.2e}, {(e > 1e-9).sum()} of {n} points above 1e-9"


if __name__ == "__main__":
    main()
