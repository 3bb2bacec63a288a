"""How precise the generated 2D/4D amplitudes are near the forward/backward faces.

An exact symmetry evaluated by different arithmetic measures the numerical noise: the
quark-antiquark exchange maps helicity ``L h1 h2`` at ``x2`` onto ``R h1 h2`` at ``1 - x2``
(boson 1 backward instead of forward: another configuration for the 8D code and the
projection). Prints, per distance ``x2`` from the face, the largest relative difference of
f11 over 256 random ``x1`` (and the other coordinates) for each canonical helicity.

    python scripts/check_face_precision.py [--dim 2]
"""

from __future__ import annotations

import argparse

import numpy as np

from zoo import plugin_manager


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dim", type=int, default=2, choices=(2, 4))
    ap.add_argument("--n", type=int, default=256)
    args = ap.parse_args()
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
