"""Is the 8D point kernel bound by reading its coefficients? One thread, 10^5 points of the
shipped 8D f11 default (the compiled serial kernel, ``factorised_fast.predict8_serial``):
uniform points in their given order, the same sorted by (x1, x2) cell (as the batch path
orders them), and all points inside one cell (every point reads the same coefficient
blocks, hot in the cache). µs per point, best of 3.

    python scripts/bench_kernel_cells.py
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main() -> int:
    import zoo
    from zoo.plugins.processes.qqzz import factorised_fast as ff

    reg = zoo.load("qqbar-zz-4l/8d/f11/LLL").model.regressor
    args = ff.compiled(reg).args
    rng = np.random.default_rng(0)
    x = rng.random((100000, 8))
    cells = np.floor(x[:, 0] * 12) * 100 + np.floor(x[:, 1] * 22)
    hot = x.copy()
    hot[:, 0] = 0.40 + 0.001 * rng.random(len(x))
    hot[:, 1] = 0.30 + 0.001 * rng.random(len(x))
    out = np.empty(len(x))
    for name, pts in (("uniform", x), ("sorted by cell", x[np.argsort(cells, kind="stable")]),
                      ("one cell", hot)):
        pts = np.ascontiguousarray(pts)
        ff.predict8_serial(pts[:10], *args, out[:10])
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            ff.predict8_serial(pts, *args, out)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:15s} {best / len(pts) * 1e6:.2f} µs per point")
    return 0


if __name__ == "__main__":
    sys.exit(main())
