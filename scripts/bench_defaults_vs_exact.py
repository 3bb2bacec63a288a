"""Every shipped default (the labels `zoo list` shows) beside the exact generator, one run.

Per label, on fresh uniform points (a seed per label):

* batch: ``zoo.load(label).predict`` on ``--n`` points (best of ``--repeat``), and the exact
  function of the process (``process.function(x, term, helicity)``, the generator the model
  replaces) on the first of the *same* points, in chunks of ``--exact-chunk``, until
  ``--exact-n`` points or ``--exact-seconds`` (the exact 2D/4D functions run at ~20-1000
  points/s: 1e5 of them would take hours); both as points per second, and the speed-up;
* one point: the compiled single-point path ``amp.compile()`` (median of ``--one`` calls,
  each timed alone) and, for comparison, ``amp.predict(x[None])`` per call (median of 200).

Usage::

    python scripts/bench_defaults_vs_exact.py [--n 100000] [--exact-n 100000] [--only GLOB]
        [--backend native]    # the regressors' numpy predict instead of their fast path

Prints a markdown table and the load average before and after (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import time

import numpy as np


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _median_call(fn, points: np.ndarray) -> float:
    times = np.empty(len(points))
    for i, p in enumerate(points):
        t = time.perf_counter()
        fn(p)
        times[i] = time.perf_counter() - t
    return float(np.median(times))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--exact-n", type=int, default=None,
                    help="exact-generator points (the first of the same points; default --n)")
    ap.add_argument("--exact-seconds", type=float, default=5.0,
                    help="stop the exact generator after this many seconds (in chunks)")
    ap.add_argument("--exact-chunk", type=int, default=500)
    ap.add_argument("--one", type=int, default=2000, help="single-point calls timed")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--only", default="*", help="fnmatch pattern of labels")
    ap.add_argument("--backend", default="auto",
                    help="the regressors' batch path: auto (their fast path) or native (their "
                         "numpy predict, for a before/after comparison)")
    args = ap.parse_args()
    exact_n = args.n if args.exact_n is None else min(args.exact_n, args.n)

    import zoo
    from zoo.api import list_models
    from zoo.resolver import find_process
    from zoo.runtime.inference import fast_predictor

    labels = sorted({e["key"] for e in list_models()
                     if fnmatch.fnmatch(e["key"], args.only)})
    print(f"load average before: {os.getloadavg()}; n = {args.n}, exact on up to {exact_n} "
          f"(or {args.exact_seconds} s); "
          f"ZOO_NUM_THREADS={os.environ.get('ZOO_NUM_THREADS', '')!r}, backend {args.backend}",
          flush=True)
    print("| label | regressor | model (points/s) | exact (points/s, points) | speed-up | one point, "
          "compiled (µs) | one point, predict (µs) |")
    print("|---|---|---|---|---|---|---|")
    for i, label in enumerate(labels):
        amp = zoo.load(label, verify=False)
        if args.backend != "auto":
            reg = amp.model.regressor
            amp.model._fast = (reg, fast_predictor(reg, backend=args.backend))
        d = amp.dimension
        x = np.random.default_rng(1000 + i).uniform(0.0, 1.0, size=(args.n, d))
        amp.predict(x[:1000])  # compile / warm
        t_model = _best(lambda amp=amp, x=x: amp.predict(x), args.repeat)
        proc = find_process(amp.label)
        lab = amp.label
        done, t_exact = 0, 0.0
        while done < exact_n and (t_exact < args.exact_seconds or done == 0):
            hi = min(exact_n, done + args.exact_chunk)
            t = time.perf_counter()
            proc.function(x[done:hi], lab.term, lab.helicity)
            t_exact += time.perf_counter() - t
            done = hi
        f = amp.compile()
        f(x[0])
        one = _median_call(f, x[:args.one])
        via_predict = _median_call(lambda p, amp=amp: amp.predict(p[None]), x[:200])
        rate_model = args.n / t_model
        rate_exact = done / t_exact
        name = amp.card.get("regressor", {}).get("name", "?")
        print(f"| {amp.label.key}@{amp.canonical.selector} | {name} | {rate_model / 1e6:.3f} M | "
              f"{rate_exact / 1e3:.2f} k ({done}) | {rate_model / rate_exact:.0f}x | {one * 1e6:.1f} | "
              f"{via_predict * 1e6:.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
