"""Speed of the q qbar -> ZZ production processes: points/s of ``evaluate`` (all terms).

Usage: ``python scripts/bench_production.py [--n 2000] [--repeat 3] [--seed 0]``.
Each production point costs 9 evaluations of the 8D amplitudes (decay-angle quadrature).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from zoo.plugins.processes.qqzz.process import QQZZ8D
from zoo.plugins.processes.qqzz.production import QQZZ2D, QQZZ4D


def bench(proc, x: np.ndarray, terms, repeat: int) -> float:
    """Best of ``repeat`` runs, points per second."""
    proc.evaluate(x[:8], terms)  # warm-up
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc.evaluate(x, terms)
        best = min(best, time.perf_counter() - t0)
    return x.shape[0] / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="points per run")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, n={a.n}")
    print("| process | terms | points/s |")
    print("|---|---|---|")
    for proc in (QQZZ4D(), QQZZ2D(), QQZZ8D()):
        x = rng.uniform(0.0, 1.0, size=(a.n, proc.dimension))
        for terms in (("f00", "f01", "f11"), ("f00",)):
            rate = bench(proc, x, terms, a.repeat)
            print(f"| {proc.name}/{proc.dimension}d | {','.join(terms)} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
