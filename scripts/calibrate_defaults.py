"""Give every shipped default (qqzz-factorised and pwcheb) a calibrated uncertainty and
re-publish it into the bundled registry (issue 16; docs/trust.md).

For each default (the bundle's ``latest`` of each label):

1. **per-cell scales** from fresh exact points (seed ``--seed``): the parts of a
   ``qqzz-factorised`` model get the RMS residual of every cell against exact loop
   production amplitudes (``set_part_scales``: one 4D point set gives the 9 loop amplitudes
   of every column at once); a ``pwcheb`` model (2D, with its transform chain) against the
   exact f11/f01 mapped through its chain (``set_cell_scale``). The points: K per cell of
   every part grid (stratified), plus points near the faces (x2 within 1e-11..1e-3 of 0 and
   1, x1 within 1e-9..1e-3 of threshold), all by the exact generator;
2. **calibration** on a second fresh set (seed ``--seed + 1``: uniform points plus ~5%
   face points) by the core's :func:`zoo.runtime.uncertainty.calibrate` (the scale, the
   coverages, pulls, sharpness, the guard's ``vouch_k`` and exact fractions of the card);
3. **publish** the model as a new version of its label in ``registry/bundled`` (``--publish``)
   and remove the version it supersedes (``--prune``: the registry's ``remove``, as
   scripts/prune_bundle.py does; its number is retired).

    python scripts/calibrate_defaults.py --work runs/trust                # dry: scales + table
    python scripts/calibrate_defaults.py --work runs/trust --publish --prune
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import trust_points as tp  # noqa: E402
from republish import republish  # noqa: E402

from zoo.labels import as_label  # noqa: E402
from zoo.model import Model  # noqa: E402
from zoo.registry.registry import Registry  # noqa: E402
from zoo.runtime.uncertainty import calibrate, vouched  # noqa: E402
from zoo.transform import Batch  # noqa: E402

BUNDLED = Path(__file__).resolve().parents[1] / "registry" / "bundled"


def defaults(reg: Registry) -> list[tuple[str, int]]:
    """(key, version) of every label's latest version whose regressor has per-cell parts."""
    out = []
    for e in reg.list():
        key = e["key"]
        v = int(reg.resolve(f"{key}@latest").selector)
        name = reg.card(f"{key}@{v}")["regressor"]["name"]
        if name in ("qqzz-factorised", "pwcheb"):
            out.append((key, v))
    return sorted(set(out))


def exact_terms(tree: np.ndarray, loop: np.ndarray, helicity: str) -> dict[str, np.ndarray]:
    """Exact f00, f01, f11 (N,) of one production helicity column."""
    from zoo.plugins.processes.qqzz.production import HELICITIES

    c = HELICITIES.index(helicity)
    t, m = tree[:, c], loop[:, c]
    return {"f00": np.abs(t) ** 2, "f01": 2.0 * np.real(np.conj(t) * m), "f11": np.abs(m) ** 2}


def _tag(x: np.ndarray) -> str:
    """A short hash of a point set: its cache file's name (sets differ per --only, --n-cal)."""
    return hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=6).hexdigest()


