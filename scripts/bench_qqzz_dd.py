"""CPU cost of the compiled double-double rescue of q qbar -> ZZ -> 4l (per point, one core).

Usage: ``OMP_NUM_THREADS=1 python scripts/bench_qqzz_dd.py [-n 400] [--repeat 3]``: the 8D
amplitudes from x in dd for no column (kinematics, spinors, loop functions only), one column
and all 8 columns, and the 2D/4D exact projection (``ddamp.project_dd``), CPU time
(``time.process_time``), best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zoo.plugins.processes.qqzz import ddamp


def _best(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(3)
    x = rng.uniform(size=(a.n, 8))
    ddamp.amplitudes_x_dd(x[:2])  # numba cache load
    for name, cols in (
        ("no column (shared part)", np.zeros((a.n, 8), dtype=bool)),
        ("1 column", [0]),
        ("all 8 columns", None),
    ):
        t = _best(lambda cols=cols: ddamp.amplitudes_x_dd(x, columns=cols), a.repeat)
        print(f"8D from x in dd, {name:24s} {1e6 * t / a.n:8.1f} us CPU per point")
    x4 = x[: max(a.n // 10, 1), :4]
    ddamp.project_dd(x4[:1])
    t = _best(lambda: ddamp.project_dd(x4), a.repeat)
    print(f"2D/4D exact projection in dd (4 nodes)  {1e6 * t / x4.shape[0]:8.1f} us CPU per point")


if __name__ == "__main__":
    main()
