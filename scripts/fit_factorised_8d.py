"""Fit a ``qqzz-factorised`` model of f11 or f01 (one 8D column, one 4D production helicity
such as ``L--``, or with ``--on-shell`` one 2D helicity: both bosons at MZ) and score it on a
test set of that dimension.

The 8D f11 is exactly |sum of 9 production amplitudes x known decay functions|^2
(plugins/processes/qqzz/factorised.py). This script

1. generates production points x (N, 4), or (N, 2) on shell (uniform, denser at the faces
   of x1 and x2 with ``--sampling edges:F``, or ``--sampling cells``: the same expected
   number in every cell of the fitted parts, see :func:`cell_points`; x3, x4 uniform) and
   the one-loop production amplitudes of the 4D (2D) process there (cached in ``--cache``,
   a plain .npz read without pickle);
2. fits the real functions (one ``pwcheb`` each; an f01 model takes the exact tree from the
   process when it predicts; ``--terms f11,f01`` writes both models from one fit);
3. scores the term on the independent test set (the same file and metric as
   scripts/bench_table1.py: fraction of points with |pred - true| / |true| < 1% / 0.1%, for
   f01 |pred - true| / f00),
   measures points/s, and saves a zoo artifact (card with data provenance, metrics,
   parameters) into ``--out`` for ``bench_table1.py --collect`` and ``zoo publish``.

    python scripts/fit_factorised_8d.py --n 262144 --sampling edges:10 \\
        --test runs/table1/test_8d_1000000.zarr \\
        --out runs/table1/artifacts/qqbar-zz-4l_8d_f11_LLL/factorised
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

CHUNK = 2048


def _amplitudes(args: tuple[np.ndarray]) -> np.ndarray:
    from zoo import plugin_manager

    (x,) = args  # 4D production points, or on-shell 2D points
    dim = x.shape[1]
    return plugin_manager.get("processes", f"qqbar-zz-4l/{dim}d").amplitudes(x, loop=True)[1]


def _stratified(rng: np.random.Generator, n: int, edges: np.ndarray,
                arcsine: bool = False) -> np.ndarray:
    """n points on one axis, the same expected number in every cell of ``edges``: uniform
    within the cell, or with ``arcsine`` the Chebyshev density 1 / sqrt(1 - s^2) of the
    cell's local coordinate s (denser towards both ends of the cell)."""
    k = rng.integers(0, len(edges) - 1, n)
    u = rng.random(n)
    if arcsine:
        u = 0.5 * (1.0 - np.cos(np.pi * u))
    return edges[k] + (edges[k + 1] - edges[k]) * u


#: version of the generator the cached production amplitudes came from (a cache written by an
#: earlier one is regenerated): 2 = exact as a function of x up to the faces (issue 17)
GENERATOR = 2


