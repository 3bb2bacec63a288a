"""ONNX Runtime speed of every shipped default beside ``zoo.load(label).predict``.

For each label ``zoo list`` shows by default: export it to ONNX (float64, through
``zoo.runtime.onnx_export.export_amplitude``), then on the same uniform random points time

* ONNX Runtime (CPU, ``--threads`` intra-op threads, one session) at the batches ``--batches``
  (one ``run`` call per batch; the best of at least ``--repeat`` calls and 0.3 s), points/s;
* ``zoo.load(label).predict`` (what ``zoo predict`` calls per chunk) at the batches up to
  ``--zoo-max`` (larger batches take minutes for the f00-normalised 2D models), points/s;
* single-point latency: the median of ``--calls`` calls with one point, both paths;
* the nodes a one-point call runs (the top level of the graph).

Graphs with an ``f00`` / ``f00_sum`` input get it precomputed (an event generator has it);
``zoo.load(label).predict`` computes it itself (exactly, from the process), so its time
includes f00. Print a table (``--json F`` writes it too).

    python scripts/bench_onnx_defaults.py [--batches 1 1000 100000 1000000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _best(fn, repeat: int, min_time: float = 0.3) -> float:
    """The best time of one call of ``fn``: at least ``repeat`` calls and ``min_time`` s."""
    best, spent, k = float("inf"), 0.0, 0
    while k < repeat or spent < min_time:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, spent, k = min(best, dt), spent + dt, k + 1
    return best


def _median_call(fn, calls: int) -> float:
    fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batches", type=int, nargs="*", default=[1, 1000, 100000, 1000000])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--zoo-max", type=int, default=100000)
    ap.add_argument("--big-max-dim", type=int, default=4,
                    help="batches above 1e5 only for dimensions up to this (time: an 8D call "
                         "of 1e6 points takes over a minute; memory is bounded by the graph's "
                         "passes of rows, zoo.rows_per_pass)")
    ap.add_argument("--labels", nargs="*")
    ap.add_argument("--json")
    args = ap.parse_args(argv)

    from zoo.api import list_models

    labels = args.labels or sorted({e["label"].split("@")[0] for e in list_models()})
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-onnx-bench-") as tmp:
        for label in labels:
            rows.append(bench_label(label, args, Path(tmp) / "m.onnx"))
            print(_fmt(rows[-1], args.batches), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))
    return 0


def bench_label(label: str, args: argparse.Namespace, path: Path) -> dict:
    """The row of one label (module docstring)."""
    import onnxruntime as ort

    import zoo
    from zoo.runtime.onnx_export import export_amplitude

    amp = zoo.load(label)
    path = export_amplitude(amp, path)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = args.threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    big = [n for n in args.batches if n <= 100000 or amp.dimension <= args.big_max_dim]
    x_all = np.random.default_rng(0).random((max(big), amp.dimension))
    xm = amp.resolution.coord_map(x_all[:100000])
    ctx = amp.model.context
    extra = {}
    if "f00" in names:
        extra["f00"] = np.asarray(ctx.f00(xm))
    if "f00_sum" in names:
        extra["f00_sum"] = np.asarray(ctx.f00_sum(xm))
    import onnx

    proto = onnx.load(str(path))
    nodes = len(proto.graph.node)  # the loop over further chunks is in a branch
    row = {"label": label, "regressor": amp.card["regressor"]["name"], "inputs": names,
           "onnx": {}, "zoo": {}, "nodes": nodes}
    for n in args.batches:
        if n > 100000 and amp.dimension > args.big_max_dim:
            row["onnx"][n] = None  # not run (memory)
            continue
        if extra and n > 100000:
            row["onnx"][n] = None  # f00 precomputed for 1e5 points only
            continue
        feed = {"x": x_all[:n], **{k: v[:n] for k, v in extra.items()}}
        try:
            row["onnx"][n] = n / _best(lambda feed=feed: sess.run(["y"], feed), args.repeat)
        except Exception as exc:  # noqa: BLE001  (memory: reported)
            row["onnx"][n] = f"failed: {type(exc).__name__}"
        if n <= args.zoo_max:
            row["zoo"][n] = n / _best(lambda n=n: amp.predict(x_all[:n]), args.repeat)
    one = {"x": x_all[:1], **{k: v[:1] for k, v in extra.items()}}
    row["onnx_1pt_us"] = 1e6 * _median_call(lambda: sess.run(["y"], one), args.calls)
    row["zoo_1pt_us"] = 1e6 * _median_call(lambda: amp.predict(x_all[:1]),
                                           max(20, args.calls // 10))
    return row


def _fmt(row: dict, batches: list[int]) -> str:
    def rate(v):
        if v is None:
            return "-"
        return v if isinstance(v, str) else f"{v:,.0f}"

    cells = " | ".join(f"{rate(row['onnx'].get(n))} / {rate(row['zoo'].get(n))}" for n in batches)
    return (f"| {row['label']} | {row['regressor']} | {row.get('nodes', '-')} | {cells} | "
            f"{row['onnx_1pt_us']:.0f} / {row['zoo_1pt_us']:.0f} |")


if __name__ == "__main__":
    sys.exit(main())
