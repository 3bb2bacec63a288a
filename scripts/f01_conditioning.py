"""How hard is f01 within 1% of f00? Percentiles of r = 2 sqrt(f11 / f00) on a test set.

The error of f01/f00 of a model that knows M_loop to relative precision eps is about
``eps * r`` with ``r = 2 |M_loop| / |M_tree| = 2 sqrt(f11 / f00)`` (4D: one helicity
amplitude each), so the upper percentiles of r say how precise M_loop must be for a given
fraction of points within 1%::

    python scripts/f01_conditioning.py runs/table1/test_4d_1000000.zarr --dim 4
"""

from __future__ import annotations

import argparse

import numpy as np

PERCENTILES = (50.0, 90.0, 99.0, 99.9)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", help="test set written by zoo generate (f00 and f11 columns)")
    ap.add_argument("--dim", type=int, default=4)
    ap.add_argument("--helicities", default="L--,L-0,L00,L-+")
    args = ap.parse_args(argv)

    from zoo.plugins.sources.zarr_source import read_zarr

    print("| helicity | r: " + " / ".join(f"p{p:g}" for p in PERCENTILES) + " |")
    print("|---|---|")
    for h in args.helicities.split(","):
        data = read_zarr(args.test, label=f"qqbar-zz-4l/{args.dim}d/f11/{h}")
        r = 2.0 * np.sqrt(data.y / data.f00)
        print(f"| {h} | " + " / ".join(f"{v:.3g}" for v in np.percentile(r, PERCENTILES)) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
