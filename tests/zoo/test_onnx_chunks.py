"""The core's chunks of rows (``in_chunks``): a graph rewritten to run at most ``rows`` rows
per pass gives the same outputs as the graph itself at every N (0, below, at and above the
pass, ragged multiples), with a large table read from the outer scope and small constants
copied into the loop body; float64 and float32 inputs. Equal to 2 ulps: every row is computed
by the same nodes alone, but ONNX Runtime's vectorised Sin may round a value 1 ulp apart
depending on its place in the batch (measured here: 2.2e-16)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
from onnx import helper  # noqa: E402

from zoo.runtime.onnx_chunks import in_chunks  # noqa: E402
from zoo.runtime.onnx_export import session  # noqa: E402
from zoo.runtime.onnx_graph import Graph, OnnxMath, build_model  # noqa: E402

TABLE = np.linspace(-1.0, 2.0, 6000)  # above the size copied into subgraphs


def _model(rows: int | None, io_dtype: str):
    g = Graph()
    g.input("x", io_dtype, ["N", 3])
    x = "x" if io_dtype == "float64" else g.cast("x", "float64")
    xp = OnnxMath(g)
    xe = xp.wrap(x)
    a, b = xp.column(xe, 0), xp.column(xe, 2)
    idx = g.op("Cast", [g.op("Floor", [(a * 5999.0).name])], to=onnx.TensorProto.INT64)
    picked = xp.wrap(g.op("Gather", [g.const(TABLE, "table"), idx], axis=0))
    y = xp.sin(a * 3.0) * b + picked
    s = xp.sqrt(a * a + 1.0) * 0.5
    outs = []
    for name, e in (("y", y), ("s", s)):
        src = e.name if io_dtype == "float64" else g.cast(e.name, "float32")
        g.nodes.append(helper.make_node("Identity", [src], [name]))
        outs.append((name, io_dtype, ["N"]))
    if rows:
        in_chunks(g, "x", [(n, t) for n, t, _ in outs], rows)
    model = build_model(g, outs)
    onnx.checker.check_model(model, full_check=True)
    return session(model.SerializeToString(), n_threads=1)


@pytest.mark.parametrize("io_dtype", ["float64", "float32"])
def test_chunked_graph_equals_the_graph(io_dtype) -> None:
    plain, chunked = _model(None, io_dtype), _model(8, io_dtype)
    for n in (0, 1, 7, 8, 9, 16, 31):
        x = np.random.default_rng(n).random((n, 3)).astype(io_dtype)
        want = plain.run(None, {"x": x})
        got = chunked.run(None, {"x": x})
        for w, o in zip(want, got, strict=True):
            assert o.shape == (n,) and o.dtype == np.dtype(io_dtype)
            np.testing.assert_allclose(o, w, rtol=4 * np.finfo(io_dtype).eps, atol=0)


def test_one_pass_keeps_the_nodes_at_the_top_level() -> None:
    """One point runs the nodes where they were (plus the head slice, the If on N and the
    joins), not inside a subgraph (ONNX Runtime's subgraph calls cost ~5-10 µs more)."""
    g = Graph()
    g.input("x", "float64", ["N", 2])
    xp = OnnxMath(g)
    y = xp.sin(xp.column(xp.wrap("x"), 0))
    g.nodes.append(helper.make_node("Identity", [y.name], ["y"]))
    before = [n.op_type for n in g.nodes]
    in_chunks(g, "x", [("y", "float64")], 4)
    ops = [n.op_type for n in g.nodes]
    assert ops[0] == "Slice" and ops[1: 1 + len(before)] == before
    assert ops.count("If") == 1 and ops[-1] == "Concat"
