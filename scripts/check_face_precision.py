"""How precise the generated 2D/4D amplitudes are near the forward/backward faces.

An exact symmetry evaluated by different arithmetic measures the numerical noise: the
quark-antiquark exchange maps helicity ``L h1 h2`` at ``x2`` onto ``R h1 h2`` at ``1 - x2``
(boson 1 backward instead of forward: another configuration for the 8D code and the
projection). Prints, per distance ``x2`` from the face, the largest relative difference of
f11 over 256 random ``x1`` (and the other coordinates) for each canonical helicity.

``--beam``: the 2D loop amplitude of L-0 near the backward face, where tree and loop both
vanish like x2 and their ratio Re M_loop / M_tree stays within 4-25 for x2 in [1e-7, 1e-3)
(farther out it falls below 2 where the tree grows). Per decade of x2 below 1e-3, the
fraction of ``--n`` random points whose ratio leaves [2, 30] (a generator failure), and the
generator's seconds per point (its higher-precision rescue takes over close to the beam).
Before issue 17 this found the generator wrong below x2 ~ 1e-7 (hence a training floor
then); since, no point leaves [2, 30] down to x2 = 1e-12 and the floor is gone.

    python scripts/check_face_precision.py [--dim 2]
    python scripts/check_face_precision.py --beam [--n 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from zoo import plugin_manager


def beam(n: int) -> None:
    """Re M_loop / M_tree of 2D L-0 per decade of x2 near the backward face (module doc)."""
    from zoo.plugins.processes.qqzz.factorised import on_shell_points, tree_amplitudes

    proc = plugin_manager.get("processes", "qqbar-zz-4l/2d")
    col = proc.helicities.index("L-0")
    proc.amplitudes(np.full((4, 2), 0.5))  # warm-up
    rng = np.random.default_rng(1)
    print("| x2 in | points | ratio outside [2, 30] | median ratio | s per point |")
    print("|---|---|---|---|---|")
    for lo in range(-12, -3):
        x = rng.random((n, 2))
        x[:, 1] = 10.0 ** (lo + x[:, 1])  # log-uniform in the decade
        t0 = time.perf_counter()
        _, loop = proc.amplitudes(x, loop=True)
        dt = (time.perf_counter() - t0) / n
        ratio = loop[:, col].real / tree_amplitudes(on_shell_points(x))[:, col]
        bad = np.mean((ratio < 2.0) | (ratio > 30.0))
        print(f"| [1e{lo}, 1e{lo + 1}) | {n} | {bad:.0%} | {np.median(ratio):.3g} | {dt:.2g} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=2, choices=(2, 4))
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--beam", action="store_true",
                    help="the L-0 loop/tree ratio and generator cost per decade of x2")
    args = ap.parse_args()
    if args.beam:
        beam(args.n)
        return
    proc = plugin_manager.get("processes", f"qqbar-zz-4l/{args.dim}d")
    hels = ["L--", "L-0", "L-+", "L00"]
    print(f"| x2 | {' | '.join(hels)} |")
    print("|---|" + "---|" * len(hels))
    rng = np.random.default_rng(0)
    for x2 in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7):
        x = rng.random((args.n, args.dim))
        x[:, 1] = x2
        xm = x.copy()
        xm[:, 1] = 1.0 - x2
        a, b = proc.evaluate(x, ["f11"])["f11"], proc.evaluate(xm, ["f11"])["f11"]
        cols = []
        for h in hels:
            i, j = proc.helicities.index(h), proc.helicities.index("R" + h[1:])
            cols.append(f"{np.max(np.abs(a[:, i] - b[:, j]) / np.abs(b[:, j])):.1e}")
        print(f"| {x2:.0e} | {' | '.join(cols)} |")


if __name__ == "__main__":
    main()
