"""``zoo demo``: what the zoo is for, in under a minute on two cores.

1. fetch a pretrained amplitude by a *non-canonical* helicity label (the registry stores
   one function per symmetry orbit and maps the coordinates);
2. compare it with the exact generator on fresh points: the precision table and the
   speed ratio, measured now on this machine;
3. export a pretrained amplitude to ONNX and check the graph against ``predict``;
4. train a small model of your own, publish it, load it back (hashes and reference
   points verified) and predict.

Each step prints what it shows and how long it took; results go to stdout, progress to
stderr. Every number is computed during the run; nothing is quoted from a card except
where the text says "card".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

#: the pretrained amplitude compared with the exact code (4D: an amplitude model)
COMPARE_LABEL = "qqbar-zz-4l/4d/f11/R++"
#: the pretrained amplitude exported to ONNX (2D: piecewise Chebyshev, exportable today)
EXPORT_LABEL = "qqbar-zz-4l/2d/f11/R++"
#: the small model trained by the demo
TRAIN_CONFIG = {
    "label": "qqbar-zz-4l/8d/f11/sum",
    "regressor": "xgboost",
    "params": {"n_estimators": 200, "max_depth": 6, "learning_rate": 0.1, "seed": 0,
               "n_jobs": 2},
    "transforms": [{"name": "f00-normalise", "params": {"source": "process"}},
                   {"name": "symmetry", "params": {"mode": "fold"}}],
    "n": 8_000,
    "seed": 0,
}
N_FRESH = 2_000
FRESH_SEED = 20_261_203  # not a seed of any training or test set of the shipped models


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def run(console: Any, registry: str | None = None, *, n_fresh: int = N_FRESH,
        train_config: dict[str, Any] | None = None, workdir: Path | None = None
        ) -> dict[str, Any]:
    """Run the four steps, printing to ``console`` (rich); return the measured figures."""
    import tempfile

    import zoo
    from zoo import resolver
    from zoo.api import bundled_registry, local_registry
    from zoo.training.loop import TrainConfig, train
    from zoo.training.metrics import format_table, precision_table

    out: dict[str, Any] = {}
    start = time.perf_counter()

    marks = [time.perf_counter()]

    def step(k: int, title: str, shows: str) -> None:
        if k > 1:
            console.print(f"   [dim](step {k - 1}: {time.perf_counter() - marks[-1]:.1f} s)[/]")
        marks.append(time.perf_counter())
        console.print(f"\n[bold]{k}. {title}[/]\n   [dim]{shows}[/]")

    # 1 -------------------------------------------------------------------------------------
    step(1, f"fetch a pretrained amplitude by a non-canonical label: {COMPARE_LABEL}",
         "the registry stores one function per symmetry orbit; any member of the orbit "
         "loads it, with the coordinate map applied for you")
    res = resolver.resolve(COMPARE_LABEL)
    canon = res.canonical
    target = local_registry(registry)
    got, dt = _timed(lambda: target.fetch(canon, bundled_registry()))
    amp = zoo.load(COMPARE_LABEL, registry=target)
    card = amp.card.get("metrics", {}).get("test", {})
    console.print(f"   {COMPARE_LABEL} -> {canon} via {res.element.name}; fetched {got} "
                  f"({amp.card.get('regressor', {}).get('name')}, "
                  f"{amp.card.get('disk_size_bytes', 0) / 1e6:.2f} MB) in {dt:.2f} s")
    n_card = card.get("n")
    size = f" ({int(n_card):,} independent points)" if n_card else ""
    console.print(f"   its card{size}: within 1% "
                  f"{100 * card.get('frac_lt_1pct', float('nan')):.3f}%, within 0.1% "
                  f"{100 * card.get('frac_lt_0p1pct', float('nan')):.3f}%")

    # 2 -------------------------------------------------------------------------------------
    step(2, f"compare with the exact generator on {n_fresh:,} fresh points",
         "precision and speed measured now, on points no model has seen")
    process = resolver.find_process(COMPARE_LABEL)
    x = np.random.default_rng(FRESH_SEED).random((n_fresh, process.dimension))
    hel = res.requested.helicity
    # compile / warm up both sides once (numba compiles on first use, then caches on disk):
    # the exact code also at a point near the beam and one near threshold, whose
    # extended-precision path has kernels of its own
    warm = np.full((3, process.dimension), 0.5)
    warm[1, 1], warm[2, 0] = 1e-4, 1e-4
    process.function(warm, "f11", hel)
    exact, t_exact = _timed(lambda: process.function(x, "f11", hel))
    amp.predict(x[:16])
    pred, t_model = _timed(lambda: amp.predict(x))
    table = precision_table(exact, pred)
    console.print(format_table(table, {"exact generator (s)": round(t_exact, 3),
                                       "model (s)": round(t_model, 4)},
                               title=f"{COMPARE_LABEL}: model vs exact, {n_fresh:,} points"))
    ratio = t_exact / max(t_model, 1e-12)
    console.print(f"   the model is [bold]{ratio:,.0f}x[/] faster than the exact code here "
                  f"({n_fresh / t_model:,.0f} vs {n_fresh / t_exact:,.0f} points/s)")
    out.update(compare=table, speed_ratio=ratio)

    # 3 -------------------------------------------------------------------------------------
    step(3, f"export {EXPORT_LABEL} to ONNX and check the graph against predict",
         "event generators in C++/Fortran call the exported graph through ONNX Runtime")
    import onnxruntime as ort

    from zoo import plugin_manager

    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="zoo-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    eamp = zoo.load(EXPORT_LABEL)
    path, dt = _timed(lambda: plugin_manager.get("exporters", "onnx")(eamp, work / "amp.onnx"))
    eproc = resolver.find_process(EXPORT_LABEL)
    xe = np.random.default_rng(FRESH_SEED + 1).random((256, eproc.dimension))
    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: the run's own check is what matters
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {"x": xe}
    if any(i.name == "f00" for i in sess.get_inputs()):
        feeds["f00"] = eproc.function(xe, "f00", resolver.resolve(EXPORT_LABEL).requested.helicity)
    y_onnx = sess.run(["y"], feeds)[0]
    y_zoo = eamp.predict(xe)
    diff = float(np.max(np.abs(y_onnx - y_zoo) / np.maximum(np.abs(y_zoo), 1e-300)))
    console.print(f"   wrote {path} ({Path(path).stat().st_size / 1e6:.2f} MB) in {dt:.2f} s; "
                  f"inputs {[i.name for i in sess.get_inputs()]}; ONNX Runtime vs predict on "
                  f"256 points: max relative difference {diff:.1e}")
    out.update(onnx_max_rel_diff=diff)

    # 4 -------------------------------------------------------------------------------------
    cfg_dict = dict(train_config or TRAIN_CONFIG)
    step(4, f"train a small model of your own ({cfg_dict['regressor']}, {cfg_dict['n']:,} "
         f"points of {cfg_dict['label']}) and publish it",
         "a quick model is far from the shipped ones (expect well under 50% of points "
         "within 1%): precision needs the right features and far more data, see "
         "BENCHMARKS.md")
    cfg = TrainConfig.from_dict(cfg_dict)
    (model, test), dt = _timed(lambda: train(cfg, progress=True))
    console.print(format_table(model.card["metrics"]["test"], {
        "parameters": model.card.get("n_parameters"), "training time (s)": round(dt, 1)},
        title=f"your {cfg.regressor} model of {cfg.label}, on its own test split"))
    lab = zoo.publish(model, registry=target, reference_x=test.x)
    mine = zoo.load(lab, registry=target)
    xs = np.random.default_rng(1).random((3, mine.dimension))
    console.print(f"   published {lab} into {target.url}; loaded back with hashes and "
                  f"reference points verified; predictions at 3 points: {mine.predict(xs)}")
    out.update(trained=model.card["metrics"]["test"], published=str(lab))
    console.print(f"   [dim](step 4: {time.perf_counter() - marks[-1]:.1f} s)[/]")
    total = time.perf_counter() - start
    console.print(f"\n[bold]done in {total:.1f} s.[/] Next: `zoo list`, `zoo show {canon}`, "
                  "README.md")
    out["seconds"] = total
    return out
