"""Benchmark of the closed-form tree production amplitudes of q qbar -> ZZ (:mod:`.tree`).

Figures (points per second, best of ``--repeat`` runs, uniform points of the unit hypercube):

1. the closed form (``tree_all``, 18 amplitudes; ``tree_amplitudes``, 9) at ``--n`` points vs
   the projected tree as the processes computed it before (9 evaluations of the 8D code per
   point, float64 projection with the mpmath rescue near the faces: ``_Production._project``
   with ``loop=False``, chunks of 512) at ``--n-old`` points;
2. f00 of the 2D and 4D processes through ``evaluate(x, ["f00"])`` (now the closed form) vs the
   projected path;
0. with ``--accuracy N``: the largest deviation of the closed form from the extended-precision
   projection :func:`.production.project_exact` on N uniform points and on N face points
   (threshold x1 in 1e-9..1e-3, beam x2 or 1 - x2 in 1e-11..1e-3, equal masses, the 2D slice),
   relative to the size of the point's 9 amplitudes and per amplitude (where |M| >= 1e-3 of the
   size, or within 1e-4 of the beam);
3. prediction of the shipped f01 models ``qqbar-zz-4l/2d/f01/L-0`` and ``4d/f01/L-+``
   (qqzz-factorised: learned Re M_loop times the exact tree) with the closed-form tree (after)
   and with the projected tree (before: ``factorised.tree_amplitudes`` replaced by the former
   implementation).

Run: ``.venv/bin/python scripts/bench_tree.py [--n 100000] [--n-old 10000] [--repeat 3]
[--accuracy 0]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from zoo.plugins.processes.qqzz import factorisation, factorised
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
    return factorisation._real_tree(_projected(QQZZ4D(), np.asarray(x4)[:, :4])[:, 9 * q: 9 * q + 9])


def _embed(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, np.full((len(x), 2), XZ)], axis=1) if x.shape[1] == 2 else x


def _face_points(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.random((n, 4))
    k = np.arange(n)
    thr = k % 3 == 0
    x[thr, 0] = 10 ** rng.uniform(-9, -3, thr.sum())
    beam = (k % 3 == 1) | (k % 4 == 0)
    b = 10 ** rng.uniform(-11, -3, beam.sum())
    x[beam, 1] = np.where(k[beam] % 2 == 1, b, 1.0 - b)
    eq = k % 5 == 0
    x[eq, 3] = x[eq, 2]
    x[k % 6 == 0, 2:] = XZ
    return x


def accuracy(n: int, rng: np.random.Generator) -> None:
    """Print the deviations of item 0 of the module docstring."""
    from zoo.plugins.processes.qqzz.production import project_exact

    for name, x in (("uniform", rng.random((n, 4))), ("faces", _face_points(rng, n))):
        ref, _ = project_exact(x, loop=False)
        closed = tree_all(x)
        size = np.repeat(np.sqrt(np.sum(np.abs(ref.reshape(-1, 2, 9)) ** 2, axis=2)), 9, axis=1)
        err = np.abs(closed - ref)
        beam = np.minimum(x[:, 1], 1.0 - x[:, 1])[:, None] <= 1e-4
        mask = (np.abs(ref) >= 1e-3 * size) | (beam & (np.abs(ref) > 0))
        print(f"accuracy {name} ({n} points): max |closed - exact| / size "
              f"{float(np.max(err / size)):.2g}, per amplitude "
              f"{float(np.max(err[mask] / np.abs(ref[mask]))):.2g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="points for the closed form")
    ap.add_argument("--n-old", type=int, default=10_000, help="points for the projected tree")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--accuracy", type=int, default=0,
                    help="points per set for the accuracy check against project_exact")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    if args.accuracy:
        accuracy(args.accuracy, rng)
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
        proc = QQZZ2D() if d == 2 else QQZZ4D()
        col = proc.helicity_index(label.rsplit("/", 1)[1])
        f00 = proc.evaluate(xo, ["f00"])["f00"][:, col]
        # f01 = 2 M_tree Re M_loop: its relative change is that of the tree; relative to f00
        # it is amplified by |M_loop / M_tree| near the zero line of the tree
        print(f"{label}: f01 after vs before: max relative change "
              f"{float(np.max(np.abs(after - before) / np.abs(before))):.2g}, "
              f"median / f00 {float(np.median(np.abs(after - before) / f00)):.2g}, "
              f"max / f00 {float(np.max(np.abs(after - before) / f00)):.2g}")

    width = max(len(a) for a, _, _ in rows)
    print(f"{'':{width}}  {'points':>8}  {'points/s':>12}  {'s/point':>10}")
    for name, npts, rate in rows:
        print(f"{name:{width}}  {npts:>8}  {rate:>12.4g}  {1 / rate:>10.3g}")


if __name__ == "__main__":
    main()
