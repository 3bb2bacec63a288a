"""How fast can an 8D ``qqzz-factorised`` point be, against the exact 8D generator?

One thread, the two shipped 8D defaults, ``--n`` fresh uniform points (``--seed``), best of
``--repeat``. Printed per label, in µs per point:

* ``exact, one call`` / ``exact, chunks``: the process's own 8D function (the generator the
  model replaces) on all the points in one call, and in calls of ``--chunk`` points (as
  ``bench_defaults_vs_exact.py`` times it);
* ``predict``: ``zoo.load(label).predict`` (validation, cell order, the compiled batch);
* ``kernel``: the compiled batch kernel alone on points already in cell order
  (``factorised_fast.predict8_serial``);
* ``production``: its 9 learned production amplitudes alone (``production8_rows``);
* ``level 0``: only the x1 contractions of the coefficient blocks a point needs (one per
  representative and x2 side, ``_pair_first``, with the T tables of x1 and of the two x2
  sides): every coefficient of those blocks is read and multiplied once, the work any
  evaluation of this model must do;
* ``5x needs``: the µs per point the model may take to be 5x faster than each exact timing.

``--coefficients`` prints instead, for every fitted part of the two models, how small a
basis function's coefficients are: each coefficient relative to its cell's sum of |c| (the
bound of |part| in that cell, as |T_k| <= 1), its largest value over the cells, and the
smallest and median of those over the basis, and the sum of the smaller half of them.
Dropping a basis function from the shared basis changes some cell's part by up to that much
of the cell's bound; dropping the smaller half (half the work), by up to that sum.

    python scripts/bench_kernel8_floor.py [--n 100000] [--seed 4242] [--coefficients]
"""

from __future__ import annotations

import argparse
import os
import timeit

os.environ.setdefault("ZOO_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

import zoo  # noqa: E402
from zoo.plugins.processes.qqzz import factorised_fast as ff  # noqa: E402
from zoo.resolver import find_process  # noqa: E402

LABELS = ("qqbar-zz-4l/8d/f11/LLL", "qqbar-zz-4l/8d/f01/LLL")


@numba.njit(nogil=True, error_model="numpy")
def level0_passes(x: np.ndarray, passes: np.ndarray, flags: np.ndarray, edges: np.ndarray,
                  offsets: np.ndarray, degrees: np.ndarray, coef: np.ndarray,
                  seglen: np.ndarray) -> float:  # pragma: no cover - compiled
    """The level-0 passes (``passes``: (representative, x2 side) rows) of every point of x,
    with the T tables they read; returns a checksum so nothing is optimised away."""
    n0, n1 = degrees[0] + 1, degrees[1] + 1
    tab = np.empty(n0 + 2 * n1)
    out = np.empty(2 * seglen[0])
    nc1 = offsets[2] - offsets[1] - 1
    nc2 = offsets[3] - offsets[2] - 1
    nc3 = offsets[4] - offsets[3] - 1
    p2 = coef.shape[1] // ((offsets[1] - offsets[0] - 1) * nc1 * nc2 * nc3)
    side = np.empty(2, dtype=np.int64)
    total = 0.0
    for i in range(x.shape[0]):
        c0 = ff._axis_table(edges, offsets, 0, x[i, 0], degrees[0], tab, 0)
        for s in range(2):
            g2 = x[i, 1] if s == 0 else 1.0 - x[i, 1]
            side[s] = ff._axis_table(edges, offsets, 1, ff._angle(g2) if flags[0] else g2,
                                     degrees[1], tab, n0 + s * n1)
        for p in range(passes.shape[0]):
            flat = (c0 * nc1 + side[passes[p, 1]]) * nc2 * nc3  # mass cells: the first
            ff._pair_first(coef[passes[p, 0]], flat * p2, tab, 0, n0, seglen, out)
            total += out[0]
    return total


def _best(fn, repeat: int) -> float:
    """The best of ``repeat`` timed calls of fn, after one untimed call (compilation)."""
    fn()
    return min(timeit.repeat(fn, number=1, repeat=repeat))


def _row(name: str, seed: int, args: argparse.Namespace) -> tuple[str, list[float], int]:
    """(label, the timings of the module docstring in µs per point, level-0 passes)."""
    amp = zoo.load(name, verify=False)
    x = np.random.default_rng(seed).random((args.n, 8))
    proc, lab = find_process(amp.label), amp.label
    t_one = _best(lambda: proc.function(x, lab.term, lab.helicity), args.repeat)

    def chunks() -> None:
        for lo in range(0, len(x), args.chunk):
            proc.function(x[lo:lo + args.chunk], lab.term, lab.helicity)

    t_chunks = _best(chunks, 1)
    t_pred = _best(lambda: amp.predict(x), args.repeat)
    fast = ff.compiled(amp.model.regressor)
    a = fast.args
    table, flags, edges, offsets, degrees, coef, seglen = a[:7]
    seen = []  # the points in the order the batch path takes them (by cell)
    fast._in_cell_order(x, lambda v: seen.append(v) or v)
    xs = seen[0]
    out = np.empty(len(xs))
    t_kernel = _best(lambda: ff.predict8_serial(xs, *a, out), args.repeat)
    amps = np.empty((len(xs), 9), dtype=np.complex128)
    t_prod = _best(lambda: ff.production8_rows(xs, *a, amps), args.repeat)
    passes = np.array(sorted({(int(table[c, 0]), ff._map_flags(int(table[c, 1]))[0])
                              for c in range(9) if table[c, 0] >= 0}), dtype=np.int64)
    t_l0 = _best(lambda: level0_passes(xs, passes, flags, edges, offsets, degrees, coef,
                                       seglen), args.repeat)
    us = [t / args.n * 1e6 for t in (t_one, t_chunks, t_pred, t_kernel, t_prod, t_l0)]
    return str(amp.label), us, len(passes)


def coefficients() -> None:
    """The ``--coefficients`` table of the module docstring."""
    print("| label | part | basis | smallest largest-relative coefficient | median | "
          "sum of the smaller half |")
    print("|---|---|---|---|---|---|")
    for name in LABELS:
        amp = zoo.load(name, verify=False)
        for k, part in enumerate(amp.model.regressor.parts_):
            c = np.abs(np.asarray(part.coef_))
            worst = (c / c.sum(axis=1, keepdims=True)).max(axis=0)
            half = np.sort(worst)[: worst.size // 2].sum()
            print(f"| {amp.label} | {k} | {c.shape[1]} | {worst.min():.2e} | "
                  f"{np.median(worst):.2e} | {half:.2e} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=4242)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--coefficients", action="store_true")
    args = ap.parse_args()
    if args.coefficients:
        coefficients()
        return
    print(f"load average before: {os.getloadavg()}; ZOO_NUM_THREADS="
          f"{os.environ['ZOO_NUM_THREADS']}; n = {args.n}, seed {args.seed}")
    print("| label | exact, one call | exact, chunks | predict | kernel | production | "
          "level 0 | 5x needs (one call / chunks) |")
    print("|---|---|---|---|---|---|---|---|")
    for j, name in enumerate(LABELS):
        label, us, n_passes = _row(name, args.seed + j, args)
        print(f"| {label} | {us[0]:.2f} | {us[1]:.2f} | {us[2]:.2f} | {us[3]:.2f} | "
              f"{us[4]:.2f} | {us[5]:.2f} ({n_passes} passes) | {us[0] / 5:.2f} / "
              f"{us[1] / 5:.2f} |")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
