"""Acceptance of the calibrated uncertainty and the guarded prediction of the shipped
defaults (issue 16, deliverables 4 and 5), on fresh points (seeds apart from those of
scripts/calibrate_defaults.py), through non-canonical labels.

Per label: 2-sigma coverage on uniform points; guarded at ``--rtol`` (``amp.predict(x,
rtol=..., return_info=True)``): the largest relative error of the returned values (f11
relative to the exact value, f01 relative to the exact f00), the fraction sent to the exact
code, and the guarded time beside the exact generator's on the same points (one run); the
overhead of ``return_uncertainty=True`` on plain ``predict``. Then the weak regions: per
region (uniform, beam: x2 within 1e-11..1e-3 of 0 or 1, threshold: x1 within 1e-9..1e-3, low
boson masses: x3, x4 < 0.05, i.e. m < 54 GeV), mean sigma / scale, mean and largest true
relative error, 2-sigma coverage and the fraction the guard sends to the exact code.

    python scripts/trust_acceptance.py --work runs/trust_acc --n8 100000 --n4 3000 --n2 3000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import zoo

#: (dimension, helicity of the label asked for) per canonical helicity: non-canonical labels
#: whose coordinate map flips x2 (parity / CP) or maps the quark line (R00)
LABELS = {
    "8d": {"LLL": "RRR"},
    "4d": {"L--": "L++", "L-0": "L+0", "L-+": "L+-", "L00": "R00"},
    "2d": {"L--": "L++", "L-0": "L+0", "L-+": "L+-", "L00": "R00"},
}


def region_points(dim: int, n: int, n_face: int, rng: np.random.Generator) -> dict:
    """Uniform points and the region sets (module docstring) of one dimension."""
    out = {"uniform": rng.random((n, dim))}
    d = 10.0 ** rng.uniform(-11.0, -3.0, n_face)
    x = rng.random((n_face, dim))
    half = np.arange(n_face) % 2 == 0
    x[half, 1], x[~half, 1] = d[half], 1.0 - d[~half]
    out["beam"] = x
    x = rng.random((max(n_face // 2, 1), dim))
    x[:, 0] = 10.0 ** rng.uniform(-9.0, -3.0, len(x))
    out["threshold"] = x
    if dim >= 4:
        x = rng.random((n_face, dim))
        x[:, 2:4] = 0.05 * rng.random((n_face, 2))
        out["low-mass"] = x
    return out


def exact_set(proc, x: np.ndarray) -> tuple[dict, float]:
    """All helicities' f00, f01, f11 of the process at x, and the seconds it took."""
    t0 = time.perf_counter()
    v = proc.evaluate(x, ["f00", "f01", "f11"])
    return v, time.perf_counter() - t0


