"""What a call of ONNX Runtime costs, and what the exported graphs' passes of rows cost.

* ``--nodes``: one-row calls of chains of 1, 10, 100 and 1,000 float64 ``Mul`` nodes (the
  per-call and per-node cost, whatever the graph computes), with ``run`` and with IO binding;
* ``--memory LABEL``: ONNX Runtime points/s and the process's peak resident memory after
  calls of 10^2 .. ``--max-n`` points of one exported amplitude (ascending N: the peak after
  each N is the largest so far);
* ``--passes LABEL [LABEL ...]``: one point through the export with its passes of rows
  (``Regressor.onnx_max_rows``) and without them (the regressor's limit switched off),
  timed interleaved;
* ``--profile LABEL``: where one call of ``--profile-n`` points of the exported amplitude
  spends its time, by operator type and by node (ONNX Runtime's own profiler, its file
  written to a temporary folder and removed; the share of the summed kernel times, the
  nodes inside a pass loop's subgraph counted themselves, not the ``If``/``Loop`` holding them).

One intra-op thread; the best of ``--rounds`` medians of ``--calls`` calls.

    python scripts/bench_onnx_costs.py --nodes
    python scripts/bench_onnx_costs.py --memory qqbar-zz-4l/8d/f11/RRL --max-n 100000
    python scripts/bench_onnx_costs.py --passes qqbar-zz-4l/2d/f11/L-- qqbar-zz-4l/8d/f01/LLL
    python scripts/bench_onnx_costs.py --profile qqbar-zz-4l/8d/f11/LLL --profile-n 256
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np


def _session(model, profile_prefix: str | None = None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    if profile_prefix is not None:
        opts.enable_profiling = True
        opts.profile_file_prefix = profile_prefix
    src = model if isinstance(model, (str, bytes)) else model.SerializeToString()
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


def _one_point_us(call, rounds: int, calls: int) -> float:
    call()
    best = float("inf")
    for _ in range(rounds):
        times = []
        for _ in range(calls):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
        best = min(best, statistics.median(times) * 1e6)
    return best


def nodes(args) -> None:
    from onnx import TensorProto, helper, numpy_helper

    print("| Mul nodes | run µs | IO binding µs |\n|---|---|---|")
    x = np.random.default_rng(0).random((1, 8))
    for n in (1, 10, 100, 1000):
        chain, prev = [], "x"
        for i in range(n):
            chain.append(helper.make_node("Mul", [prev, "c"], [f"t{i}"]))
            prev = f"t{i}"
        chain.append(helper.make_node("Identity", [prev], ["y"]))
        graph = helper.make_graph(
            chain, "chain", [helper.make_tensor_value_info("x", TensorProto.DOUBLE, ["N", 8])],
            [helper.make_tensor_value_info("y", TensorProto.DOUBLE, ["N", 8])],
            [numpy_helper.from_array(np.array([1.0000001]), "c")])
        sess = _session(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
        plain = _one_point_us(lambda s=sess: s.run(None, {"x": x}), args.rounds, args.calls)
        io = sess.io_binding()
        io.bind_cpu_input("x", x)
        io.bind_output("y")
        bound = _one_point_us(lambda s=sess, io=io: s.run_with_iobinding(io), args.rounds,
                              args.calls)
        print(f"| {n} | {plain:.1f} | {bound:.1f} |")


def memory(args) -> None:
    import zoo
    from zoo.runtime.onnx_export import export_amplitude

    amp = zoo.load(args.memory)
    path = export_amplitude(amp, tempfile.mkdtemp(prefix="zoo-onnx-mem-"))
    sess = _session(str(path))
    print(f"{args.memory}: rows per pass {amp.model.regressor.onnx_max_rows()}")
    print("| points per call | points/s | peak RSS GB |\n|---|---|---|")
    n = 100
    while n <= args.max_n:
        x = np.random.default_rng(1).random((n, amp.dimension))
        sess.run(None, {"x": x})
        best = min(_timed(sess, x) for _ in range(3))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(f"| {n:,} | {n / best:,.0f} | {rss:.2f} |")
        n *= 10


def passes(args) -> None:
    import zoo
    from zoo.runtime.onnx_export import build_onnx

    print("| label | one point µs, in passes | without | cost of the passes |\n|---|---|---|---|")
    for label in args.passes:
        amp = zoo.load(label)
        cls = type(amp.model.regressor)
        with_passes = build_onnx(amp.model, coord_map=amp.resolution.coord_map, label=label)
        saved = cls.onnx_max_rows
        cls.onnx_max_rows = lambda self: None
        try:
            without = build_onnx(amp.model, coord_map=amp.resolution.coord_map, label=label)
        finally:
            cls.onnx_max_rows = saved
        x = np.random.default_rng(1).uniform(0.1, 0.9, (1, amp.dimension))
        sessions = [_session(with_passes), _session(without)]
        best = [float("inf"), float("inf")]
        for _ in range(args.rounds):  # interleaved
            for i, s in enumerate(sessions):
                best[i] = min(best[i], _one_point_us(lambda s=s, x=x: s.run(None, {"x": x}), 1,
                                                     args.calls))
        print(f"| {label} | {best[0]:.1f} | {best[1]:.1f} | {best[0] - best[1]:+.1f} |")


#: operators whose profiled time is that of the nodes of their subgraphs, counted there
_CONTROL = {"If", "Loop", "Scan"}


def profile(args) -> None:
    import zoo
    from zoo.runtime.onnx_export import export_amplitude

    amp = zoo.load(args.profile)
    folder = tempfile.mkdtemp(prefix="zoo-onnx-prof-")
    sess = _session(str(export_amplitude(amp, folder)), os.path.join(folder, "ort"))
    x = np.random.default_rng(1).random((args.profile_n, amp.dimension))
    sess.run(None, {"x": x})  # warm-up, profiled too
    best = min(_timed(sess, x) for _ in range(3))
    path = sess.end_profiling()
    with open(path) as fh:
        events = json.load(fh)
    os.remove(path)
    by_op, count, by_node = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"].get("op_name", "?")
            if op in _CONTROL:
                continue
            by_op[op] += e["dur"]
            count[op] += 1
            by_node[e["name"].removesuffix("_kernel_time")] += e["dur"]
    total = sum(by_op.values())
    print(f"{args.profile}: {args.profile_n} points per call, {best / args.profile_n * 1e6:.1f} "
          "µs per point (best of 3, profiler on)")
    print("| operator | share | nodes run |\n|---|---|---|")
    for op, d in by_op.most_common(8):
        print(f"| {op} | {100 * d / total:.1f}% | {count[op]} |")
    print("| node | share |\n|---|---|")
    for name, d in by_node.most_common(6):
        print(f"| {name} | {100 * d / total:.1f}% |")


def _timed(sess, x) -> float:
    t0 = time.perf_counter()
    sess.run(None, {"x": x})
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", action="store_true")
    ap.add_argument("--memory")
    ap.add_argument("--max-n", type=int, default=100000)
    ap.add_argument("--passes", nargs="*")
    ap.add_argument("--profile")
    ap.add_argument("--profile-n", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args(argv)
    if args.nodes:
        nodes(args)
    if args.memory:
        memory(args)
    if args.passes:
        passes(args)
    if args.profile:
        profile(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
