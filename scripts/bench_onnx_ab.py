"""One-point ONNX Runtime latency (and batch speed) of graphs exported by two checkouts of the
project, side by side in one process.

Each tree exports the labels in a child process (an older checkout, e.g. ``git worktree add
/tmp/old <commit>``, is imported by pointing the editable install's module finder at it; the
current checkout by the plain install); the graphs are then timed interleaved: the best of
``--rounds`` medians of ``--calls`` one-point ``run`` calls (one intra-op thread), and with
``--batches`` the best of 5 calls per batch size. Prints markdown rows.

    python scripts/bench_onnx_ab.py LABEL [LABEL ...] --old /tmp/old [--batches 100 1000 10000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

EXPORT = r"""
import sys
root = sys.argv[1]
if root != "-":
    import __editable___amplitude_zoo_0_1_0_finder as finder
    finder.MAPPING.update({"zoo": root + "/zoo", "zoo.plugins": root + "/plugins",
                           "zoo.registry": root + "/registry"})
import zoo
from zoo.runtime.onnx_export import export_amplitude
assert root == "-" or zoo.__file__.startswith(root), zoo.__file__
for label, path in zip(sys.argv[2::2], sys.argv[3::2]):
    export_amplitude(zoo.load(label), path)
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("labels", nargs="+")
    ap.add_argument("--old", required=True, help="the older checkout (a directory)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--batches", type=int, nargs="*", default=[])
    args = ap.parse_args(argv)
    import onnx
    import onnxruntime as ort

    tmp = tempfile.mkdtemp(prefix="zoo-onnx-ab-")
    paths = {}
    for tree in (args.old, "-"):
        pairs = []
        for i, label in enumerate(args.labels):
            paths[(tree, label)] = f"{tmp}/{'old' if tree != '-' else 'new'}-{i}.onnx"
            pairs += [label, paths[(tree, label)]]
        subprocess.run([sys.executable, "-c", EXPORT, tree, *pairs], check=True, cwd=tmp)
    sess = {}
    for key, path in paths.items():
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        dim = int(key[1].split("/")[1][0])
        sess[key] = (ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"]),
                     dim, len(onnx.load(path).graph.node))
    one = {key: [] for key in sess}
    for _ in range(args.rounds):
        for key, (s, dim, _) in sess.items():
            x = np.random.default_rng(1).uniform(0.1, 0.9, (1, dim))
            times = []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                s.run(None, {"x": x})
                times.append(time.perf_counter() - t0)
            one[key].append(statistics.median(times) * 1e6)
    print("| label | nodes (before -> after) | one point µs (before -> after) | speed-up |")
    print("|---|---|---|---|")
    for label in args.labels:
        o, n = min(one[(args.old, label)]), min(one[("-", label)])
        print(f"| {label} | {sess[(args.old, label)][2]} -> {sess[('-', label)][2]} | "
              f"{o:.0f} -> {n:.0f} | {o / n:.1f}x |")
    for n_pts in args.batches:
        for label in args.labels:
            rates = []
            for tree in (args.old, "-"):
                s, dim, _ = sess[(tree, label)]
                x = np.random.default_rng(2).random((n_pts, dim))
                s.run(None, {"x": x})
                best = min(_timed(s, x) for _ in range(5))
                rates.append(n_pts / best)
            print(f"| {label} | {n_pts} | {rates[0]:,.0f} -> {rates[1]:,.0f} |")
    return 0


def _timed(s, x) -> float:
    t0 = time.perf_counter()
    s.run(None, {"x": x})
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
