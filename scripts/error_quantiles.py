"""Fine-grained relative errors of models on a test set: fractions within 1e-5 and 1e-6,
the 99.9th percentile and the largest error (f11: |pred - true| / |true|; f01: / f00), for
published labels (``LABEL[@N]``) or artifact folders, on a zarr set of ``zoo generate``.

    python scripts/error_quantiles.py runs/retrain/test_2d_200000.zarr \\
        qqbar-zz-4l/2d/f11/L-- runs/retrain/art/2d_L--_f11-cheb
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("test", help="zarr test set (zoo generate)")
    ap.add_argument("models", nargs="+", help="labels or artifact folders (one term each)")
    args = ap.parse_args(argv)
    import zoo
    from zoo.model import Model
    from zoo.training.loop import read_data

    print("| model | label | within 1e-5 | within 1e-6 | 99.9% | max |")
    print("|---|---|---|---|---|---|")
    for spec in args.models:
        model = Model.load(spec) if Path(spec).is_dir() else zoo.load(spec).model
        label = str(model.label).split("@")[0]
        test = read_data(args.test, source="zarr", label=label, options={})
        den = test.f00 if label.split("/")[2] == "f01" else np.abs(test.y)
        e = np.abs(model.predict(test.x) - test.y) / den
        print(f"| {spec} | {label} | {100 * np.mean(e < 1e-5):.4f}% | "
              f"{100 * np.mean(e < 1e-6):.4f}% | {np.quantile(e, 0.999):.1e} | {e.max():.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
