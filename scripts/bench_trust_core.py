"""Overhead of the core's uncertainty and guard paths (issue 16), regressor cost aside.

Trains the test suite's third-party ``polyfit`` regressor (per-cell held-out RMS as its
uncertainty; a few flops per point, so the core's work dominates) on ``bump/2d/f11/L`` with
``f00-normalise(source=process)`` and times, on the same N uniform points, best of 5:
``predict``, ``predict(return_uncertainty=True)`` (the chain's inverse on y, y + s, y - s,
the exact f00 computed once) and ``predict(rtol=...)`` at an rtol where the model vouches
everywhere but the bump cell x1 < 0.25 (a quarter of the points go to the exact function).

    python scripts/bench_trust_core.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "zoo" / "thirdparty_plugin"))


def best(fn, repeats: int = 5) -> float:
    out = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t0)
    return out


def main() -> None:
    import zoo
    from zoo import plugin_manager
    from zoo.training.loop import TrainConfig, train

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    cfg = TrainConfig.from_dict({
        "label": "bump/2d/f11/L", "regressor": "polyfit", "n": 4000,
        "params": {"degree": 2, "unc_bins": 4},
        "transforms": [{"name": "f00-normalise", "params": {"source": "process"}}]})
    model, test = train(cfg)
    with tempfile.TemporaryDirectory() as reg:
        zoo.publish(model, registry=reg, reference_x=test.x)
        amp = zoo.load("bump/2d/f11/R", registry=reg)
        x = np.random.default_rng(0).random((n, 2))
        proc = plugin_manager.get("processes", "bump/2d")
        t = {
            "exact process (f11 of R)": best(lambda: proc.function(x, "f11", "R")),
            "predict": best(lambda: amp.predict(x)),
            "predict(return_uncertainty=True)": best(
                lambda: amp.predict(x, return_uncertainty=True)),
            "predict(rtol=0.05), 25% exact": best(lambda: amp.predict(x, rtol=0.05)),
        }
    base = t["predict"]
    print(f"N = {n}")
    for name, sec in t.items():
        print(f"{name:36s} {sec * 1e3:8.2f} ms  {n / sec / 1e6:6.2f} M points/s  "
              f"{sec / base:5.2f} x predict")


if __name__ == "__main__":
    main()
