"""Guarded prediction against the exact generator, side by side in one process: the best and
the median of ``--repeat`` alternating timings of ``amp.predict(x, rtol=R,
return_info=True)`` and of the process's exact function on the same uniform points
(issue 16: at least 3x faster at rtol 1e-3 on 1e5 points), plus plain ``amp.predict(x)``.

    python scripts/bench_guarded.py --n 100000 --repeat 5
    python scripts/bench_guarded.py --labels qqbar-zz-4l/8d/f11/RRR --no-cell-order   # A/B
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import zoo
from zoo import resolver

LABELS = ("qqbar-zz-4l/8d/f11/RRR", "qqbar-zz-4l/8d/f01/RRR", "qqbar-zz-4l/4d/f11/L++",
          "qqbar-zz-4l/4d/f01/L++", "qqbar-zz-4l/2d/f11/L++")


def timed(fn, *a) -> float:
    t0 = time.perf_counter()
    fn(*a)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--labels", nargs="*", default=list(LABELS))
    ap.add_argument("--no-cell-order", action="store_true",
                    help="A/B switch: 8D batches in the rows' own order (factorised_fast.SORT_MIN "
                         "raised above any batch)")
    args = ap.parse_args(argv)
    if args.no_cell_order:
        from zoo.plugins.processes.qqzz import factorised_fast

        factorised_fast.SORT_MIN = 1 << 62
    print("| label | N | exact frac | guarded s (best / median) | exact s (best / median) | "
          "plain s (best) | speed-up (best / median) |")
    print("|---|---|---|---|---|---|---|")
    for label in args.labels:
        amp = zoo.load(label)
        proc = resolver.find_process(amp.canonical)
        _, dim, term, hel = label.split("/")[:4]  # the label asked for, not its canonical
        x = np.random.default_rng(args.seed).random((args.n, int(dim[0])))
        warm = x[:64]
        amp.predict(warm, rtol=args.rtol, return_info=True)
        proc.function(warm, term, hel)
        guarded, exact, plain, frac = [], [], [], 0.0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            _, info = amp.predict(x, rtol=args.rtol, return_info=True)
            guarded.append(time.perf_counter() - t0)
            frac = float(np.mean(info["exact"]))
            exact.append(timed(proc.function, x, term, hel))
            plain.append(timed(amp.predict, x))
        g, e = np.array(guarded), np.array(exact)
        print(f"| {label} | {args.n} | {frac:.4f} | {g.min():.3f} / {np.median(g):.3f} | "
              f"{e.min():.3f} / {np.median(e):.3f} | {min(plain):.3f} | "
              f"{e.min() / g.min():.1f}x / {np.median(e) / np.median(g):.1f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