def point_sets(work: Path, args, grids: dict) -> dict:
    """The cached exact sets: scales (stratified on every grid + faces) and calibration."""
    rng = np.random.default_rng(args.seed)
    sets = {}
    for dim in (4, 2):
        k = args.k if dim == 4 else args.k2
        xs = [tp.stratified(e, k, angle, dim, rng) for (d, angle), es in grids.items()
              if d == dim for e in es]
        if not xs:
            continue
        # every point by the exact projection (double-double near the faces: the float64
        # one is 1e-7 there, above the errors of the endpoint-factor models)
        x = np.concatenate(xs)  # the cache is named by its points: grids differ per --only
        a = tp.production_set(work / f"scale{dim}_{_tag(x)}.npz", x, dim)
        xf = tp.faces(args.n_faces, dim, rng)
        b = tp.production_set(work / f"scale{dim}f_{_tag(xf)}.npz", xf, dim)
        sets[f"scale{dim}"] = {k: np.concatenate([a[k], b[k]]) for k in a}
    rng = np.random.default_rng(args.seed + 1)
    for dim in (4, 2):
        x = np.concatenate([rng.random((args.n_cal, dim)), tp.faces(args.n_faces, dim, rng)])
        sets[f"cal{dim}"] = tp.production_set(work / f"cal{dim}_{_tag(x)}.npz", x, dim)
    x8 = np.concatenate([rng.random((args.n_cal8, 8)), tp.faces(args.n_faces8, 8, rng)])
    sets["cal8"] = tp.cached(work / f"cal8_{_tag(x8)}.npz",
                             lambda: {"x": x8, **tp.exact_8d(x8)}, x8)
    return sets


def refine(spec: str, part) -> list[int]:
    """``"2,3"`` -> [2, 3, 1, ...] for the part's axes."""
    r = [int(v) for v in spec.split(",") if v]
    return (r + [1] * part.n_features_)[: part.n_features_]


