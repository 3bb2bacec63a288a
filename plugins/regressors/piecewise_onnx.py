"""The ONNX form of the piecewise Chebyshev regressor (``pwcheb``), in float64."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.runtime.onnx_graph import Graph

__all__ = ["pwcheb_nodes"]


def pwcheb_nodes(g: Graph, reg: Any, x64: str) -> str:
    """The piecewise Chebyshev regressor in float64: (N, 1).

    Per axis: the cell index is the number of inner edges <= x (the regressor's
    ``searchsorted`` clipped to the grid), the local coordinate ``u`` in [-1, 1], and
    T_0..T_deg(u) by the recurrence; then the tensor basis (N, P) times the coefficients of
    each point's cell, summed. It materialises (N, P): feed batches of ~10^4 rows.
    """
    from onnx import TensorProto

    flat = None
    design = None
    for j, edges in enumerate(reg.edges_):
        xj = g.op("Gather", [x64, g.const(np.array(j, dtype=np.int64), "axis_j")], "xj", axis=1)
        inner = g.const(np.asarray(edges[1:-1], dtype=np.float64).reshape(1, -1), "inner")
        xcol = g.op("Unsqueeze", [xj, g.const(np.array([1], dtype=np.int64), "ax1")], "xcol")
        ge = g.op("Cast", [g.op("GreaterOrEqual", [xcol, inner])], "ge", to=TensorProto.INT64)
        k = g.op("ReduceSum", [ge, g.const(np.array([1], dtype=np.int64), "ax1")], "k",
                 keepdims=0)
        e = g.const(np.asarray(edges, dtype=np.float64), "edges")
        lo = g.op("Gather", [e, k], "lo", axis=0)
        hi = g.op("Gather", [e, g.op("Add", [k, g.const(np.array(1, dtype=np.int64), "one")])],
                  "hi", axis=0)
        u = g.op("Div", [g.op("Sub", [g.op("Mul", [xj, g.const(np.array(2.0), "two")]),
                                      g.op("Add", [lo, hi])]),
                         g.op("Sub", [hi, lo])], "u")
        deg = int(reg.degrees_[j])
        ones = g.op("Add", [g.op("Mul", [u, g.const(np.array(0.0), "zero")]),
                            g.const(np.array(1.0), "one_f")], "t0")
        ts = [ones, u][: deg + 1]
        for _ in range(2, deg + 1):
            ts.append(g.op("Sub", [g.op("Mul", [g.op("Mul", [u, g.const(np.array(2.0), "two")]),
                                                ts[-1]]), ts[-2]], "tk"))
        cols = [g.op("Unsqueeze", [t, g.const(np.array([1], dtype=np.int64), "ax1")])
                for t in ts]
        table = g.op("Concat", cols, "tcheb", axis=1) if len(cols) > 1 else cols[0]
        basis = g.op("Gather", [table, g.const(reg.index_[:, j].astype(np.int64), "idx")],
                     "bj", axis=1)
        design = basis if design is None else g.op("Mul", [design, basis], "design")
        if flat is None:
            flat = k
        else:
            n_cells = g.const(np.array(len(edges) - 1, dtype=np.int64), "ncells")
            flat = g.op("Add", [g.op("Mul", [flat, n_cells]), k], "flat")
    coef = g.op("Gather", [g.const(np.asarray(reg.coef_, dtype=np.float64), "coef"), flat],
                "cellcoef", axis=0)
    return g.op("ReduceSum", [g.op("Mul", [design, coef]),
                              g.const(np.array([1], dtype=np.int64), "ax1")], "pw_y", keepdims=1)
