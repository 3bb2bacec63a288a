"""Publish retrained models as the new defaults of their labels in the bundled registry, with
the faces in their test metrics (issue 17.4).

For each artifact directory (as written by scripts/fit_factorised_8d.py), or published version
``key@N`` of the registry (the same model re-published with the face record added; its card
says which version it ``supersedes``):

1. score it on the face test set of its dimension (scripts/face_check.py: beam, threshold,
   their corner, light bosons, collinear decays; exact values, cached in ``--faces``) and
   store the record as ``card["metrics"]["test_faces"]`` beside the uniform ``test``;
2. publish it as a new version of its label (``--publish``; published versions are
   immutable: the artifact is re-saved into a temporary folder with the new card first);
3. with ``--replace``, remove the label's previous latest version from the bundle (the
   registry's ``remove``: its number is retired; the files stay in git history,
   docs/bundle.md): the retrained model becomes latest and best even where its uniform
   figure is within the noise of the old one's (different test sets).

Then ``scripts/calibrate_defaults.py --publish --prune`` gives the new defaults their
calibrated uncertainty (it supersedes each of these versions by a calibrated one).

    python scripts/publish_retrained.py runs/retrain/art/2d_L--_f11-ep ... [--publish --replace]
    python scripts/publish_retrained.py qqbar-zz-4l/4d/f11/L--@7 ... --publish --replace
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import face_check as fc  # noqa: E402
from republish import republish  # noqa: E402

from zoo.labels import as_label  # noqa: E402
from zoo.model import Model  # noqa: E402
from zoo.registry.registry import Registry  # noqa: E402

BUNDLED = Path(__file__).resolve().parents[1] / "registry" / "bundled"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("artifacts", nargs="+",
                    help="artifact directories (fit_factorised_8d.py) or published key@N")
    ap.add_argument("--registry", default=str(BUNDLED))
    ap.add_argument("--faces", default="runs/faces", help="cache folder of the face sets")
    ap.add_argument("--seed", type=int, default=1203, help="seed of the face sets")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--publish", action="store_true")
    ap.add_argument("--replace", action="store_true",
                    help="remove each label's previous latest version after publishing")
    args = ap.parse_args(argv)
    reg = Registry(args.registry)
    sets: dict[int, dict] = {}
    for directory in args.artifacts:
        if not Path(directory).is_dir():  # a published version: same files, new card
            src = directory
            directory = str(reg.open(src))
            model = Model.load(directory)
            model.verify(directory)
            model.card["supersedes"] = src
        else:
            model = Model.load(directory)
            model.verify(directory)
        lab = as_label(model.label)
        dim = int(lab.dimension)
        if dim not in sets:
            sets[dim] = fc.build_set(dim, fc.DEFAULT_N[dim], args.seed, Path(args.faces),
                                     args.workers)
        rec = fc.score_label(model.label, model.predict, lab.term, lab.helicity, model.card,
                             sets[dim])
        model.card.setdefault("metrics", {})["test_faces"] = rec
        a, t = rec["all"], model.card["metrics"]["test"]
        print(f"{model.label}: uniform <0.1% {t['frac_lt_0p1pct']:.6f}; faces <1% "
              f"{a['frac_lt_1pct']:.4f} <0.1% {a['frac_lt_0p1pct']:.4f} <0.01% "
              f"{a['frac_lt_0p01pct']:.4f}", flush=True)
        if not args.publish:
            continue
        key = lab.key
        previous = None
        try:
            previous = int(reg.resolve(f"{key}@latest").selector)
        except KeyError:
            pass
        new = republish(reg, model, key, directory, prefix="zoo-retrained-")
        print(f"  published {new}", flush=True)
        if args.replace and previous is not None:
            reg.remove(f"{key}@{previous}")
            print(f"  removed {key}@{previous}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