def timed(fn, *a, **k):
    t0 = time.perf_counter()
    out = fn(*a, **k)
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="runs/trust_acc")
    ap.add_argument("--seed", type=int, default=1701)
    ap.add_argument("--n8", type=int, default=100_000)
    ap.add_argument("--n4", type=int, default=3000)
    ap.add_argument("--n2", type=int, default=3000)
    ap.add_argument("--faces8", type=int, default=2000)
    ap.add_argument("--faces4", type=int, default=150)
    ap.add_argument("--faces2", type=int, default=150)
    ap.add_argument("--rtol", type=float, default=1e-3)
    ap.add_argument("--dims", default="8d,4d,2d")
    ap.add_argument("--terms", default="f11,f01")
    ap.add_argument("--prepare", action="store_true",
                    help="Only evaluate (and cache) the exact sets, with their timings.")
    ap.add_argument("--only", default="", help="Only the canonical helicities listed (a,b).")
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows, regions = [], []
    for dim_s in args.dims.split(","):
        dim = int(dim_s[:-1])
        n, nf = {8: (args.n8, args.faces8), 4: (args.n4, args.faces4),
                 2: (args.n2, args.faces2)}[dim]
        rng = np.random.default_rng([args.seed, dim])
        sets = region_points(dim, n, nf, rng)
        from zoo import resolver

        proc = resolver.find_process(zoo.resolve(f"qqbar-zz-4l/{dim_s}/f11/"
                                                 f"{next(iter(LABELS[dim_s]))}").canonical)
        exact, t_exact = {}, {}
        cache = work / f"exact{dim}_{n}_{nf}_{args.seed}.npz"
        if cache.exists():
            with np.load(cache, allow_pickle=False) as f:
                for name in sets:
                    exact[name] = {t: f[f"{name}/{t}"] for t in ("f00", "f01", "f11")}
                    t_exact[name] = float(f[f"{name}/time"])
        else:
            for name, x in sets.items():
                exact[name], t_exact[name] = exact_set(proc, x)
                print(f"{dim_s} {name}: {len(x)} exact points in {t_exact[name]:.1f} s",
                      flush=True)
            np.savez(cache, **{f"{name}/{t}": v for name in sets for t, v in exact[name].items()},
                     **{f"{name}/time": np.array(t_exact[name]) for name in sets})
        if args.prepare:
            continue
        # the exact generator timed again in this run, beside the guarded path
        _, t_exact["uniform"] = exact_set(proc, sets["uniform"])
        print(f"{dim_s} uniform: exact generator {t_exact['uniform']:.1f} s for "
              f"{len(sets['uniform'])} points (this run)", flush=True)
        only = [h for h in args.only.split(",") if h]
        for term in args.terms.split(","):
            for canon, asked in LABELS[dim_s].items():
                if only and canon not in only:
                    continue
                label = f"qqbar-zz-4l/{dim_s}/{term}/{asked}"
                amp = zoo.load(label)
                warm = sets["uniform"][:64]  # compile / cache outside the timings
                amp.predict(warm), amp.predict(warm, return_uncertainty=True)
                col = proc.helicity_index(asked)
                row = {"label": label, "canonical": str(amp.canonical),
                       "n": len(sets["uniform"])}
                for name, x in sets.items():
                    t = exact[name][term][:, col]
                    f00 = exact[name]["f00"][:, col]
                    scale = np.abs(t) if term == "f11" else f00
                    (y, s), t_unc = timed(amp.predict, x, return_uncertainty=True)
                    (yg, info), t_guard = timed(amp.predict, x, rtol=args.rtol,
                                                return_info=True)
                    err = np.abs(y - t) / scale
                    err_g = np.abs(yg - t) / scale
                    cov2 = float(np.mean(np.abs(y - t) <= 2 * s))
                    rel_s = s / scale
                    regions.append({
                        "label": label, "region": name, "n": len(x),
                        "mean_sigma_rel": float(np.mean(rel_s)),
                        "median_sigma_rel": float(np.median(rel_s)),
                        "mean_err_rel": float(np.mean(err)),
                        "max_err_rel": float(np.max(err)),
                        "coverage_2sigma": cov2,
                        "exact_fraction": float(np.mean(info["exact"])),
                        "max_err_guarded": float(np.max(err_g)),
                    })
                    print("region " + json.dumps(regions[-1]), flush=True)
                    if name == "uniform":
                        _, t_plain = timed(amp.predict, x)
                        row.update({
                            "coverage_2sigma": cov2,
                            "max_err_guarded": float(np.max(err_g)),
                            "exact_fraction": float(np.mean(info["exact"])),
                            "t_guarded_s": t_guard, "t_exact_s": t_exact[name],
                            "speedup": t_exact[name] / t_guard,
                            "t_plain_s": t_plain, "t_uncertainty_s": t_unc,
                            "overhead": t_unc / t_plain,
                            "vouch_k": float(amp.card["uncertainty"].get("vouch_k", np.nan)),
                        })
                rows.append(row)
                print(json.dumps(row), flush=True)
    (work / f"acceptance_{args.dims.replace(',', '_')}.json").write_text(json.dumps({"rows": rows, "regions": regions},
                                                     indent=1))
    print("\n| label (via canonical) | N | 2-sigma coverage | max err guarded | exact frac | "
          "guarded s | exact s | speed-up | sigma overhead |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['label']} ({r['canonical'].split('/')[-1]}) | {r['n']} | "
              f"{r['coverage_2sigma']:.4f} | {r['max_err_guarded']:.2g} | "
              f"{r['exact_fraction']:.4f} | {r['t_guarded_s']:.2f} | {r['t_exact_s']:.2f} | "
              f"{r['speedup']:.1f}x | {r['overhead']:.2f}x |")
    print("\n| label | region | N | mean sigma/scale | mean err | max err | 2-sigma cov | "
          "exact frac | max err guarded |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in regions:
        print(f"| {r['label'].split('qqbar-zz-4l/')[1]} | {r['region']} | {r['n']} | "
              f"{r['mean_sigma_rel']:.2g} | {r['mean_err_rel']:.2g} | {r['max_err_rel']:.2g} | "
              f"{r['coverage_2sigma']:.3f} | {r['exact_fraction']:.3f} | "
              f"{r['max_err_guarded']:.2g} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
