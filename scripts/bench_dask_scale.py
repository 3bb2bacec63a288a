"""Points/s of `zoo predict` on 8 x 2^20 points: in one process, and over 1 and 2 Dask workers.

Needs the model and input of scripts/bench_dask_big.py (run it first with the same --work):

    python scripts/bench_dask_scale.py --work /tmp/dask-big
"""

from __future__ import annotations

import argparse
import os
import shutil
import time

import numpy as np

CHUNK = 1 << 20
N = 8 * CHUNK


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", default="/tmp/dask-big")
    args = ap.parse_args()
    os.environ["ZOO_HOME"] = os.path.join(args.work, "home")
    import zarr

    import zoo
    from zoo.runtime import distributed

    src = os.path.join(args.work, "points8m.zarr")
    if not os.path.exists(src):
        g = zarr.open_group(src, mode="w")
        a = g.create_array("x", shape=(N, 8), chunks=(CHUNK, 8), dtype="float64")
        for i in range(8):
            a[i * CHUNK:(i + 1) * CHUNK] = np.random.default_rng([7, i]).random((CHUNK, 8))
    label = "bench/8d/f00/one@1"
    out = os.path.join(args.work, "scale.zarr")
    for mode in ("one process", 1, 2):
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        if mode == "one process":
            distributed.predict_file(zoo.load(label), src, out, chunk=CHUNK)
        else:
            distributed.dask_predict(label, src, out, scheduler="local", n_workers=mode, chunk=CHUNK)
        dt = time.perf_counter() - t
        name = mode if isinstance(mode, str) else f"dask, {mode} worker(s)"
        print(f"{name}: {N} points in {dt:.1f} s, {N / dt / 1e6:.2f} M points/s", flush=True)


if __name__ == "__main__":
    main()
