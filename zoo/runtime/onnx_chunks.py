"""A graph rewritten to run on passes of at most so many rows (:func:`in_chunks`): the
memory of one ONNX Runtime call bounded at any batch size, one point as fast as before
(:meth:`zoo.regressor.Regressor.onnx_max_rows`; the core export applies it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.runtime.onnx_graph import Graph, live_nodes, names_read, onnx_type

__all__ = ["in_chunks"]


def in_chunks(g: Graph, x: str, outputs: Sequence[tuple[str, str]], rows: int) -> None:
    """Rewrite ``g`` so that its nodes, which compute the row-wise ``outputs`` ((name, dtype)
    pairs, each (N,)) from the points ``x`` (N, D), run on at most ``rows`` rows at a time:
    peak memory bounded whatever N, one point as fast as before (no measurable cost:
    ``scripts/bench_onnx_costs.py --passes``).

    The nodes run as they are on the first ``rows`` rows (a ``Slice`` of ``x``); the rest, if
    any (an ``If`` on ``N > rows``), runs in a ``Loop`` over chunks of ``rows`` rows padded
    with points ``(1/2, ..., 1/2)`` whose outputs are cut off (every output row depends on
    its input row alone); the two parts are concatenated. The loop body holds a copy of the
    nodes and of the small constants (ONNX Runtime hands a subgraph every outer value it
    reads on every call); the large tables are read from the outer scope. The outputs keep
    their names.
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes, _ = live_nodes(list(g.nodes), [], [name for name, _ in outputs])
    i64 = np.int64
    dtype = _dtype_of_input(g, x)

    def info(name: str, dt: str, shape: list) -> Any:
        return helper.make_tensor_value_info(name, onnx_type(dt), shape)

    def const(name: str, value: np.ndarray) -> str:
        g.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    const("chunk_rows", np.array(rows, i64))  # a scalar, and as a (1,) vector
    const("chunk_rows1", np.array([rows], i64))
    const("chunk_0", np.array([0], i64))  # index, start and axis 0
    const("chunk_1", np.array([1], i64))
    const("chunk_flat", np.array([-1], i64))
    const("chunk_half", np.full((1, 1), 0.5, dtype=dtype))
    # the first rows at the top level, as they were
    head = {x: "chunk_head_x", **{n: f"{n}__head" for n, _ in outputs}}
    g.nodes = [helper.make_node("Slice", [x, "chunk_0", "chunk_rows1", "chunk_0"],
                                ["chunk_head_x"], name="chunk_head")]
    g.nodes += [_renamed(n, head) for n in nodes]
    # the loop body: rows i * rows .. (i + 1) * rows of the padded rest, its own small consts
    small = {t.name: t for t in g.inits if int(np.prod(t.dims)) <= _LOCAL_CONST_SIZE
             and not t.name.startswith("chunk_")}
    read = set().union(*(names_read(n) for n in nodes)) if nodes else set()
    local = sorted(n for n in read if n in small)
    body_names = {x: "chunk_x", **{n: f"chunk__{n}" for n in local}}
    for n in nodes:
        for o in n.output:
            body_names[o] = f"chunk__{o}"
    body_nodes = [
        helper.make_node("Mul", ["chunk_i", "chunk_rows"], ["chunk_start"]),
        helper.make_node("Add", ["chunk_start", "chunk_rows"], ["chunk_stop"]),
        helper.make_node("Unsqueeze", ["chunk_start", "chunk_0"], ["chunk_start1"]),
        helper.make_node("Unsqueeze", ["chunk_stop", "chunk_0"], ["chunk_stop1"]),
        helper.make_node("Slice", ["chunk_xpad", "chunk_start1", "chunk_stop1", "chunk_0"],
                         ["chunk_x"]),
        helper.make_node("Identity", ["chunk_cond"], ["chunk_cond_out"]),
    ] + [_renamed(n, body_names) for n in nodes]
    body_consts = []
    for n in local:
        t = type(small[n])()
        t.CopyFrom(small[n])
        t.name = body_names[n]
        body_consts.append(t)
    body = helper.make_graph(
        body_nodes, "chunk",
        [helper.make_tensor_value_info("chunk_i", TensorProto.INT64, []),
         helper.make_tensor_value_info("chunk_cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("chunk_cond_out", TensorProto.BOOL, [])]
        + [info(body_names[n], t, [rows]) for n, t in outputs],
        initializer=body_consts)
    # the rest: cut, pad, loop, flatten, cut
    rest_nodes = [
        helper.make_node("Slice", [x, "chunk_rows1", "chunk_n", "chunk_0"], ["chunk_rest"]),
        helper.make_node("Sub", ["chunk_n", "chunk_rows1"], ["chunk_m"]),
        helper.make_node("Gather", ["chunk_shape", "chunk_1"], ["chunk_d"], axis=0),
        helper.make_node("Sub", ["chunk_rows", "chunk_m"], ["chunk_short"]),
        helper.make_node("Mod", ["chunk_short", "chunk_rows"], ["chunk_pad"]),
        helper.make_node("Concat", ["chunk_pad", "chunk_d"], ["chunk_pad_shape"], axis=0),
        helper.make_node("Expand", ["chunk_half", "chunk_pad_shape"], ["chunk_fill"]),
        helper.make_node("Concat", ["chunk_rest", "chunk_fill"], ["chunk_xpad"], axis=0),
        helper.make_node("Add", ["chunk_m", "chunk_pad"], ["chunk_total"]),
        helper.make_node("Div", ["chunk_total", "chunk_rows1"], ["chunk_trips1"]),
        helper.make_node("Squeeze", ["chunk_trips1"], ["chunk_trips"]),
        helper.make_node("Loop", ["chunk_trips", ""], [f"{n}__stacked" for n, _ in outputs],
                         body=body),
    ]
    for n, _ in outputs:
        rest_nodes += [
            helper.make_node("Reshape", [f"{n}__stacked", "chunk_flat"], [f"{n}__padded"]),
            helper.make_node("Slice", [f"{n}__padded", "chunk_0", "chunk_m", "chunk_0"],
                             [f"{n}__rest"]),
        ]
    rest_g = helper.make_graph(rest_nodes, "rows_after_the_first_pass", [],
                               [info(f"{n}__rest", t, ["M"]) for n, t in outputs])
    none_g = helper.make_graph(
        [helper.make_node("Identity", [const(f"chunk_empty_{i}", np.zeros(0, dtype=t))],
                          [f"{n}__none"]) for i, (n, t) in enumerate(outputs)],
        "no_more_rows", [], [info(f"{n}__none", t, [0]) for n, t in outputs])
    g.nodes.append(helper.make_node("Shape", [x], ["chunk_shape"], name="chunk_shape"))
    g.nodes.append(helper.make_node("Gather", ["chunk_shape", "chunk_0"], ["chunk_n"],
                                    name="chunk_n", axis=0))
    more = g.op("Greater", ["chunk_n", "chunk_rows1"], "chunk_more")
    g.nodes.append(helper.make_node("If", [more], [f"{n}__tail" for n, _ in outputs],
                                    name="chunks", then_branch=rest_g, else_branch=none_g))
    for n, _ in outputs:
        g.nodes.append(helper.make_node("Concat", [f"{n}__head", f"{n}__tail"], [n],
                                        name=f"chunk_join_{n}", axis=0))


#: initializers of at most this many elements are copied into the subgraphs of :func:`in_chunks`
_LOCAL_CONST_SIZE = 4096


def _dtype_of_input(g: Graph, x: str) -> str:
    return next((t for n, t, _, _ in g.inputs if n == x), "float64")


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """A copy of ``node`` reading and writing the tensors of ``names`` under their new names
    (its subgraphs' reads from the outer scope too)."""
    import copy

    out = copy.deepcopy(node)
    for i, n in enumerate(out.input):
        out.input[i] = names.get(n, n)
    for i, n in enumerate(out.output):
        out.output[i] = names.get(n, n)
    for attr in out.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            for j, inner in enumerate(sub.node):
                sub.node[j].CopyFrom(_renamed(inner, names))
    if out.name:
        out.name = names.get(out.name, out.name)
    return out
