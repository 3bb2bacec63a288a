"""One point per call through ``zoo``'s compiled single-point path (``amp.compile()``) for
every label ``zoo list`` shows by default and its R-quark partner (a non-canonical label: the
coordinate map inside): the best of ``--rounds`` medians of ``--calls`` calls, one thread.

    ZOO_NUM_THREADS=1 python scripts/bench_single_point.py [--rounds 5] [--calls 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args(argv)

    import zoo
    from zoo.api import list_models

    labels = sorted({e["label"].split("@")[0] for e in list_models()})
    worst = 0.0
    print("| label | one point µs (compiled) |\n|---|---|")
    for base in labels:
        for label in (base, base.replace("/L", "/R", 1)):
            amp = zoo.load(label)
            f = amp.compile()
            x = np.random.default_rng(0).uniform(0.1, 0.9, amp.dimension)
            f(x)
            best = float("inf")
            for _ in range(args.rounds):
                times = []
                for _ in range(args.calls):
                    t0 = time.perf_counter()
                    f(x)
                    times.append(time.perf_counter() - t0)
                best = min(best, statistics.median(times) * 1e6)
            worst = max(worst, best)
            print(f"| {label} | {best:.1f} |")
    print(f"\nslowest: {worst:.1f} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
