"""Dask prediction of N points (default 10^8) from a Zarr input to a Zarr output.

Writes uniform points into WORK/points.zarr (chunks of 2^20 rows), publishes an sk-DNN
(width 50, depth 7, 54.6k parameters, float32; initialised, trained for one epoch: the
timing does not depend on the weights) behind a standardise transform into a scratch
registry, then runs ``zoo predict LABEL --input points.zarr --output y.zarr --dask local
--workers W`` while sampling the resident memory of the whole process tree (client,
scheduler, workers) every 0.5 s. Prints wall time, points/s and the peak RSS.

    python scripts/bench_dask_big.py --n 100000000 --workers 2 --work /tmp/dask-big
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np


def write_points(path: Path, n: int, chunk: int) -> None:
    import zarr

    if (path / "zarr.json").exists():
        return
    g = zarr.open_group(str(path), mode="w")
    x = g.create_array("x", shape=(n, 8), chunks=(chunk, 8), dtype="float64")
    for i, lo in enumerate(range(0, n, chunk)):
        hi = min(n, lo + chunk)
        x[lo:hi] = np.random.default_rng([7, i]).random((hi - lo, 8))


def publish_model(home: Path) -> str:
    os.environ["ZOO_HOME"] = str(home)
    import zoo
    from zoo import plugin_manager
    from zoo.model import Model
    from zoo.transform import Chain

    reg = plugin_manager.get("regressors", "skdnn")(width=50, depth=7, epochs=1, seed=0)
    x = np.random.default_rng(0).random((4096, 8))
    reg.fit(x, np.sin(x).sum(axis=1))
    std = plugin_manager.get("transforms", "standardise")(target="y")
    model = Model("bench/8d/f00/one", reg, Chain([std]))
    from zoo.transform import Batch, Context

    std.fit_forward(Batch(x, np.sin(x).sum(axis=1)), Context())
    return str(zoo.publish(model, reference_x=x[:256]))


def tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=100_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=1 << 20)
    ap.add_argument("--work", default="/tmp/dask-big")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    write_points(work / "points.zarr", args.n, args.chunk)
    print(f"input: {args.n} points in {time.perf_counter() - t0:.1f} s", flush=True)
    label = publish_model(work / "home")
    out = work / f"y_{args.n}_{args.workers}.zarr"
    cmd = [sys.executable, "-m", "zoo.cli", "predict", label, "--input", str(work / "points.zarr"),
           "--output", str(out), "--chunk", str(args.chunk), "--dask", "local",
           "--workers", str(args.workers)]
    env = {**os.environ, "ZOO_HOME": str(work / "home")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, samples = 0, []

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            rss = tree_rss(proc.pid)
            samples.append(rss)
            peak = max(peak, rss)
            time.sleep(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = proc.communicate()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode:
        print(err.decode()[-2000:])
        return proc.returncode
    import zarr

    y = zarr.open_group(str(out), mode="r")["y"]
    assert y.shape == (args.n,)
    mid = samples[len(samples) // 4: 3 * len(samples) // 4] or samples
    print(f"{args.n} points, {args.workers} workers, chunk {args.chunk}: {wall:.1f} s wall "
          f"(start-up included), {args.n / wall / 1e6:.2f} M points/s; peak RSS of the process "
          f"tree {peak / 2**30:.2f} GiB; RSS over the middle half of the run "
          f"{min(mid) / 2**30:.2f}-{max(mid) / 2**30:.2f} GiB; input {args.n * 64 / 2**30:.1f} GiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