def grid_of(model: Model) -> tuple[tuple[int, bool], list]:
    """((dimension of the production points, angle coordinate), part edges)."""
    reg = model.regressor
    if reg.name == "pwcheb":
        return (2, False), [reg.edges_]
    dim = 2 if reg.on_shell else 4
    return (dim, bool(reg.angle)), [reg.parts_[0].edges_]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="runs/trust", help="Cache of the exact point sets.")
    ap.add_argument("--registry", default=str(BUNDLED))
    ap.add_argument("--seed", type=int, default=1601)
    ap.add_argument("--k", type=int, default=24, help="Scale points per cell of a 4D grid.")
    ap.add_argument("--k2", type=int, default=4, help="Scale points per cell of a 2D grid.")
    ap.add_argument("--refine", default="2,3",
                    help="Scale grid of the 4D/8D parts: each cell cut per axis (x1, angle).")
    ap.add_argument("--statistic", default="rms", choices=("rms", "max"),
                    help="Per scale cell: RMS or largest residual.")
    ap.add_argument("--refine2", default="1,1", help="The same for the 2D models.")
    ap.add_argument("--mass-cuts", default="",
                    help="4D/8D parts: cut x3 and x4 here too, each slab with a factor pooled "
                         "over all cells (set_cell_scale cuts), e.g. 0.02,0.05,0.95,0.98")
    ap.add_argument("--min-points", type=int, default=4,
                    help="Fewer values in a cell: it gets the largest scale of the others.")
    ap.add_argument("--n-faces", type=int, default=150, help="Face points per 2D/4D set.")
    ap.add_argument("--n-cal", type=int, default=3000, help="Uniform 2D/4D calibration points.")
    ap.add_argument("--n-faces8", type=int, default=400, help="Face points of the 8D set.")
    ap.add_argument("--n-cal8", type=int, default=8000, help="Uniform 8D calibration points.")
    ap.add_argument("--only", default="", help="Substring of the labels to treat.")
    ap.add_argument("--publish", action="store_true")
    ap.add_argument("--prune", action="store_true", help="Remove the superseded versions.")
    args = ap.parse_args(argv)
    work = Path(args.work)
    reg = Registry(args.registry)
    todo = [(k, v) for k, v in defaults(reg) if args.only in k]
    models = {(k, v): Model.load(reg.open(f"{k}@{v}")) for k, v in todo}
    grids: dict = {}
    for m in models.values():
        g, e = grid_of(m)
        if not any(all(np.array_equal(a, b) for a, b in zip(e[0], f)) for f in grids.get(g, [])):
            grids.setdefault(g, []).extend(e)
    sets = point_sets(work, args, grids)
    summary = {}
    for (key, v), model in models.items():
        t0 = time.perf_counter()
        lab = as_label(key)
        dim = int(lab.dimension)
        reg_ = model.regressor
        sc = sets["scale4" if (reg_.name == "qqzz-factorised" and not reg_.on_shell) else "scale2"]
        if reg_.name == "qqzz-factorised":
            cuts = [float(v) for v in args.mass_cuts.split(",") if v]
            counts = reg_.set_part_scales(sc["x"], sc["loop"], min_points=args.min_points,
                                          refine=refine(args.refine, reg_.parts_[0]),
                                          statistic=args.statistic,
                                          cuts={2: cuts, 3: cuts} if cuts and not reg_.on_shell
                                          else None)
            n_min = int(min(int(c[c > 0].min()) for c in counts))
        else:  # pwcheb with its chain: residuals in the regressor's space
            ex = exact_terms(sc["tree"], sc["loop"], lab.helicity)
            batch = model.chain.forward(Batch(x=sc["x"], y=ex[lab.term], f00=ex["f00"]),
                                        model.context)
            counts = reg_.set_cell_scale(batch.x, batch.y, min_points=args.min_points,
                                         refine=refine(args.refine2, reg_),
                                         statistic=args.statistic)
            n_min = int(counts[counts > 0].min())
        # calibration on the second set
        if dim == 8:
            cal = sets["cal8"]
            from zoo.plugins.processes.qqzz.amplitudes import HELICITIES as H8

            col = H8.index(lab.helicity)
            x, t, f00 = cal["x"], cal[lab.term][:, col], cal["f00"][:, col]
        else:
            cal = sets[f"cal{dim}"]
            ex = exact_terms(cal["tree"], cal["loop"], lab.helicity)
            x, t, f00 = cal["x"], ex[lab.term], ex["f00"]
        y, s = model.predict_uncertainty_raw(x)
        card = calibrate(t, y, s, scale=f00 if lab.term == "f01" else None,
                         scale_name="f00" if lab.term == "f01" else "abs")
        card["calibration_source"] = (
            f"scripts/calibrate_defaults.py --seed {args.seed}: per-cell scales on "
            f"{len(sc['x'])} exact points ({args.k if dim != 2 else args.k2} per cell of each "
            f"grid + {args.n_faces} at the faces; scale cells = fit cells refined "
            f"{args.refine if reg_.name == 'qqzz-factorised' else args.refine2}"
            f"{', x3/x4 cut at ' + args.mass_cuts if args.mass_cuts and dim != 2 else ''}, "
            f">= {n_min} values in the "
            f"sparsest), calibrated on {len(t)} others (uniform + faces)")
        n_uni = args.n_cal8 if dim == 8 else args.n_cal
        sc_ = card["calibration_scale"] * s[:n_uni]
        uni = float(np.mean(~vouched(y[:n_uni], sc_, 1e-3, card["vouch_k"],
                                     scale=f00[:n_uni] if lab.term == "f01" else None)))
        card_note = f" uniform-only exact@1e-3 {uni:.4f} k {card['vouch_k']:.1f}"
        summary[f"{key}@{v}"] = card
        print(f"{key}@{v}: scale {card['calibration_scale']:.3g} cov1 "
              f"{card['coverage_1sigma']:.3f} cov2 {card['coverage_2sigma']:.3f} sharp "
              f"{card['sharpness']:.2g} exact@1e-3 {card['exact_fraction']['1e-3']:.4f} "
              f"({time.perf_counter() - t0:.1f} s){card_note}", flush=True)
        if args.publish:
            model.card["uncertainty"] = card
            model.card["supersedes"] = f"{key}@{v}"
            new = republish(reg, model, key, reg.open(f"{key}@{v}"), prefix="zoo-trust-")
            print(f"  published {new}", flush=True)
            if args.prune:
                reg.remove(f"{key}@{v}")
                print(f"  removed {key}@{v}", flush=True)
    (work / "calibration.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
