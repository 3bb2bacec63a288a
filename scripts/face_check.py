"""Score amplitude models on the faces of the hypercube, region by region.

Builds one face test set per dimension (:func:`zoo.training.faces.face_points`: the beam,
the threshold, their corner, light bosons, collinear decays) with the exact f00, f01, f11
of every helicity column from the process (``Process.evaluate``, exact as a function of x;
near the beam the 2D/4D generator takes ~10-100 ms per point, so the sets are cached in
``--cache`` as plain .npz, written atomically and read without pickle), then prints per
label a markdown table with one row per region: points, median and max error, fraction of
points with error < 1e-2, < 1e-3, < 1e-4.

The error is the cards' metric (:mod:`zoo.training.metrics`, scripts/bench_table1.py):
f11 ``|pred - exact| / |exact|``; f01 (crosses zero) ``|pred - exact| / f00`` of the same
helicity (the card's ``uncertainty.scale``/``training.metric_scale`` when it names one).
A prediction that is NaN/inf or that the model refuses counts as an infinite error
(``n_failed``). ``--json OUT`` writes per label a ``test_faces`` record for
``card["metrics"]["test_faces"]``: per region ``n, n_failed, frac_lt_1pct, frac_lt_0p1pct,
frac_lt_0p01pct, median, max`` (fractions in [0, 1], errors as fractions, ``max`` null when
infinite), the ``delta_denominator`` and the set's provenance (``set``: dim, n, seed,
regions, sha256 of x and of the exact values, process version): e.g.
``card["metrics"]["test_faces"] = json.load(f)["results"][NAME]["test_faces"]``.

    python scripts/face_check.py --defaults --json runs/faces/defaults_before.json
    python scripts/face_check.py --labels qqbar-zz-4l/4d/f11/R++,qqbar-zz-4l/8d/f01/RRL
    python scripts/face_check.py --artifact runs/new/4d_f11_L-- [--via qqbar-zz-4l/4d/f11/R++]
    python scripts/face_check.py --defaults --summary     # then one table, label x region
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, ZooError
from zoo.training.faces import face_points

PROCESS = "qqbar-zz-4l"
TERMS = ("f00", "f01", "f11")
DEFAULT_N = {2: 2000, 4: 2000, 8: 20000}
#: points per task of the process pool (2D/4D near the beam: ~10-100 ms per point)
CHUNK = {2: 25, 4: 25, 8: 2500}
THRESHOLDS = ((1e-2, "frac_lt_1pct"), (1e-3, "frac_lt_0p1pct"), (1e-4, "frac_lt_0p01pct"))


# -- the face test set ---------------------------------------------------------------------
def _exact(args: tuple[int, np.ndarray]) -> dict[str, np.ndarray]:
    from zoo import plugin_manager

    dim, x = args
    return plugin_manager.get("processes", f"{PROCESS}/{dim}d").evaluate(x, list(TERMS))


def _provenance(dim: int, n: int, seed: int, x: np.ndarray, region: np.ndarray,
                values: dict[str, np.ndarray], version: str) -> dict[str, Any]:
    from zoo.training.data import hash_arrays

    names = list(dict.fromkeys(region.tolist()))
    return {"process": f"{PROCESS}/{dim}d", "process_version": version, "dim": dim, "n": n,
            "seed": seed, "regions": {r: int(np.sum(region == r)) for r in names},
            "x_sha256": hash_arrays(x),
            "exact_sha256": hash_arrays(*(values[t] for t in TERMS)),
            "generator": "zoo.training.faces.face_points; exact values by Process.evaluate"}


def build_set(dim: int, n: int, seed: int, cache: Path | None, workers: int) -> dict[str, Any]:
    """The face set of ``dim``: ``x``, ``region``, ``helicities``, ``f00``/``f01``/``f11``
    (N, H) and ``provenance``; read from ``cache`` when it holds the same points (same x
    hash, process version), else generated with ``workers`` processes and written there."""
    from zoo import plugin_manager
    from zoo.training.data import hash_arrays

    proc = plugin_manager.get("processes", f"{PROCESS}/{dim}d")
    x, region = face_points(dim, n, seed)
    path = None if cache is None else cache / f"faces_{dim}d_n{n}_seed{seed}.npz"
    if path is not None and path.is_file():
        with np.load(path, allow_pickle=False) as z:
            if (str(z["x_sha256"]) == hash_arrays(x) and str(z["version"]) == proc.version
                    and np.array_equal(z["x"], x)):
                values = {t: np.asarray(z[t], dtype=np.float64) for t in TERMS}
                print(f"{dim}D: read {n} face points from {path}", file=sys.stderr, flush=True)
                return {"x": x, "region": region, "helicities": tuple(proc.helicities),
                        **values, "provenance": _provenance(dim, n, seed, x, region, values,
                                                            proc.version)}
        print(f"{dim}D: {path} holds other points or another process version: regenerating",
              file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    step = CHUNK[dim]
    tasks = [(dim, x[s:s + step]) for s in range(0, n, step)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_exact, tasks))
    else:
        parts = [_exact(t) for t in tasks]
    values = {t: np.concatenate([p[t] for p in parts]).astype(np.float64) for t in TERMS}
    print(f"{dim}D: exact values of {n} face points in {time.perf_counter() - t0:.0f} s "
          f"({workers} workers)", file=sys.stderr, flush=True)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, x=x, x_sha256=hash_arrays(x), version=proc.version, **values)
        os.replace(tmp, path)
    return {"x": x, "region": region, "helicities": tuple(proc.helicities), **values,
            "provenance": _provenance(dim, n, seed, x, region, values, proc.version)}


def column(values: np.ndarray, helicities: Sequence[str], helicity: str) -> np.ndarray:
    """One helicity column of ``values`` (N, H), or their sum for ``helicity='sum'``."""
    if helicity == "sum":
        return values.sum(axis=1)
    if helicity not in helicities:
        raise ConfigError(f"helicity {helicity!r} is not a column of the face set "
                          f"({', '.join(helicities)}, or sum)")
    return values[:, list(helicities).index(helicity)]


# -- scoring ---------------------------------------------------------------------------------
def errors(pred: np.ndarray, exact: np.ndarray, denom: np.ndarray | None = None) -> np.ndarray:
    """Per-point error ``|pred - exact| / |denom|`` (``denom = exact`` when None), as a
    fraction; ``inf`` where ``pred`` is not finite, or where the denominator is zero and
    ``pred != exact`` (0 where both agree exactly)."""
    pred = np.asarray(pred, dtype=np.float64)
    exact = np.asarray(exact, dtype=np.float64)
    d = np.abs(exact if denom is None else np.asarray(denom, dtype=np.float64))
    diff = np.abs(pred - exact)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(d > 0, diff / np.where(d > 0, d, 1.0), np.where(diff == 0, 0.0, np.inf))
    return np.where(np.isfinite(pred), err, np.inf)


def _stats(err: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(err.size), "n_failed": int(np.sum(~np.isfinite(err)))}
    for t, key in THRESHOLDS:
        out[key] = float(np.mean(err < t)) if err.size else None
    med = float(np.median(err)) if err.size else None
    top = float(np.max(err)) if err.size else None
    out["median"] = med if med is None or np.isfinite(med) else None
    out["max"] = top if top is None or np.isfinite(top) else None
    return out


def score_regions(pred: np.ndarray, exact: np.ndarray, region: np.ndarray,
                  denom: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
    """Per region (in order of first appearance) and ``all``: ``n``, ``n_failed``,
    ``frac_lt_1pct`` / ``frac_lt_0p1pct`` / ``frac_lt_0p01pct`` (error < 1e-2, 1e-3, 1e-4),
    ``median``, ``max`` of :func:`errors` (None where infinite)."""
    err = errors(pred, exact, denom)
    region = np.asarray(region)
    out = {r: _stats(err[region == r]) for r in dict.fromkeys(region.tolist())}
    out["all"] = _stats(err)
    return out


def predict_robust(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   chunk: int = 256) -> np.ndarray:
    """``predict(x)``; where the model refuses a batch (a :class:`ZooError`, e.g. an exact
    zero of f00), chunk by chunk and then point by point, NaN for the refused points."""
    try:
        return np.asarray(predict(x), dtype=np.float64).reshape(-1)
    except ZooError:
        pass
    out = np.full(len(x), np.nan)
    for s in range(0, len(x), chunk):
        try:
            out[s:s + chunk] = predict(x[s:s + chunk])
            continue
        except ZooError:
            pass
        for i in range(s, min(s + chunk, len(x))):
            try:
                out[i] = np.asarray(predict(x[i:i + 1]), dtype=np.float64)[0]
            except ZooError:
                pass
    return out


def metric_scale(card: dict[str, Any], term: str) -> str:
    """``f00`` or ``abs``: the card's relative-error scale, else f00 for f01 and abs else."""
    unc = card.get("uncertainty") or {}
    named = unc.get("scale") or (card.get("training") or {}).get("metric_scale")
    if named in ("abs", "f00"):
        return named
    return "f00" if term == "f01" else "abs"