def cell_points(n: int, seed: int, params: dict, dim: int,
                arcsine: bool = False) -> np.ndarray:
    """``--sampling cells``: the same expected number of points in every cell of the parts
    (their graded edges, in their coordinates: the polar angle with ``angle``), x2 in
    [0, 1/2] only: the symmetric fit maps every point to 1 - x2 as well (x3, x4 uniform). No
    floor at the beam: the generator is exact up to the faces (``GENERATOR``).

    ``--sampling cells-cheb`` (``arcsine``): within every cell the Chebyshev density of each
    axis's local coordinate (x3, x4 too, one cell each), the density for which a least-squares
    polynomial fit of high degree is stable up to the cell's edges and corners; uniform
    points leave the corners of degree-12 cells ill-determined (docs/trust.md, "Cell
    corners")."""
    from zoo.plugins.regressors.piecewise import graded_edges

    rng = np.random.default_rng(seed)
    x = rng.random((n, dim))
    for j in (0, 1):
        edges = graded_edges(0.0, 1.0, int(params["cells"][j]), float(params["grading"][j]))
        if j == 1:
            edges = edges[: len(edges) // 2 + 1]
            edges[-1] = min(edges[-1], 0.5)
        x[:, j] = _stratified(rng, n, edges, arcsine)
    if arcsine:
        for j in range(2, dim):
            x[:, j] = _stratified(rng, n, np.array([0.0, 1.0]), True)
    if params["angle"]:  # the angle a of x2: x2 = sin(pi a / 2)^2
        x[:, 1] = np.sin(0.5 * np.pi * x[:, 1]) ** 2
    return x


def production_points(n: int, seed: int, sampling: str, params: dict, dim: int) -> np.ndarray:
    from zoo.training.generate import edge_factor, warp_edges

    if sampling in ("cells", "cells-cheb"):
        x = cell_points(n, seed, params, dim, arcsine=sampling == "cells-cheb")
    else:
        x = np.random.default_rng(seed).random((n, dim))
        factor = edge_factor(sampling)
        if factor != 1.0:
            x[:, :2] = warp_edges(x[:, :2], factor)
    # the loop amplitudes are evaluated off the closed faces (x1 = 0: zero boson velocity,
    # x2 = 0 or 1: a boson along the beam); the fit reaches them by its polynomials
    return np.clip(x, 1e-12, 1.0 - 1e-12)


def training_data(n: int, seed: int, sampling: str, cache: Path, workers: int, params: dict,
                  dim: int):
    """Points (N, dim) (dim 4, or 2 on shell) and their 18 loop production amplitudes."""
    key = json.dumps({"sampling": sampling, "generator": GENERATOR})
    if sampling in ("cells", "cells-cheb"):  # the points depend on the parts' cells
        key = json.dumps({k: params[k] for k in ("cells", "grading", "angle")}
                         | {"dim": dim, "generator": GENERATOR}
                         | ({"density": "chebyshev"} if sampling == "cells-cheb" else {}))
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if (int(z["n"]) == n and int(z["seed"]) == seed and str(z["sampling"]) == key
                    and z["x"].shape[1] == dim):
                print(f"read {n} production points from {cache}", flush=True)
                return z["x"], z["re"] + 1j * z["im"]
    x = production_points(n, seed, sampling, params, dim)
    t0 = time.perf_counter()
    chunks = [(x[s:s + CHUNK],) for s in range(0, n, CHUNK)]
    with ProcessPoolExecutor(workers) as pool:
        amps = np.concatenate(list(pool.map(_amplitudes, chunks)))
    print(f"generated {n} production points in {time.perf_counter() - t0:.0f} s", flush=True)
    tmp = cache.with_name(cache.name + ".tmp.npz")
    np.savez(tmp, x=x, re=amps.real, im=amps.imag, n=n, seed=seed, sampling=key)
    tmp.replace(cache)
    return x, amps


def parts_from_4d(model, keys: list[str], x: np.ndarray, y: np.ndarray) -> float:
    """Give the 8D ``model`` the parts of published 4D f11 models instead of fitting them.

    With ``symmetric=True`` an 8D column's fit is, representative by representative, the fit
    of that 4D production helicity (the same values of every column and group element mapped
    onto it, the same least squares): so the 4D f11 models fitted on the *same* points (their
    card's data provenance must equal the hash of ``x, y``) with the same part parameters
    already hold it. Returns the sum of their recorded fitting times (s)."""
    from zoo.api import load
    from zoo.plugins.processes.qqzz.factorisation import REPRESENTATIVES, _col
    from zoo.plugins.processes.qqzz.factorised import _LAMBDA
    from zoo.training.data import hash_arrays

    want = hash_arrays(x, y)
    shared = ("cells", "degree", "grading", "ridge", "coef_dtype", "basis", "angle",
              "endpoints", "symmetric")
    mine, by_rep, fit_s = model.get_params(), {}, 0.0
    for key in keys:
        amp = load(key)
        reg = amp.model.regressor
        p = reg.get_params()
        rep = _col(_LAMBDA[p["helicity"][1]], _LAMBDA[p["helicity"][2]])
        bad = [k for k in shared if p[k] != mine[k]]
        if p["helicity"][0] != mine["helicity"][0] or p["term"] != "f11" or p["on_shell"]:
            bad.append("helicity/term (a 4D f11 model of the same quark helicity)")
        if rep == _col(0, 0) and p["cos_zero"] != mine["cos_zero"]:
            bad.append("cos_zero")
        if rep not in REPRESENTATIVES or rep in by_rep:
            bad.append(f"representative {p['helicity']} (one each of L--, L-0, L-+, L00)")
        if amp.card["data"]["provenance"] != want:
            bad.append("data provenance (fitted on other points than --cache holds)")
        if bad:
            raise SystemExit(f"{key}: cannot serve as parts of {mine['helicity']}: {bad}")
        by_rep[rep] = reg.parts_
        fit_s += float(amp.card.get("training_time_s", 0.0))
    if set(by_rep) != set(REPRESENTATIVES):
        raise SystemExit(f"--parts-from needs one model per representative, got {keys}")
    model.parts_ = ([by_rep[r][0] for r in REPRESENTATIVES]
                    + [by_rep[r][1] for r in REPRESENTATIVES])
    model.n_features_ = 8
    print(f"took the parts of {', '.join(keys)} ({model.n_parameters} coefficients)", flush=True)
    return fit_s


def score(args, reg, dim: int, x: np.ndarray, y: np.ndarray, fit_s: float) -> None:
    """Score a fitted model on the test set and save its artifact (card with provenance)."""
    from zoo.model import Model
    from zoo.training.data import hash_arrays
    from zoo.training.loop import read_data
    from zoo.training.metrics import measure_throughput, precision_table
    from zoo.transform import Chain

    term = reg.term
    label = f"qqbar-zz-4l/{dim}d/{term}/{args.helicity}"
    source = 4 if dim == 8 else dim  # the process whose amplitudes were fitted
    test = read_data(args.test, source="zarr", label=label, options={})
    card = {
        "training": {"regressor": reg.name, "params": reg.get_params(), "n_production": args.n,
                     "seed": args.seed, "sampling": args.sampling,
                     "sampling_grid": {"cells": args.grid_cells,
                                       "grading": args.grid_grading},
                     "training_data": f"one-loop production amplitudes of qqbar-zz-4l/"
                                      f"{source}d "
                                      "(plugins/processes/qqzz/factorised.py)",
                     "script": "scripts/fit_factorised_8d.py", "training_time_s": round(fit_s, 3),
                     **({"parts_from": args.parts_from.split(",")} if args.parts_from else {})},
        "data": {"provenance": hash_arrays(x, y), "test_provenance": test.provenance,
                 "source": f"generator ({source}D production amplitudes)", "n_train": int(args.n),
                 "n_validation": 0, "n_test": len(test),
                 "meta": {"generator": {"sampling": args.sampling}}},
    }
    model = Model(label, reg, Chain([]), card=card)
    t0 = time.perf_counter()
    pred = np.concatenate([model.predict(test.x[s:s + 100_000])
                           for s in range(0, len(test), 100_000)])
    print(f"predicted {len(test)} test points in {time.perf_counter() - t0:.0f} s", flush=True)
    if term == "f01":  # crosses zero: the error of f01 / f00 (as bench_table1.py)
        metrics = precision_table(test.y, pred, scale=test.f00, scale_name="f00")
    else:
        metrics = precision_table(test.y, pred)
    rate = measure_throughput(model.predict, dim, n=100_000)
    model.card.update({
        "metrics": {"test": metrics}, "n_parameters": reg.n_parameters, "dtype": reg.dtype,
        "training_time_s": round(fit_s, 3), "throughput_points_per_s": round(rate, 1),
        "throughput_note": f"Model.predict on uniform random {dim}D points in one batch of 1e5, "
                           "on the training machine",
    })
    out = model.save(args.out.replace("{term}", term), reference_x=test.x[:1000])
    disk = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{label} qqzz-factorised <1%: {100 * metrics['frac_lt_1pct']:.3f}%  "
          f"<0.1%: {100 * metrics['frac_lt_0p1pct']:.3f}%  {reg.n_parameters} params  "
          f"{disk / 1e6:.2f} MB  {rate:.3g} points/s  -> {out}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=262_144, help="production points to fit on")
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--sampling", default="edges:10",
                    help="uniform, edges:F, cells (stratified over the parts' cells) or "
                         "cells-cheb (the same, Chebyshev density within each cell)")
    ap.add_argument("--helicity", default="LLL")
    ap.add_argument("--terms", default="f11",
                    help="f11, f01 or f11,f01: one fit serves both (the parts are the same; a 4D "
                         "f01 model keeps the real part only); --out then needs {term}")
    ap.add_argument("--cells", default="[8,8,1,1]")
    ap.add_argument("--degree", default="[4,4,3,3]")
    ap.add_argument("--grading", default="[1.15,1.3,1,1]")
    ap.add_argument("--coef-dtype", default="float32")
    ap.add_argument("--basis", default="tensor", choices=("tensor", "total"))
    ap.add_argument("--grid-cells", default=None,
                    help="--sampling cells: stratify over these cells instead of the model's "
                         "(e.g. an 8D model on the points of a 4D grid: one cache serves both)")
    ap.add_argument("--grid-grading", default=None, help="the grading of --grid-cells")
    ap.add_argument("--cos-zero", action="store_true",
                    help="fit the (0,0) amplitude divided by cos theta (qqzz-factorised cos_zero)")
    ap.add_argument("--exchange-zero", action="store_true",
                    help="on shell: fit (-,-), (0,0), (+,+) divided by cos theta (their exact "
                         "zero at x2 = 1/2; qqzz-factorised exchange_zero)")
    ap.add_argument("--endpoints", action="store_true",
                    help="fit every amplitude divided by its exact beam behaviour "
                         "(qqzz-factorised endpoints: bounded relative errors up to the beam)")
    ap.add_argument("--on-shell", action="store_true",
                    help="the 2D process (both bosons at MZ): a 4D helicity fitted in (x1, x2)")
    ap.add_argument("--angle", action="store_true",
                    help="fit in the polar angle instead of x2 (qqzz-factorised angle=True)")
    ap.add_argument("--test", required=True, help="test set of the label's dimension (zoo generate)")
    ap.add_argument("--out", required=True,
                    help="artifact directory to write (new or empty); {term} is replaced by the term")
    ap.add_argument("--cache", default=None, help="npz of the production amplitudes")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--parts-from", default=None,
                    help="8D column only: comma-separated published 4D f11 models (key@N), one "
                         "per representative (L--, L-0, L-+, L00 for an L column), whose parts "
                         "are taken instead of fitting them again (parts_from_4d)")
    args = ap.parse_args(argv)

    from zoo.plugins.processes.qqzz.factorised import (
        FactorisedLoopRegressor,
        on_shell_points,
        production_targets,
    )

    terms = args.terms.split(",")
    if not set(terms) <= {"f11", "f01"} or (len(terms) > 1 and "{term}" not in args.out):
        ap.error("--terms takes f11, f01 or f11,f01; with two terms --out must contain {term}")
    # a 4D production helicity (2D on shell), or an 8D column
    dim = (2 if args.on_shell else 4) if args.helicity[1] in "-0+" else 8
    if args.on_shell and dim != 2:
        ap.error("--on-shell needs a production helicity such as L-0")
    cache = Path(args.cache or f"production_{args.n}_{args.seed}.npz")
    params = {"helicity": args.helicity, "cells": json.loads(args.cells),
              "degree": json.loads(args.degree), "grading": json.loads(args.grading),
              "coef_dtype": args.coef_dtype, "angle": args.angle, "basis": args.basis,
              "cos_zero": args.cos_zero, "on_shell": args.on_shell,
              "endpoints": args.endpoints, "exchange_zero": args.exchange_zero}
    grid = {**params, "cells": json.loads(args.grid_cells or args.cells),
            "grading": json.loads(args.grid_grading or args.grading)}
    x, amps = training_data(args.n, args.seed, args.sampling, cache, args.workers, grid,
                            min(dim, 4))
    y = production_targets(amps, on_shell_points(x) if dim == 2 else x, args.helicity[0])
    fitted = FactorisedLoopRegressor(**params, term="f11" if "f11" in terms else "f01")
    t0 = time.perf_counter()
    if args.parts_from:
        if dim != 8:
            ap.error("--parts-from builds an 8D column from 4D fits")
        fit_s = parts_from_4d(fitted, args.parts_from.split(","), x, y)
    else:
        fitted.fit(x, y)
        fit_s = time.perf_counter() - t0
    print(f"fitted {fitted.n_parameters} coefficients in {fit_s:.0f} s"
          + (" (the recorded fits of --parts-from)" if args.parts_from else ""), flush=True)
    for term in terms:
        score(args, fitted.for_term(term), dim, x, y, fit_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
