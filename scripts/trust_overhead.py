"""Overhead of the uncertainty on plain prediction: best of ``--repeat`` timings of
``amp.predict(x)`` and ``amp.predict(x, return_uncertainty=True)`` on the same uniform
points, per label (issue 16: at most 2x).

    python scripts/trust_overhead.py --n 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import zoo

LABELS = ("qqbar-zz-4l/8d/f11/RRR", "qqbar-zz-4l/8d/f01/RRR", "qqbar-zz-4l/4d/f11/L++",
          "qqbar-zz-4l/4d/f01/L++", "qqbar-zz-4l/2d/f11/L++", "qqbar-zz-4l/2d/f01/L+0")


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print("| label | N | predict s | with sigma s | overhead |")
    print("|---|---|---|---|---|")
    for label in LABELS:
        amp = zoo.load(label)
        x = np.random.default_rng([1702, amp.dimension]).random((args.n, amp.dimension))
        amp.predict(x[:64]), amp.predict(x[:64], return_uncertainty=True)
        plain = best(lambda: amp.predict(x), args.repeat)  # noqa: B023
        unc = best(lambda: amp.predict(x, return_uncertainty=True), args.repeat)  # noqa: B023
        print(f"| {label.split('qqbar-zz-4l/')[1]} | {args.n} | {plain:.3f} | {unc:.3f} | "
              f"{unc / plain:.2f}x |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