def score_label(name: str, predict: Callable[[np.ndarray], np.ndarray], term: str,
                helicity: str, card: dict[str, Any], fset: dict[str, Any]) -> dict[str, Any]:
    """The ``test_faces`` record of one label (module doc) on the face set ``fset``."""
    exact = column(fset[term], fset["helicities"], helicity)
    scale = metric_scale(card, term)
    denom = column(fset["f00"], fset["helicities"], helicity) if scale == "f00" else None
    t0 = time.perf_counter()
    pred = predict_robust(predict, fset["x"])
    print(f"{name}: predicted {len(pred)} face points in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr, flush=True)
    rec: dict[str, Any] = score_regions(pred, exact, fset["region"], denom)
    rec["delta_denominator"] = "|f00|" if scale == "f00" else "|y_true|"
    rec["set"] = fset["provenance"]
    return rec


# -- models ------------------------------------------------------------------------------------
def _label_parts(label: str) -> tuple[int, str, str]:
    from zoo.labels import as_label

    lab = as_label(label)
    if lab.process != PROCESS:
        raise ConfigError(f"{label}: face sets exist for {PROCESS} only (its coordinates)")
    return int(lab.dimension), lab.term, lab.helicity


def default_labels() -> list[tuple[str, dict[str, Any]]]:
    """``(key@version, entry)`` of what ``zoo list`` shows as latest per label."""
    import zoo.api as api

    return [(f"{e['key']}@{e['version']}", e) for e in api.list_models()
            if "latest" in e["aliases"]]


def load_targets(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Each model to score: ``name``, ``predict``, ``dim``, ``term``, ``helicity``, ``card``,
    ``model`` (where it came from)."""
    import zoo.api as api
    from zoo import resolver
    from zoo.model import Model

    targets = []
    named: list[tuple[str, str | None]] = []
    if args.defaults:
        named += [(lab, e["registry"]) for lab, e in default_labels()]
    for lab in filter(None, (args.labels or "").split(",")):
        named.append((lab.strip(), None))
    for lab, reg in named:
        dim, term, hel = _label_parts(lab)
        amp = api.load(lab, registry=reg, verify=not args.no_verify, device="cpu")
        targets.append({"name": lab, "predict": amp.predict, "dim": dim, "term": term,
                        "helicity": hel, "card": amp.card,
                        "model": {"label": str(amp.canonical), "registry": amp.registry_url}})
    for directory in args.artifact or []:
        model = Model.load(directory)
        if not args.no_verify:
            model.verify(directory)
        vias = [v.strip() for v in (args.via or model.label).split(",") if v.strip()]
        for via in vias:
            res = resolver.resolve(via)
            if res.canonical.base != resolver.resolve(model.label).canonical.base:
                raise ConfigError(f"--via {via} is answered by {res.canonical.base}, but the "
                                  f"artifact {directory} holds {model.label}; pass a label of "
                                  "its symmetry orbit")
            dim, term, hel = _label_parts(via)
            targets.append({"name": f"{via} [{directory}]",
                            "predict": (lambda x, m=model, r=res: m.predict(r.coord_map(x))),
                            "dim": dim, "term": term, "helicity": hel, "card": model.card,
                            "model": {"label": model.label, "artifact": str(directory)}})
    if not targets:
        raise ConfigError("nothing to score: pass --defaults, --labels L1,L2 or --artifact DIR")
    return targets


# -- output ---------------------------------------------------------------------------------------
def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100.0 * v:.1f}%"


def _e(v: float | None) -> str:
    return "inf" if v is None else f"{v:.1e}"


def table(name: str, rec: dict[str, Any]) -> str:
    """A markdown table of one label's record: a row per region, then ``all``."""
    denom = "|exact|" if rec["delta_denominator"] == "|y_true|" else "f00"
    lines = [f"### {name} (error = |pred - exact| / {denom})", "",
             "| region | N | median | max | < 1e-2 | < 1e-3 | < 1e-4 | failed |",
             "|---|---|---|---|---|---|---|---|"]
    for r, s in rec.items():
        if isinstance(s, dict) and "n" in s and r != "set":
            lines.append(f"| {r} | {s['n']} | {_e(s['median'])} | {_e(s['max'])} | "
                         f"{_pct(s['frac_lt_1pct'])} | {_pct(s['frac_lt_0p1pct'])} | "
                         f"{_pct(s['frac_lt_0p01pct'])} | {s['n_failed']} |")
    return "\n".join(lines) + "\n"


def summary(results: dict[str, dict[str, Any]]) -> str:
    """One compact table: a row per label, a column per region; each cell ``median / max
    · % < 1e-2 / 1e-3 / 1e-4``."""
    cols: list[str] = []
    for rec in results.values():
        for r, s in rec["test_faces"].items():
            if isinstance(s, dict) and "n" in s and r not in ("set", "all", *cols):
                cols.append(r)
    cols.append("all")
    head = ("| label | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols) + "\n")
    rows = []
    for name, rec in results.items():
        cells = []
        for r in cols:
            s = rec["test_faces"].get(r)
            cells.append("" if s is None else
                         f"{_e(s['median'])} / {_e(s['max'])} · "
                         + "/".join(f"{100 * s[k]:.0f}" for _, k in THRESHOLDS))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--defaults", action="store_true",
                    help="every label `zoo list` shows (its latest version)")
    ap.add_argument("--labels", help="comma-separated labels (any member of an orbit, any selector)")
    ap.add_argument("--artifact", action="append",
                    help="an unpublished artifact directory (repeatable)")
    ap.add_argument("--via", help="with --artifact: comma-separated labels of the artifact's orbit "
                                  "to score it through (default: its own label)")
    ap.add_argument("--n2", type=int, default=DEFAULT_N[2], help="2D face points")
    ap.add_argument("--n4", type=int, default=DEFAULT_N[4], help="4D face points")
    ap.add_argument("--n8", type=int, default=DEFAULT_N[8], help="8D face points")
    ap.add_argument("--seed", type=int, default=1203)
    ap.add_argument("--cache", default="runs/faces", help="folder of the cached face sets ('' = none)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="write the records (per label: model, test_faces) here")
    ap.add_argument("--summary", action="store_true", help="then one compact label x region table")
    ap.add_argument("--no-verify", action="store_true", help="skip the artifacts' self-check")
    args = ap.parse_args(argv)
    try:
        targets = load_targets(args)
        sizes = {2: args.n2, 4: args.n4, 8: args.n8}
        cache = Path(args.cache) if args.cache else None
        sets = {d: build_set(d, sizes[d], args.seed, cache, args.workers)
                for d in sorted({t["dim"] for t in targets})}
        results = {}
        for t in targets:
            rec = score_label(t["name"], t["predict"], t["term"], t["helicity"], t["card"],
                              sets[t["dim"]])
            results[t["name"]] = {"model": t["model"], "test_faces": rec}
            print(table(t["name"], rec), flush=True)
    except ZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.summary:
        print(summary(results))
    if args.json:
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        doc = {"command": "python scripts/face_check.py " + " ".join(sys.argv[1:] if argv is None
                                                                      else argv),
               "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
               "results": results}
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
        os.replace(tmp, out)
        print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
