"""A/B of the level-0 pass of the 8D point kernel (``factorised_fast._pair_first``: the x1
contraction of one (re, im) coefficient row) against a register-blocked variant that turns
the loop inside out (eight outputs kept in registers while the x1 terms are summed, the same
sums in the same order, so the same bits: checked first). Rows of the shipped 8D f11 model,
cells drawn at random and then sorted by cell; ns per pass, three alternating trials.

    python scripts/bench_level0.py [--n 200000]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import zoo
from zoo.plugins.processes.qqzz import factorised_fast as ff


@numba.njit(nogil=True, error_model="numpy")
def pair_first_blocked(coef, row, tab, ta, n, seglen, dst):  # pragma: no cover - compiled
    """``_pair_first`` with eight outputs accumulated in registers (segments shrink with k)."""
    size = 2 * seglen[0]
    r0 = 0
    while r0 + 8 <= size:
        c = tab[ta]
        b = row + r0
        a0, a1, a2, a3 = c * coef[b], c * coef[b + 1], c * coef[b + 2], c * coef[b + 3]
        a4, a5, a6, a7 = c * coef[b + 4], c * coef[b + 5], c * coef[b + 6], c * coef[b + 7]
        o = row + size
        for k in range(1, n):
            ln = 2 * seglen[k]
            if ln <= r0:
                break
            c = tab[ta + k]
            b = o + r0
            m = ln - r0
            a0 += c * coef[b]
            a1 += c * coef[b + 1]
            if m > 2:
                a2 += c * coef[b + 2]
                a3 += c * coef[b + 3]
            if m > 4:
                a4 += c * coef[b + 4]
                a5 += c * coef[b + 5]
            if m > 6:
                a6 += c * coef[b + 6]
                a7 += c * coef[b + 7]
            o += ln
        dst[r0], dst[r0 + 1], dst[r0 + 2], dst[r0 + 3] = a0, a1, a2, a3
        dst[r0 + 4], dst[r0 + 5], dst[r0 + 6], dst[r0 + 7] = a4, a5, a6, a7
        r0 += 8
    if r0 < size:  # the tail (< 8 outputs) in the plain order
        c = tab[ta]
        for r in range(r0, size):
            dst[r] = c * coef[row + r]
        o = row + size
        for k in range(1, n):
            ln = 2 * seglen[k]
            c = tab[ta + k]
            for r in range(r0, min(ln, size)):
                dst[r] += c * coef[o + r]
            o += ln


@numba.njit(nogil=True, error_model="numpy")
def _run(fn, coef, rows, reps, tab, n, seglen, dst):  # pragma: no cover - compiled
    s = 0.0
    for i in range(rows.shape[0]):
        fn(coef[reps[i]], rows[i], tab, i % 5, n, seglen, dst)
        s += dst[0]
    return s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    args = ap.parse_args()
    fast = ff.compiled(zoo.load("qqbar-zz-4l/8d/f11/LLL").model.regressor)
    _, _, edges, offsets, degrees, coef, seglen, _ = fast.args
    n0 = int(degrees[0]) + 1
    n_cells = int(np.prod(np.diff(offsets) - 1))
    width = coef.shape[1] // n_cells
    rng = np.random.default_rng(1)
    rows = (rng.integers(0, n_cells, args.n) * width).astype(np.int64)
    reps = rng.integers(0, coef.shape[0], args.n).astype(np.int64)
    tab = rng.random(n0 + 8)
    a, b = np.empty(2 * seglen[0]), np.empty(2 * seglen[0])
    for i in range(2000):
        ff._pair_first(coef[reps[i]], rows[i], tab, i % 5, n0, seglen, a)
        pair_first_blocked(coef[reps[i]], rows[i], tab, i % 5, n0, seglen, b)
        assert np.array_equal(a, b), i
    print("same bits on 2000 rows; row length", coef.shape[1] // n_cells)
    order = np.argsort(rows, kind="stable")
    for name, rr, ee in (("random cells", rows, reps), ("cell order", rows[order], reps[order])):
        for fn in (ff._pair_first, pair_first_blocked):
            _run(fn, coef, rr[:100], ee[:100], tab, n0, seglen, a)
        for _ in range(3):
            for fn, lab in ((ff._pair_first, "shipped"), (pair_first_blocked, "blocked")):
                t = time.perf_counter()
                _run(fn, coef, rr, ee, tab, n0, seglen, a)
                print(f"{name:13s} {lab:8s} {(time.perf_counter() - t) / args.n * 1e9:7.1f} ns "
                      "per pass")


if __name__ == "__main__":
    main()
