"""How good is the per-point uncertainty of the network and tree-ensemble regressors?

A small but real problem: the 2D qqbar -> ZZ -> 4l one-loop term over the tree, r = f11 / f00
for helicity L--, from the process plugin (fresh points, three disjoint seeded samples:
``--n-train`` to fit, ``--n-cal`` to calibrate, ``--n-test`` to measure). Every regressor
sees x and the standardised log r (the usual ``log`` + ``standardise`` chain, done here by
hand); its ``predict_uncertainty`` is mapped back to r the way the core does it
(``sigma = |g(y + s) - g(y - s)| / 2`` with ``g`` the inverse chain) and scaled by one
factor fixed on the calibration sample, ``c = q_0.9545(|pull|) / 2`` (the rule of
:mod:`zoo.runtime.uncertainty`: 2-sigma coverage 95.45% on the calibration points).

Reported on the test sample, in the units of r: coverage at 1 and 2 sigma, the pulls'
mean and width (standard deviation, and the robust half-width of their 16-84% interval),
sharpness (median sigma / |r|), the Spearman correlation of sigma with |error|, the median
and 99th percentile of |relative error|, and the cost: training seconds and seconds to predict the test points,
``predict`` and ``predict_uncertainty``, against the one-member model of the same family.
CatBoost's own virtual ensembles (one model trained with ``posterior_sampling``, the
spread over ``virtual_ensembles_count`` tree ranges) are measured beside the seed
ensembles, through CatBoost's API (not a plugin option).

    python scripts/uncertainty_families.py                 # the table of docs/trust_families.md
    python scripts/uncertainty_families.py --quick         # a smoke run (~1 minute)
    python scripts/uncertainty_families.py --gap           # does sigma flag a data gap?

``--gap``: the contract's smooth 3D function (:func:`zoo.testing.smooth_function`), trained
on 1,500 points without the slab 0.4 < x0 < 0.7; per variant, the median sigma inside
0.45..0.65 over the median elsewhere, beside the same ratio of the errors.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from zoo import plugin_manager

PROCESS, TERM, HELICITY = "qqbar-zz-4l/2d", "f11", "L--"


def sample(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, 2), r = f11 / f00 of L-- (n,)) at uniform points drawn from ``seed``."""
    proc = plugin_manager.get("processes", PROCESS)
    col = proc.helicities.index(HELICITY)
    x = np.random.default_rng(seed).random((n, 2))
    vals = proc.evaluate(x, ["f00", TERM])
    return x, vals[TERM][:, col] / vals["f00"][:, col]


