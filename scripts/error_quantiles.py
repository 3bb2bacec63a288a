"""Fine-grained relative errors of models on a test set: fractions within 1e-5 and 1e-6,
the 99.9th percentile and the largest error (f11: |pred - true| / |true|; f01: / f00), for
published labels (``LABEL[@N]``) or artifact folders, on a zarr set of ``zoo generate``, or
with ``--regions N`` on fresh region sets of the models' dimension (the beam, threshold and
low-mass sets of scripts/trust_acceptance.py, N points each, seed ``--seed``; the exact
values by the process). ``--by-axis``: also the median and 99th percentile of the error in
each tenth of every coordinate (test set only).

    python scripts/error_quantiles.py runs/retrain/test_2d_200000.zarr \\
        qqbar-zz-4l/2d/f11/L-- runs/retrain/art/2d_L--_f11-cheb
    python scripts/error_quantiles.py --regions 20000 --seed 2301 \\
        qqbar-zz-4l/4d/f11/L-- runs/retrain/art/4d_L--_f11-cheb
    python scripts/error_quantiles.py --by-axis runs/retrain/test_4d_200000.zarr qqbar-zz-4l/4d/f11/L--
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _row(spec: str, label: str, region: str, e: np.ndarray) -> str:
    return (f"| {spec} | {label} | {region} | {100 * np.mean(e < 1e-5):.4f}% | "
            f"{100 * np.mean(e < 1e-6):.4f}% | {np.quantile(e, 0.999):.1e} | {e.max():.1e} |")


def _by_axis(x: np.ndarray, e: np.ndarray) -> None:
    """Median and 99th percentile of ``e`` in each tenth of every coordinate of ``x``."""
    for j in range(x.shape[1]):
        b = np.minimum((x[:, j] * 10).astype(int), 9)
        for name, q in (("median", 0.5), ("p99", 0.99)):
            cells = " | ".join(f"{np.quantile(e[b == i], q):.1e}" if (b == i).any() else "-"
                               for i in range(10))
            print(f"|   x{j + 1} {name} by tenth | {cells} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("test", nargs="?", help="zarr test set (zoo generate); not with --regions")
    ap.add_argument("models", nargs="+", help="labels or artifact folders (one term each)")
    ap.add_argument("--regions", type=int, default=0, help="points per region set instead")
    ap.add_argument("--seed", type=int, default=2301)
    ap.add_argument("--by-axis", action="store_true", help="error per tenth of each coordinate")
    args = ap.parse_args(argv)
    if args.regions and args.test is not None:  # argparse gives the first model to `test`
        args.models, args.test = [args.test, *args.models], None
    import zoo
    from zoo import resolver
    from zoo.labels import as_label
    from zoo.model import Model
    from zoo.training.loop import read_data

    print("| model | label | set | within 1e-5 | within 1e-6 | 99.9% | max |")
    print("|---|---|---|---|---|---|---|")
    sets: dict = {}
    for spec in args.models:
        model = Model.load(spec) if Path(spec).is_dir() else zoo.load(spec).model
        label = str(model.label).split("@")[0]
        lab = as_label(label)
        if not args.regions:
            test = read_data(args.test, source="zarr", label=label, options={})
            den = test.f00 if lab.term == "f01" else np.abs(test.y)
            e = np.abs(model.predict(test.x) - test.y) / den
            print(_row(spec, label, Path(args.test).name, e), flush=True)
            if args.by_axis:
                _by_axis(test.x, e)
            continue
        if lab.dimension not in sets:
            from trust_acceptance import region_points

            rng = np.random.default_rng([args.seed, lab.dimension])
            pts = region_points(lab.dimension, args.regions, args.regions, rng)
            proc = resolver.find_process(lab)
            sets[lab.dimension] = (proc, {r: (x, proc.evaluate(x, ["f00", "f01", "f11"]))
                                          for r, x in pts.items()})
        proc, regions = sets[lab.dimension]
        j = proc.helicity_index(lab.helicity)
        for region, (x, f) in regions.items():
            truth = f[lab.term][:, j]
            den = f["f00"][:, j] if lab.term == "f01" else np.abs(truth)
            e = np.abs(model.predict(x) - truth) / den
            print(_row(spec, label, region, e), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
