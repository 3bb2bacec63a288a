"""Inference benchmarks: points/s versus batch size per backend and dtype, single-point
latency, trees versus their native libraries, Dask throughput on 1 and 2 workers, the
``pwcheb`` compiled kernel versus its numpy path (``--only pwcheb``), the shipped f11
amplitudes through ``zoo.load(...).predict`` (``--only pretrained``).

    /tmp/venv/bin/python scripts/bench_inference.py [--max-batch 1000000] [--skip-dask]

Networks are initialised but untrained (the arithmetic, hence the timing, does not depend
on the weights): an sk-DNN of width 50 and depth 7 (54.6k parameters, ~110 kFLOP per
point), gelu. Trees are small trained models (20k points of a smooth 8D function).
Prints markdown tables; numbers are medians of repeated runs (best of 3 for large N).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

D = 8


def _timeit(fn, n_points: int, min_time: float = 0.3, repeat: int = 3) -> float:
    """Points per second of ``fn()`` (best of ``repeat`` runs of >= min_time each)."""
    fn()
    best = 0.0
    for _ in range(repeat):
        calls, t0 = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            dt = time.perf_counter() - t0
            if dt >= min_time:
                break
        best = max(best, calls * n_points / dt)
    return best


def _latency_us(fn, n: int = 3000) -> float:
    for _ in range(200):
        fn()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(times)


def _net(dtype: str, activation: str = "gelu"):
    from zoo.plugins.regressors.torch_models import SkDNNRegressor

    reg = SkDNNRegressor(width=50, depth=7, activation=activation, dtype=dtype)
    reg.model_ = reg._new_module(D)
    reg.n_features_ = D
    return reg


def bench_networks(max_batch: int) -> None:
    import torch

    from zoo.plugins.regressors.network import network_spec
    from zoo.plugins.regressors.network_fast import NumpyNet
    from zoo.runtime.inference import fast_predictor

    sizes = [s for s in (1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)
             if s <= max_batch]
    x_all = np.random.default_rng(0).random((max(sizes), D))
    print("\n### sk-DNN 50x7 (54.6k parameters, gelu): points/s by batch size\n")
    print("| dtype | backend | " + " | ".join(f"{s:g}" for s in sizes) + " | peak MB (numpy, 10^6) |")
    print("|---" * (len(sizes) + 3) + "|")
    for dtype in ("float32", "float64"):
        reg = _net(dtype)
        spec = network_spec(reg)
        module = reg.model_.eval()
        tdt = getattr(torch, dtype)

        def eager(x, module=module, tdt=tdt):
            with torch.inference_mode():
                return module(torch.as_tensor(x, dtype=tdt)).numpy()

        backends = {
            "zoo engine (auto)": fast_predictor(reg),
            "onnxruntime (chunked)": None if (dtype == "float64") else fast_predictor(
                reg, backend="onnxruntime"),
            "torch eager (one call)": eager,
            "torch chunked 4096": fast_predictor(reg, backend="torch"),
            "numpy (chunked)": NumpyNet(spec),
        }
        for name, fn in backends.items():
            if fn is None:
                continue
            row = []
            for s in sizes:
                x = x_all[:s]
                if name.startswith("torch eager") and s > 1_000_000:
                    row.append("-")
                    continue
                rate = _timeit(lambda fn=fn, x=x: fn(x), s,
                               min_time=0.2 if s < 10**6 else 0.0, repeat=3 if s < 10**7 else 1)
                row.append(f"{rate / 1e6:.3f} M")
            peak = "-"
            if name.startswith("numpy") or name.startswith("zoo"):
                tracemalloc.start()
                fn(x_all[:1_000_000] if max(sizes) >= 10**6 else x_all)
                peak = f"{tracemalloc.get_traced_memory()[1] / 2**20:.0f}"
                tracemalloc.stop()
            print(f"| {dtype} | {name} | " + " | ".join(row) + f" | {peak} |")


def bench_latency() -> None:
    import torch

    from zoo.plugins.regressors.network import network_model, network_spec
    from zoo.plugins.regressors.network_fast import NumbaOne, NumpyNet, OrtNet
    from zoo.runtime.inference import fast_predictor

    print("\n### single-point latency (us per call, one point (8,) -> float)\n")
    print("| dtype | activation | zoo .one (numba) | zoo predictor(x[None]) | onnxruntime run | numpy | torch eager |")
    print("|---|---|---|---|---|---|---|")
    x = np.random.default_rng(1).random(D)
    for dtype in ("float32", "float64"):
        for act in ("gelu", "relu"):
            reg = _net(dtype, act)
            spec = network_spec(reg)
            pred = fast_predictor(reg)
            one = NumbaOne(spec)
            ort_one = "-"
            if not (dtype == "float64" and act == "gelu"):
                net = OrtNet(network_model(spec).SerializeToString(), dtype, D)
                ort_one = f"{_latency_us(lambda net=net: net.one(x)):.1f}"
            npn = NumpyNet(spec)
            x1 = x[None, :]
            module = reg.model_.eval()
            xt = torch.as_tensor(x1, dtype=getattr(torch, dtype))

            def eager(module=module, xt=xt):
                with torch.inference_mode():
                    return float(module(xt)[0, 0])

            print(f"| {dtype} | {act} | {_latency_us(lambda one=one: one(x)):.1f} | "
                  f"{_latency_us(lambda pred=pred, x1=x1: pred(x1)):.1f} | {ort_one} | "
                  f"{_latency_us(lambda npn=npn, x1=x1: npn(x1), 1000):.1f} | "
                  f"{_latency_us(eager, 1000):.1f} |")


def bench_latency_widths() -> None:
    """Single-point latency of the numba kernel versus sk-DNN width (float32, gelu)."""
    from zoo.plugins.regressors.network import network_spec
    from zoo.plugins.regressors.network_fast import NumbaOne
    from zoo.plugins.regressors.torch_models import SkDNNRegressor

    print("\n### single-point latency versus width (float32 gelu sk-DNN, zoo .one)\n")
    print("| width x depth | parameters | us per call |")
    print("|---|---|---|")
    x = np.random.default_rng(1).random(D)
    for width, depth in ((50, 7), (100, 5), (160, 5), (256, 4)):
        reg = SkDNNRegressor(width=width, depth=depth, activation="gelu", dtype="float32")
        reg.model_ = reg._new_module(D)
        reg.n_features_ = D
        one = NumbaOne(network_spec(reg))
        n_par = sum(p.numel() for p in reg.model_.parameters())
        print(f"| {width} x {depth} | {n_par:,} | {_latency_us(lambda one=one: one(x)):.1f} |")


def bench_trees() -> None:
    from zoo import plugin_manager
    from zoo.model import Model
    from zoo.runtime.inference import fast_predictor
    from zoo.runtime.onnx_export import build_onnx, session
    from zoo.transform import Chain, Context

    rng = np.random.default_rng(0)
    x = rng.random((20_000, D))
    y = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + x @ np.linspace(0.1, 0.8, D)
    models = {
        "xgboost depth 8, 300 trees": plugin_manager.get("regressors", "xgboost")(
            n_estimators=300, max_depth=8, early_stopping_rounds=None),
        "catboost depth 8, 300 trees": plugin_manager.get("regressors", "catboost")(
            iterations=300, depth=8, early_stopping_rounds=None),
    }
    print("\n### trees: points/s (2 threads)\n")
    print("| model | N | native predict | zoo fast_predictor | exported ONNX (onnxruntime) |")
    print("|---|---|---|---|---|")
    xt = rng.random((1_000_000, D))
    for name, reg in models.items():
        reg.fit(x, y)
        pred = fast_predictor(reg)
        model = Model("qqbar-zz-4l/8d/f11/sum", reg, Chain([]), context=Context())
        sess = session(build_onnx(model).SerializeToString())
        for n in (1, 1_000, 100_000, 1_000_000):
            xb = xt[:n]
            nat = _timeit(lambda reg=reg, xb=xb: reg.predict(xb), n, 0.2)
            zoo_ = _timeit(lambda pred=pred, xb=xb: pred(xb), n, 0.2)
            onx = _timeit(lambda sess=sess, xb=xb: sess.run(["y"], {"x": xb}), n, 0.2)
            print(f"| {name} | {n:g} | {nat / 1e6:.3f} M | {zoo_ / 1e6:.3f} M | {onx / 1e6:.3f} M |")


def bench_dask(n: int) -> None:
    import zarr

    from zoo import plugin_manager
    from zoo.api import publish
    from zoo.model import Model
    from zoo.runtime.distributed import dask_predict
    from zoo.transform import Chain

    print(f"\n### Dask: {n:g} points, Zarr in -> Zarr out (LocalCluster, 1 thread per worker)\n")
    print("| workers | chunk | seconds | points/s | driver max RSS MB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["ZOO_HOME"] = str(tmp / "home")
        rng = np.random.default_rng(0)
        x = rng.random((20_000, D))
        y = 1.0 + x @ np.linspace(0.1, 0.8, D)
        reg = plugin_manager.get("regressors", "skdnn")(width=50, depth=7, epochs=1)
        reg.model_ = reg._new_module(D)
        reg.n_features_ = D
        label = "qqbar-zz-4l/8d/f11/sum"
        publish(Model(label, reg, Chain([])), registry=tmp / "reg", reference_x=x)
        del y
        src = tmp / "points.zarr"
        g = zarr.open_group(str(src), mode="w")
        arr = g.create_array("x", shape=(n, D), chunks=(262_144, D), dtype="float64")
        for s in range(0, n, 1_048_576):
            e = min(n, s + 1_048_576)
            arr[s:e] = np.random.default_rng([1, s]).random((e - s, D))
        for workers in (1, 2):
            out = tmp / f"out{workers}.zarr"
            t0 = time.perf_counter()
            dask_predict(label, src, out, scheduler="local", registry=str(tmp / "reg"),
                         chunk=262_144, n_workers=workers)
            dt = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"| {workers} | 262144 | {dt:.1f} | {n / dt / 1e6:.3f} M | {rss:.0f} |")


def _pwcheb_fitted(cells: list[int], degree: list[int], per_cell: int, seed: int = 0):
    """A ``pwcheb`` model fitted on a smooth synthetic function of the unit box (uniform
    cells; ``per_cell`` uniform random points per cell on average)."""
    from zoo.plugins.regressors.piecewise import PiecewiseChebyshevRegressor

    d = len(cells)
    x = np.random.default_rng(seed).random((per_cell * int(np.prod(cells)), d))
    y = 4.0 + np.exp(0.5 * x.sum(axis=1)) + np.cos(3.0 * x[:, 0]) * x[:, 1]
    return PiecewiseChebyshevRegressor(cells=cells, degree=degree, grading=1.0).fit(x, y)


def bench_pwcheb(max_batch: int = 1_000_000) -> None:
    """Piecewise Chebyshev prediction: the compiled kernel against the numpy path (the
    former ``predict``: check_x, then design matrices), points/s by batch size, and
    single-point latency."""
    from zoo.plugins.regressors.common import check_x

    threads = os.cpu_count() or 1
    sizes = [s for s in (1, 100, 10_000, 1_000_000) if s <= max_batch]
    lines = []
    print("\n### pwcheb prediction: points/s by batch size, compiled kernel versus numpy\n")
    print("| model (P) | path | " + " | ".join(f"{s:g}" for s in sizes) + " |")
    print("|---|---|" + "---|" * len(sizes))
    for cells, degree, per_cell in (([16, 48], [6, 6], 120), ([12, 16, 1, 1], [5, 5, 4, 4], 1200)):
        t0 = time.perf_counter()
        reg = _pwcheb_fitted(cells, degree, per_cell)
        fit_s = time.perf_counter() - t0
        kernel = reg._kernel()
        x = np.random.default_rng(1).random((max(sizes), len(cells)))
        ref = reg._predict_numpy(x[:20_000])
        err = np.max(np.abs(kernel.predict(x[:20_000]) - ref)) / np.max(np.abs(ref))
        assert err < 1e-13, err
        name = ("x".join(map(str, cells)) + " deg " + ",".join(map(str, degree))
                + f" ({kernel.coef.shape[1]})")
        def before(x, reg=reg):
            return reg._predict_numpy(check_x(x, reg.n_features_))

        paths = {
            "numpy (before)": before,
            "kernel, 1 thread": lambda x, k=kernel: k.predict(x, n_threads=1),
            f"kernel, {threads} threads": lambda x, k=kernel: k.predict(x, n_threads=threads),
            "predict() (after)": reg.predict,
        }
        for path, fn in paths.items():
            row = []
            for s in sizes:
                if path.startswith("numpy") and s > 100_000:
                    row.append("-")
                    continue
                rate = _timeit(lambda fn=fn, xs=x[:s]: fn(xs), s, min_time=0.3)
                row.append(f"{rate / 1e6:.4f} M" if rate < 1e5 else f"{rate / 1e6:.3f} M")
            print(f"| {name} | {path} | " + " | ".join(row) + " |")
        p1, x1 = x[0].copy(), x[:1].copy()
        lines.append(
            f"| {name} | {fit_s:.0f} s | {err:.1e} | "
            f"{_latency_us(lambda x1=x1, before=before: before(x1), 300):.1f} | "
            f"{_latency_us(lambda x1=x1, reg=reg: reg.predict(x1)):.2f} | "
            f"{_latency_us(lambda p1=p1, k=kernel: k.one(p1), 20_000):.2f} |")
    print("\n### pwcheb: one point (us per call)\n")
    print("| model (P) | fit | max rel. diff to numpy | numpy predict(x[None]) (before) "
          "| predict(x[None]) (after) | kernel .one(x) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))


def bench_pretrained() -> None:
    """The shipped f11 and f01 amplitudes as a user calls them (``zoo.load(label).predict``: the
    transform chain included, e.g. the exact f00 a normalised model multiplies by), points/s
    by batch size and one point per call."""
    import zoo

    labels = ["qqbar-zz-4l/2d/f11/L-+", "qqbar-zz-4l/4d/f11/L-+", "qqbar-zz-4l/4d/f11/L--",
              "qqbar-zz-4l/8d/f11/LLL", "qqbar-zz-4l/2d/f01/L-0", "qqbar-zz-4l/4d/f01/L--",
              "qqbar-zz-4l/8d/f01/LLL"]
    sizes = (100, 10_000, 100_000)
    print("\n### Shipped amplitudes: zoo.load(label).predict, points/s and us per point\n")
    print("| label | regressor (chain) | " + " | ".join(f"{s:g}" for s in sizes)
          + " | one point (us) |")
    print("|---|---|" + "---|" * (len(sizes) + 1))
    for label in labels:
        amp = zoo.load(label)
        dim = amp.model.dimension
        x = np.random.default_rng(2).uniform(0.01, 0.99, size=(max(sizes), dim))
        amp.predict(x[:10])  # compile / warm up
        rates = [_timeit(lambda xs=x[:n], a=amp: a.predict(xs), n, min_time=0.3)
                 for n in sizes]
        one = _latency_us(lambda x1=x[:1], a=amp: a.predict(x1), 300)
        chain = ", ".join(st.name for st in amp.model.chain.steps) or "none"
        print(f"| {label}@{amp.card.get('version', '?')} | {amp.model.regressor.name} ({chain}) | "
              + " | ".join(f"{r / 1e6:.3f} M" for r in rates) + f" | {one:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-batch", type=int, default=1_000_000)
    ap.add_argument("--dask-n", type=int, default=2_000_000)
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--only", default="nets,latency,widths,trees,dask,pwcheb,pretrained")
    args = ap.parse_args()
    print(f"cpus: {os.cpu_count()}, load average at start: {os.getloadavg()}")
    only = set(args.only.split(","))
    if "latency" in only:
        bench_latency()
    if "widths" in only:
        bench_latency_widths()
    if "nets" in only:
        bench_networks(args.max_batch)
    if "trees" in only:
        bench_trees()
    if "pwcheb" in only:
        bench_pwcheb(args.max_batch)
    if "pretrained" in only:
        bench_pretrained()
    if "dask" in only and not args.skip_dask:
        bench_dask(args.dask_n)
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
