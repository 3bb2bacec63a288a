"""Does the vouching k measured on calibration points hold on independent points?

Trains LABEL with a regressor that has an uncertainty, calibrates it on the test split
(``zoo train``) and on fresh points with 20% at the faces (``zoo calibrate``), then on
independent points (uniform, and 20% at the faces) reports the coverage, and per rtol the
fraction the guard trusts and how many trusted points are beyond rtol (should be 0).

    python scripts/trust_k_check.py LABEL N REGRESSOR 'PARAMS_JSON' [N_FRESH] [N_CHECK]

e.g. (seed ensembles of h-trust-nn's xgboost, ``n_members``):
    python scripts/trust_k_check.py qqbar-zz-4l/8d/f11/sum 30000 xgboost \
        '{"n_members": 3, "n_estimators": 200, "max_depth": 7, "n_jobs": 2, "subsample": 0.8}'
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main() -> None:
    from zoo import plugin_manager
    from zoo.runtime.uncertainty import assess, vouched
    from zoo.training.calibrate import calibrate_model, fresh_points
    from zoo.training.loop import TrainConfig, train

    label, n, regressor, params = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    n_fresh = int(sys.argv[5]) if len(sys.argv) > 5 else 20_000
    n_check = int(sys.argv[6]) if len(sys.argv) > 6 else 50_000
    t0 = time.time()
    cfg = TrainConfig.from_dict({
        "label": label, "regressor": regressor, "params": json.loads(params), "n": n,
        "transforms": [{"name": "f00-normalise", "params": {"source": "process"}},
                       {"name": "log"}, {"name": "standardise", "params": {"target": "y"}}]})
    model, _ = train(cfg)
    keys = ("calibration_scale", "coverage_1sigma", "coverage_2sigma", "pull_mean",
            "pull_width", "sharpness", "k_needed", "vouch_k")
    print(f"trained in {time.time() - t0:.0f} s")
    print("test split:  ", {k: round(model.card["uncertainty"][k], 4) for k in keys})
    rec = calibrate_model(model, n=n_fresh, faces=0.2, seed=1)
    print("fresh+faces: ", {k: round(rec[k], 4) for k in keys})
    model.card["uncertainty"] = rec
    proc = plugin_manager.get("processes", label.rsplit("/", 2)[0])
    term, hel = label.split("/")[2:4]
    for faces in (0.0, 0.2):
        x = fresh_points(proc.dimension, n_check, faces, seed=99)
        exact = proc.function(x, term, hel)
        y, s = model.predict(x, return_uncertainty=True)
        a = assess(exact, y, s, k=rec["vouch_k"])
        print(f"{n_check} independent points, faces {faces}: coverage 1σ "
              f"{a['coverage_1sigma']:.3f}, 2σ {a['coverage_2sigma']:.3f}")
        rel = np.abs(y - exact) / np.abs(exact)
        for r in (0.2, 0.05, 1e-2, 1e-3):
            ok = vouched(y, s, r, rec["vouch_k"])
            print(f"  rtol {r:g}: trusted {int(ok.sum())}, beyond rtol among them "
                  f"{int((rel[ok] > r).sum())}")


if __name__ == "__main__":
    main()
