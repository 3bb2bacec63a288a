"""The ONNX form of the piecewise Chebyshev regressor (``pwcheb``), in float64."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.runtime.onnx_graph import Graph

__all__ = ["pwcheb_nodes", "pwcheb_nodes_shared", "pwcheb_sigma_nodes"]


def pwcheb_nodes(g: Graph, reg: Any, x64: str) -> str:
    """The piecewise Chebyshev regressor in float64: (N, 1) (see :func:`pwcheb_nodes_shared`)."""
    return pwcheb_nodes_shared(g, [reg], x64)[0]


def same_basis(a: Any, b: Any) -> bool:
    """Whether two fitted regressors share cells, degrees and basis (only coef_ differs)."""
    return (len(a.edges_) == len(b.edges_)
            and all(np.array_equal(ea, eb) for ea, eb in zip(a.edges_, b.edges_, strict=True))
            and np.array_equal(a.degrees_, b.degrees_) and np.array_equal(a.index_, b.index_))


def pwcheb_nodes_shared(g: Graph, regs: list[Any], x64: str) -> list[str]:
    """Piecewise Chebyshev regressors with one basis (:func:`same_basis`, e.g. the real and
    imaginary parts of an amplitude) at the same points, in float64: an (N, 1) output each;
    the cell indices and the basis are built once.

    Per axis: the cell index is the number of inner edges <= x (the regressor's
    ``searchsorted`` clipped to the grid), the local coordinate ``u`` in [-1, 1], and
    T_0..T_deg(u) by the recurrence; then the basis (P, N) (rows gathered from the (deg + 1,
    N) tables: ONNX Runtime's Gather copies whole rows fast along axis 0, ~10x faster than
    columns) times the coefficients of each point's cell (gathered (N, P), transposed),
    summed over P. It materialises (P, N) arrays: feed batches of ~10^3-10^4 rows.
    """

    reg = regs[0]
    if not all(same_basis(reg, r) for r in regs[1:]):
        return [out for r in regs for out in pwcheb_nodes_shared(g, [r], x64)]
    flat = None
    design = None
    for j, edges in enumerate(reg.edges_):
        xj, k = _axis_cell(g, x64, j, edges)
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
        rows = [g.op("Unsqueeze", [t, g.const(np.array([0], dtype=np.int64), "ax0")])
                for t in ts]
        table = g.op("Concat", rows, "tcheb", axis=0) if len(rows) > 1 else rows[0]
        basis = g.op("Gather", [table, g.const(reg.index_[:, j].astype(np.int64), "idx")],
                     "bj", axis=0)
        design = basis if design is None else g.op("Mul", [design, basis], "design")
        if flat is None:
            flat = k
        else:
            n_cells = g.const(np.array(len(edges) - 1, dtype=np.int64), "ncells")
            flat = g.op("Add", [g.op("Mul", [flat, n_cells]), k], "flat")
    outs = []
    for r in regs:
        coef = g.op("Gather", [g.const(np.asarray(r.coef_, dtype=np.float64), "coef"), flat],
                    "cellcoef", axis=0)
        coef_t = g.op("Transpose", [coef], "cellcoef_t", perm=[1, 0])
        y = g.op("ReduceSum", [g.op("Mul", [design, coef_t]),
                               g.const(np.array([0], dtype=np.int64), "ax0")], "pw_sum",
                 keepdims=0)
        outs.append(g.op("Unsqueeze", [y, g.const(np.array([1], dtype=np.int64), "ax1")],
                         "pw_y"))
    return outs


def _axis_cell(g: Graph, x64: str, j: int, edges: np.ndarray) -> tuple[str, str]:
    """Column ``j`` of the points and each point's cell index on the axis (the number of
    inner edges <= x: ``searchsorted`` clipped to the grid), (N,) float64 and int64."""
    from onnx import TensorProto

    xj = g.op("Gather", [x64, g.const(np.array(j, dtype=np.int64), "axis_j")], "xj", axis=1)
    inner = g.const(np.asarray(edges[1:-1], dtype=np.float64).reshape(1, -1), "inner")
    xcol = g.op("Unsqueeze", [xj, g.const(np.array([1], dtype=np.int64), "ax1")], "xcol")
    ge = g.op("Cast", [g.op("GreaterOrEqual", [xcol, inner])], "ge", to=TensorProto.INT64)
    k = g.op("ReduceSum", [ge, g.const(np.array([1], dtype=np.int64), "ax1")], "k", keepdims=0)
    return xj, k


def pwcheb_sigma_nodes(g: Graph, reg: Any, x64: str) -> str:
    """The per-cell scale of each point's cell of the scale grid (``cell_scale_`` on
    ``scale_edges()``, as ``predict_uncertainty``): (N,) float64; the cell index as in
    :func:`pwcheb_nodes`."""

    flat = None
    for j, edges in enumerate(reg.scale_edges()):
        _, k = _axis_cell(g, x64, j, edges)
        if flat is None:
            flat = k
        else:
            n_cells = g.const(np.array(len(edges) - 1, dtype=np.int64), "sncells")
            flat = g.op("Add", [g.op("Mul", [flat, n_cells]), k], "sflat")
    scale = g.const(np.asarray(reg.cell_scale_, dtype=np.float64), "cell_scale")
    return g.op("Gather", [scale, flat], "pw_sigma", axis=0)
