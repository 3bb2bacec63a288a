"""Benchmark of the closed-form tree production amplitudes of q qbar -> ZZ (:mod:`.tree`).

Figures (points per second, best of ``--repeat`` runs, uniform points of the unit hypercube):

1. the closed form (``tree_all``, 18 amplitudes; ``tree_amplitudes``, 9) at ``--n`` points vs
   the projected tree as the processes computed it before (9 evaluations of the 8D code per
   point, float64 projection with the mpmath rescue near the faces: ``_Production._project``
   with ``loop=False``, chunks of 512) at ``--n-old`` points;
2. f00 of the 2D and 4D processes through ``evaluate(x, ["f00"])`` (now the closed form) vs the
   projected path;
3. prediction of the shipped f01 models ``qqbar-zz-4l/2d/f01/L-0`` and ``4d/f01/L-+``
   (qqzz-factorised: learned Re M_loop times the exact tree) with the closed-form tree (after)
   and with the projected tree (before: ``factorised.tree_amplitudes`` replaced by the former
   implementation).

Run: ``.venv/bin/python scripts/bench_tree.py [--n 100000] [--n-old 10000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from zoo.plugins.processes.qqzz import factorised
from zoo.plugins.processes.qqzz.production import QQZZ2D, QQZZ4D, XZ
from zoo.plugins.processes.qqzz.tree import tree_all, tree_amplitudes


def _rate(fn: Callable[..., object], args: tuple, n: int, repeat: int) -> float:
    """Points per second of ``fn(*args)`` on ``n`` points (best of ``repeat`` runs)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return n / best


def _projected(proc, x4: np.ndarray) -> np.ndarray:
    """The tree as the processes computed it before the closed form (N, 18) complex."""
    out = []
    for lo in range(0, len(x4), proc.chunk):
        out.append(proc._project(x4[lo: lo + proc.chunk], False)[0])
    return np.concatenate(out)


def _old_tree_amplitudes(x4: np.ndarray, quark: str = "L") -> np.ndarray:
    """The former ``factorised.tree_amplitudes``: the projected tree, checked real."""
    q = 0 if quark == "L" else 1
    return factorised._real_tree(_projected(QQZZ4D(), np.asarray(x4)[:, :4])[:, 9 * q: 9 * q + 9])


def _embed(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.full((len(x), 2), XZ)], axis=1) if x.shape[1] == 2 else x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="points for the closed form")
    ap.add_argument("--n-old", type=int, default=10_000, help="points for the projected tree")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n, n_old, r = args.n, args.n_old, args.repeat
    x4 = rng.random((n, 4))
    x4_old = x4[:n_old]
    rows = []

    rows.append(("closed form tree_all (18)", n, _rate(tree_all, (x4,), n, r)))
    rows.append(("closed form tree_amplitudes (9, L)", n,
                 _rate(tree_amplitudes, (x4, "L"), n, r)))
    p4 = QQZZ4D()
    rows.append(("projected tree, 4D (before)", n_old,
                 _rate(_projected, (p4, x4_old), n_old, 1)))

    for proc in (QQZZ2D(), QQZZ4D()):
        d = proc.dimension
        x = rng.random((n, d))
        rows.append((f"{d}D evaluate f00 (closed form)", n,
                     _rate(proc.evaluate, (x, ["f00"]), n, r)))
        xo = _embed(x[:n_old])
        rows.append((f"{d}D f00 projected (before)", n_old,
                     _rate(_projected, (proc, xo), n_old, 1)))

    from zoo.api import load

    for label in ("qqbar-zz-4l/2d/f01/L-0", "qqbar-zz-4l/4d/f01/L-+"):
        amp = load(label, verify=False)
        d = 2 if "/2d/" in label else 4
        x = rng.random((n, d))
        rows.append((f"{label} predict (closed tree)", n, _rate(amp.predict, (x,), n, r)))
        xo = x[:n_old]
        after = amp.predict(xo)
        new = factorised.tree_amplitudes
        factorised.tree_amplitudes = _old_tree_amplitudes
        try:
            rows.append((f"{label} predict (projected tree, before)", n_old,
                         _rate(amp.predict, (xo,), n_old, 1)))
            before = amp.predict(xo)
        finally:
            factorised.tree_amplitudes = new
        scale = np.maximum(np.abs(before), 1e-300)
        print(f"{label}: max |after - before| / |before| = "
              f"{float(np.max(np.abs(after - before) / scale)):.2g}")

    width = max(len(a) for a, _, _ in rows)
    print(f"{'':{width}}  {'points':>8}  {'points/s':>12}  {'s/point':>10}")
    for name, npts, rate in rows:
        print(f"{name:{width}}  {npts:>8}  {rate:>12.4g}  {1 / rate:>10.3g}")


if __name__ == "__main__":
    main()