class Chain:
    """log, then standardise (fitted on the training targets); ``inverse`` maps back."""

    def __init__(self, r: np.ndarray) -> None:
        z = np.log(r)
        self.mu, self.sd = float(z.mean()), float(z.std())

    def forward(self, r: np.ndarray) -> np.ndarray:
        return (np.log(r) - self.mu) / self.sd

    def inverse(self, y: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sd * y)

    def propagate(self, y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.inverse(y), 0.5 * np.abs(self.inverse(y + s) - self.inverse(y - s))


def calibration_scale(pull: np.ndarray) -> float:
    """c such that c * sigma covers 95.45% of the calibration points at 2 sigma."""
    return float(np.quantile(np.abs(pull), 0.9544997361036416) / 2.0)


def metrics(r: np.ndarray, r_pred: np.ndarray, sigma: np.ndarray) -> dict[str, float]:
    """Coverage, pulls, sharpness and rank correlation of calibrated ``sigma`` (units of r)."""
    err = r_pred - r
    pull = err / sigma
    q16, q84 = np.quantile(pull, [0.1587, 0.8413])
    return {
        "coverage_1sigma": float(np.mean(np.abs(pull) <= 1.0)),
        "coverage_2sigma": float(np.mean(np.abs(pull) <= 2.0)),
        "pull_mean": float(pull.mean()),
        "pull_std": float(pull.std()),
        "pull_width68": float((q84 - q16) / 2.0),
        "sharpness": float(np.median(sigma / np.abs(r_pred))),
        "spearman": float(spearmanr(sigma, np.abs(err))[0]),
        **rel_errors(r, r_pred),
    }


def rel_errors(r: np.ndarray, r_pred: np.ndarray) -> dict[str, float]:
    """Median and 99th percentile of |r_pred / r - 1|."""
    rel = np.abs(r_pred / r - 1.0)
    return {"median_rel_error": float(np.median(rel)),
            "p99_rel_error": float(np.quantile(rel, 0.99))}


def timed(fn: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """(result, best wall seconds of ``repeat`` calls)."""
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def families(quick: bool, members: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(row name, regressor plugin, hyperparameters) of the measured configurations."""
    net = dict(width=32, depth=2, epochs=40 if quick else 150, batch_size=128,
               learning_rate=3e-3, patience=None, n_threads=1, seed=1)
    xgb = dict(n_estimators=100 if quick else 400, max_depth=6, learning_rate=0.05,
               subsample=0.8, n_jobs=1, seed=1)
    cat = dict(iterations=200 if quick else 800, depth=6, learning_rate=0.1, thread_count=1,
               random_seed=1)
    return [
        ("skdnn", "skdnn", dict(net)),
        (f"skdnn ensemble K={members}", "skdnn", dict(net, n_members=members)),
        ("skdnn gaussian head", "skdnn", dict(net, uncertainty="gaussian")),
        ("dnn", "dnn", dict(net)),
        (f"dnn ensemble K={members}", "dnn", dict(net, n_members=members)),
        ("dnn gaussian head", "dnn", dict(net, uncertainty="gaussian")),
        ("xgboost", "xgboost", dict(xgb)),
        (f"xgboost ensemble K={members}", "xgboost", dict(xgb, n_members=members)),
        ("catboost", "catboost", dict(cat)),
        (f"catboost ensemble K={members}", "catboost", dict(cat, n_members=members)),
    ]


def catboost_virtual(cat: dict[str, Any], x, y, x_eval: list[np.ndarray], count: int = 10):
    """CatBoost virtual ensembles: (fit seconds, [(mean, s, seconds) per eval set])."""
    from catboost import CatBoost

    opts = dict(iterations=cat["iterations"], depth=cat["depth"],
                learning_rate=cat["learning_rate"], thread_count=cat["thread_count"],
                random_seed=cat["random_seed"], loss_function="RMSE", posterior_sampling=True,
                verbose=False, allow_writing_files=False)
    t0 = time.perf_counter()
    model = CatBoost(opts).fit(x, y)
    fit_s = time.perf_counter() - t0
    out = []
    for xe in x_eval:
        def run(xe=xe):
            return np.asarray(model.virtual_ensembles_predict(
                xe, prediction_type="VirtEnsembles", virtual_ensembles_count=count,
                thread_count=cat["thread_count"]), dtype=np.float64).reshape(len(xe), count)
        v, sec = timed(run)
        out.append((v.mean(axis=1), v.std(axis=1, ddof=1), sec))
    return fit_s, out


def gap_check() -> None:
    """Median sigma and error inside a gap of the training data over outside (module doc)."""
    from zoo.testing import smooth_function

    rng = np.random.default_rng(3)
    x = rng.random((1500, 3))
    x = x[(x[:, 0] < 0.4) | (x[:, 0] > 0.7)]
    x_test = rng.random((2000, 3))
    gap = (x_test[:, 0] >= 0.45) & (x_test[:, 0] <= 0.65)
    net = dict(width=16, depth=2, epochs=30, batch_size=64, learning_rate=1e-2, patience=None,
               n_threads=1, seed=1)
    configs = [
        ("skdnn ensemble K=3", "skdnn", dict(net, n_members=3)),
        ("dnn ensemble K=3", "dnn", dict(net, n_members=3)),
        ("dnn gaussian head", "dnn", dict(net, uncertainty="gaussian")),
        ("xgboost ensemble K=3", "xgboost", dict(n_estimators=60, max_depth=4,
                                                 learning_rate=0.2, subsample=0.8, n_jobs=1,
                                                 seed=1, n_members=3)),
        ("catboost ensemble K=3", "catboost", dict(iterations=80, depth=4, learning_rate=0.2,
                                                   thread_count=1, random_seed=1,
                                                   n_members=3)),
    ]
    print(f"gap: {len(x)} training points without 0.4 < x0 < 0.7; {gap.sum()} of 2000 test "
          "points in 0.45..0.65")
    print("| family | median sigma gap / elsewhere | median error gap / elsewhere |")
    print("|---|---|---|")
    for name, plugin, params in configs:
        reg = plugin_manager.get("regressors", plugin)(**params).fit(x, smooth_function(x))
        y, s = reg.predict_uncertainty(x_test)
        err = np.abs(y - smooth_function(x_test))
        print(f"| {name} | {np.median(s[gap]) / np.median(s[~gap]):.2f} | "
              f"{np.median(err[gap]) / np.median(err[~gap]):.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-train", type=int, default=4000)
    ap.add_argument("--n-cal", type=int, default=1000)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer epochs/trees and points")
    ap.add_argument("--only", default="", help="comma-separated row-name prefixes to run")
    ap.add_argument("--json", default="", help="also write the rows to this JSON file")
    ap.add_argument("--gap", action="store_true", help="only the data-gap check")
    args = ap.parse_args()
    if args.gap:
        gap_check()
        return
    if args.quick:
        args.n_train, args.n_cal, args.n_test = 1500, 500, 1000

    t0 = time.perf_counter()
    x_tr, r_tr = sample(args.n_train, 101)
    x_cal, r_cal = sample(args.n_cal, 202)
    x_te, r_te = sample(args.n_test, 303)
    print(f"data: {args.n_train} + {args.n_cal} + {args.n_test} points of {PROCESS} "
          f"{TERM}/f00 {HELICITY} in {time.perf_counter() - t0:.0f} s", flush=True)
    chain = Chain(r_tr)
    y_tr = chain.forward(r_tr)

    rows: list[dict[str, Any]] = []
    base_cost: dict[str, tuple[float, float]] = {}
    only = [p for p in args.only.split(",") if p]
    warmed: set[str] = set()
    for name, plugin, params in families(args.quick, args.members):
        if only and not any(name.startswith(p) for p in only):
            continue
        cls = plugin_manager.get("regressors", plugin)
        if plugin not in warmed:  # one-time costs (imports, thread pools) out of the timing
            tiny = {k: v for k, v in params.items() if k not in ("epochs", "n_estimators",
                                                                  "iterations", "n_members")}
            short = {k: v for k, v in (("epochs", 1), ("n_estimators", 5), ("iterations", 5))
                     if k in params}
            cls(**tiny, **short).fit(x_tr[:64], y_tr[:64])
            warmed.add(plugin)
        reg = cls(**params)
        t1 = time.perf_counter()
        reg.fit(x_tr, y_tr)
        fit_s = time.perf_counter() - t1
        _, pred_s = timed(lambda reg=reg: reg.predict(x_te))
        row: dict[str, Any] = {"family": name, "fit_s": fit_s, "predict_s": pred_s}
        if name == plugin:  # the one-member reference of the family
            base_cost[plugin] = (fit_s, pred_s)
        if reg.has_uncertainty:
            (y_cal, s_cal) = reg.predict_uncertainty(x_cal)
            (y_te, s_te), unc_s = timed(lambda reg=reg: reg.predict_uncertainty(x_te))
            rc, sc = chain.propagate(y_cal, s_cal)
            c = calibration_scale((rc - r_cal) / sc)
            rt, st = chain.propagate(y_te, s_te)
            row.update(metrics(r_te, rt, c * st), calibration_scale=c,
                       predict_uncertainty_s=unc_s)
        else:
            rt = chain.inverse(reg.predict(x_te))
            row.update(rel_errors(r_te, rt))
        if plugin in base_cost:
            row["fit_x"] = fit_s / base_cost[plugin][0]
            row["predict_x"] = pred_s / base_cost[plugin][1]
        rows.append(row)
        print(json.dumps(row), flush=True)

    if not only or any("catboost virtual".startswith(p) or p.startswith("catboost v")
                       for p in only):
        cat = families(args.quick, args.members)[-1][2]
        fit_s, ((yc, sc_raw, _), (yt, st_raw, unc_s)) = catboost_virtual(
            cat, x_tr, y_tr, [x_cal, x_te])
        rc, sc = chain.propagate(yc, sc_raw)
        c = calibration_scale((rc - r_cal) / sc)
        rt, st = chain.propagate(yt, st_raw)
        row = {"family": "catboost virtual ensembles (10)", "fit_s": fit_s,
               "predict_uncertainty_s": unc_s, "calibration_scale": c,
               **metrics(r_te, rt, c * st)}
        if "catboost" in base_cost:
            row["fit_x"] = fit_s / base_cost["catboost"][0]
        rows.append(row)
        print(json.dumps(row), flush=True)

    print()
    print("| family | cov 1s | cov 2s | pull mean | pull std | pull w68 | sharpness | "
          "Spearman | med rel err | p99 rel err | calib c | fit s (x) | predict s (x) | "
          "pred+sigma s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")

    def f(row: dict[str, Any], key: str, fmt: str) -> str:
        return format(row[key], fmt) if key in row else "-"

    for row in rows:
        fx = f" ({row['fit_x']:.1f}x)" if "fit_x" in row else ""
        px = f" ({row['predict_x']:.1f}x)" if "predict_x" in row else ""
        print(f"| {row['family']} | {f(row, 'coverage_1sigma', '.3f')} | "
              f"{f(row, 'coverage_2sigma', '.3f')} | {f(row, 'pull_mean', '+.2f')} | "
              f"{f(row, 'pull_std', '.2f')} | {f(row, 'pull_width68', '.2f')} | "
              f"{f(row, 'sharpness', '.2e')} | {f(row, 'spearman', '.2f')} | "
              f"{f(row, 'median_rel_error', '.2e')} | {f(row, 'p99_rel_error', '.2e')} | "
              f"{f(row, 'calibration_scale', '.2f')} | "
              f"{row['fit_s']:.1f}{fx} | {f(row, 'predict_s', '.4f')}{px} | "
              f"{f(row, 'predict_uncertainty_s', '.4f')} |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "rows": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
