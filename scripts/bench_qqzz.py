"""Benchmark the q qbar -> ZZ -> 4l exact amplitudes (points per second, one core).

Usage: OMP_NUM_THREADS=1 python scripts/bench_qqzz.py [-n 100000] [--chunk 4096] [--repeat 3]
[--no-dd] [--compare-mpfr] [--cpu]

``--no-dd``: the rescue in MPFR only (the pre-double-double behaviour); ``--compare-mpfr``: also
time the production path with the MPFR rescue in the same process (A/B, same minute);
``--cpu``: CPU time of this process instead of wall time (for a loaded machine). The rescue
times (``seconds_rescue``) are wall time.
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from zoo.plugins.processes.qqzz.process import QQZZ8D  # noqa: E402

CLOCK = time.perf_counter


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = CLOCK()
        fn()
        best = min(best, CLOCK() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000, help="number of uniform random points")
    ap.add_argument("--chunk", type=int, default=4096, help="points per vectorised chunk")
    ap.add_argument("--repeat", type=int, default=3, help="timing repeats (best is reported)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-dd", action="store_true", help="rescue in MPFR only (pre-dd)")
    ap.add_argument("--compare-mpfr", action="store_true", help="also time the MPFR rescue")
    ap.add_argument("--cpu", action="store_true", help="CPU time (process_time), not wall")
    args = ap.parse_args()
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time

    x = np.random.default_rng(args.seed).uniform(size=(args.n, 8))
    proc = QQZZ8D(chunk=args.chunk, dd=not args.no_dd)
    proc.evaluate(x[:64])  # warm-up (numba caches)
    t_tree = _best(lambda: proc.evaluate(x, ["f00"]), args.repeat)
    norescue = QQZZ8D(chunk=args.chunk, rescue=False)
    t_all_nr = _best(lambda: norescue.evaluate(x), args.repeat)
    t_all = _best(lambda: proc.evaluate(x), args.repeat)
    info = proc.last_rescue
    n_cand = sum(i.n_candidates for i in info)
    n_resc = sum(i.n_rescued_points for i in info)
    n_ent = sum(i.n_rescued_entries for i in info)
    n_dd = sum(i.n_rescued_dd for i in info)
    t_test = sum(i.seconds_test for i in info)
    t_resc = sum(i.seconds_rescue for i in info)
    print(f"N = {args.n}, chunk = {args.chunk}, OMP_NUM_THREADS = {os.environ['OMP_NUM_THREADS']}")
    print(f"f00 only (tree, 8 configurations):        {args.n / t_tree:12,.0f} points/s")
    print(f"f00+f01+f11 without stability test:       {args.n / t_all_nr:12,.0f} points/s")
    print(f"f00+f01+f11 with stability test + rescue: {args.n / t_all:12,.0f} points/s")
    print(
        f"stability test: {n_cand} candidates ({100 * n_cand / args.n:.2f}%), {t_test:.3f} s; "
        f"rescued {n_resc} points ({n_dd} in double-double) / {n_ent} entries in extended "
        "precision "
        f"({100 * n_resc / args.n:.3f}%), "
        f"{t_resc:.3f} s ({1e6 * t_resc / max(n_resc, 1):.0f} us per rescued point)"
    )
    if args.compare_mpfr:
        mp = QQZZ8D(chunk=args.chunk, dd=False)
        t_mp = _best(lambda: mp.evaluate(x), args.repeat)
        t_resc_mp = sum(i.seconds_rescue for i in mp.last_rescue)
        print(
            f"same, rescue in MPFR only (pre-dd):       {args.n / t_mp:12,.0f} points/s "
            f"({1e6 * t_resc_mp / max(n_resc, 1):.0f} us per rescued point)"
        )


if __name__ == "__main__":
    main()
