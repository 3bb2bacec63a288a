"""`zoo predict` with the default threads against one thread (and all cores), same points.

For each label, writes ``--n`` uniform points to an .npz file and runs the command line as a
user does, ``zoo predict LABEL --input points.npz --output out.zarr --chunk C``, in fresh
processes, after one warm-up run, ``--rounds`` rounds of every variant in an order rotated per
round, and reports the best wall time of each (all of them in brackets):

* ``default``: no ``ZOO_NUM_THREADS`` (the policy of :mod:`zoo.runtime.threads`);
* ``1 thread``: ``ZOO_NUM_THREADS=1``;
* ``all cores``: ``ZOO_NUM_THREADS=<logical CPUs>`` and ``OMP_WAIT_POLICY=ACTIVE`` (what the
  default was before: every pool on every core, spinning when idle).

Usage::

    python scripts/bench_threads.py [--n 1000000] [--chunk 262144] [--rounds 2] [LABEL ...]

A chunk of at least 10^5 rows lets the compiled kernels go parallel (smaller batches run on
one thread whatever the setting). Prints a markdown table and the load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LABELS = ["qqbar-zz-4l/2d/f11/L-0", "qqbar-zz-4l/4d/f11/L--", "qqbar-zz-4l/8d/f01/LLL"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("labels", nargs="*", default=LABELS)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=262_144)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    zoo_cmd = shutil.which("zoo", path=str(Path(sys.executable).parent)) or "zoo"
    base = {k: v for k, v in os.environ.items()
            if k not in ("ZOO_NUM_THREADS", "OMP_WAIT_POLICY", "KMP_BLOCKTIME")}
    variants = {
        "default": base,
        "1 thread": {**base, "ZOO_NUM_THREADS": "1"},
        "all cores": {**base, "ZOO_NUM_THREADS": str(os.cpu_count() or 1),
                      "OMP_WAIT_POLICY": "ACTIVE"},
    }
    print(f"load average before: {os.getloadavg()}; n = {args.n}, chunk = {args.chunk}, "
          f"{os.cpu_count()} logical CPUs", flush=True)
    print("| label | " + " | ".join(f"{v} (s)" for v in variants) + " | default / 1 thread |")
    print("|---|" + "---|" * (len(variants) + 1))
    with tempfile.TemporaryDirectory(prefix="zoo-bench-threads-") as tmp:
        for label in args.labels:
            d = int(label.split("/")[1].rstrip("d"))
            pts = Path(tmp) / f"points{d}.npz"
            if not pts.exists():
                x = np.random.default_rng(d).uniform(0.0, 1.0, size=(args.n, d))
                np.savez(pts, x=x)
            times: dict[str, list[float]] = {v: [] for v in variants}
            names = list(variants)
            for r in range(-1, args.rounds):  # round -1: a warm-up run (files, numba cache)
                order = names[r % len(names):] + names[:r % len(names)]  # rotated per round
                for name in order[:1] if r < 0 else order:
                    env = variants[name]
                    out = Path(tmp) / f"out-{r}-{name.replace(' ', '_')}.zarr"
                    t = time.perf_counter()
                    subprocess.run([zoo_cmd, "predict", label, "--input", str(pts), "--output",
                                    str(out), "--chunk", str(args.chunk)], env=env, check=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    if r >= 0:
                        times[name].append(time.perf_counter() - t)
                    shutil.rmtree(out)
            cells = " | ".join(f"{min(v):.1f} ({', '.join(f'{t:.1f}' for t in v)})"
                               for v in times.values())
            ratio = min(times["default"]) / min(times["1 thread"])
            print(f"| {label} | {cells} | {ratio:.2f} |", flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
