"""The ONNX form of the piecewise Chebyshev regressor (``pwcheb``), in float64.

The graph is written for few nodes: ONNX Runtime spends ~0.3 µs per node whatever its size,
so one point costs what the node count costs. Every axis is handled at once (points
``(..., D)``), at any number of leading axes (the factorised amplitude models evaluate the
parts of several symmetry-mapped copies of a point in one pass):

* cell index per axis: the number of inner edges ``<= x`` (the regressor's ``searchsorted``
  clipped to the grid; rows padded with ``+inf``), one comparison of ``(..., D, 1)`` against
  the padded ``(D, E)`` table, and the flat cell ``sum_d k_d stride_d`` (row-major, as
  :meth:`~.piecewise.PiecewiseChebyshevRegressor._locate`);
* the local coordinate ``u = (2 x - (lo + hi)) / (hi - lo)`` (the same operations);
* the Chebyshev values ``T_0..T_K(u)`` as ``u^j`` (by doubling, ``[P, P u^n]``: ``Pow``
  costs ~15 ns per value) times the constant matrix of the monomial coefficients of ``T_k``
  (one ``MatMul``): for ``K <= 14`` within ``1e-11`` absolute of the three-term recurrence on
  [-1, 1] (``T_12``: 1.3e-12), where the recurrence would cost three nodes per degree;
* the basis ``(..., P)``: the axes in pairs, each pair's outer product ``T_a(u1) T_b(u2)``
  ``(..., (K + 1)^2)`` by one broadcast product, then one ``GatherElements`` of each basis
  function's entry in every pair (none for a full grid in row-major order, e.g. the 2D
  parts) and the product over the pairs (``Gather`` along the last axis costs ONNX Runtime
  ~8 ns per element, ``GatherElements`` with an expanded index ~0.5-5 ns, a product ~0.5);
* the value: the coefficients of each point's cell gathered ``(..., P)`` (whole rows),
  times the basis, summed;
* the per-cell scales of a refined grid (:func:`finer_cell_nodes`): the fine edges inside
  the point's fit cell, not the whole fine grid, compared.

Memory: a call holds a few ``(..., 2 P)`` float64 and int64 arrays (4D parts: P ~ 900-1,200,
~40 KB per point and mapped copy); the core export bounds it by passes of rows
(:meth:`zoo.regressor.Regressor.onnx_max_rows`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.polynomial import chebyshev as npcheb

from zoo.runtime.onnx_graph import Graph

__all__ = ["Cells", "basis_bytes", "cell_nodes", "chebyshev_monomials", "design_nodes",
           "finer_cell_nodes", "max_rows", "pwcheb_nodes", "pwcheb_sigma_nodes", "same_basis",
           "same_grid"]


def same_basis(a: Any, b: Any) -> bool:
    """Whether two fitted regressors share cells, degrees and basis (only coef_ differs)."""
    return (len(a.edges_) == len(b.edges_)
            and all(np.array_equal(ea, eb) for ea, eb in zip(a.edges_, b.edges_, strict=True))
            and np.array_equal(a.degrees_, b.degrees_) and np.array_equal(a.index_, b.index_))


def same_grid(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    """Whether two lists of per-axis edges are the same grid."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def basis_bytes(reg: Any) -> int:
    """The bytes :func:`design_nodes` holds per point (float64 and int64): the Chebyshev
    tables, the pair products, the gather index, the gathered entries and the basis."""
    p, d = int(np.asarray(reg.index_).shape[0]), len(reg.edges_)
    k1 = int(np.max(reg.degrees_)) + 1
    groups = (d + 1) // 2
    return 8 * (d * 2 * k1 + groups * k1 * k1 + 2 * groups * p + p)


def max_rows(bytes_per_row: int, budget: float = 128e6) -> int:
    """Rows per pass that keep ``bytes_per_row`` to ``budget`` bytes: a multiple of 64, at
    least 64 (:meth:`zoo.regressor.Regressor.onnx_max_rows`)."""
    return max(64, int(budget / max(1, bytes_per_row)) // 64 * 64)


def chebyshev_monomials(degree: int) -> np.ndarray:
    """``A`` (K + 1, K + 1) float64 with ``T_k(u) = sum_j A[k, j] u^j`` (exact integers)."""
    a = np.zeros((degree + 1, degree + 1))
    for k in range(degree + 1):
        p = npcheb.cheb2poly(np.eye(degree + 1)[k])
        a[k, : len(p)] = p
    return a


def _const(g: Graph, value: Any, hint: str, dtype: Any = np.float64) -> str:
    return g.const(np.asarray(value, dtype=dtype), hint)


class Cells(NamedTuple):
    """Tensors of :func:`cell_nodes`: per-axis cell index ``k`` (..., D) int64, ``k`` plus
    the axis' row offset in the padded tables (``kk``), the flat cell index (...) int64, and
    the local coordinates ``u`` (..., D) float64 (None unless asked for)."""

    k: str
    kk: str
    flat: str
    u: str | None
    row: int


def _strides(cells: list[int]) -> np.ndarray:
    return np.array([int(np.prod(cells[j + 1:])) for j in range(len(cells))], dtype=np.int64)


def cell_nodes(g: Graph, edges: list[np.ndarray], x1: str, *, with_local: bool = False
               ) -> Cells:
    """The cells of points ``x1`` (..., D, 1) float64 on the grid ``edges`` (one array per
    axis; module docstring), with ``with_local`` their local coordinates."""
    from onnx import TensorProto

    d = len(edges)
    widths = [len(e) - 2 for e in edges]  # inner edges per axis
    n_inner = max(1, max(widths))
    inner = np.full((d, n_inner), np.inf)
    for j, e in enumerate(edges):
        inner[j, : widths[j]] = np.asarray(e, dtype=np.float64)[1:-1]
    ge = g.op("GreaterOrEqual", [x1, _const(g, inner, "inner")])
    k = g.op("ReduceSum", [g.op("Cast", [ge], to=TensorProto.INT64),
                           _const(g, [-1], "axm1", np.int64)], "k", keepdims=0)
    strides = _strides([len(e) - 1 for e in edges])
    flat = g.op("ReduceSum", [g.op("Mul", [k, _const(g, strides, "strides", np.int64)]),
                              _const(g, [-1], "axm1", np.int64)], "flat", keepdims=0)
    row = n_inner + 2
    kk = g.op("Add", [k, _const(g, np.arange(d) * row, "rowoff", np.int64)], "kk")
    if not with_local:
        return Cells(k, kk, flat, None, row)
    lo_t, hi_t = np.zeros((d, row)), np.zeros((d, row))
    for j, e in enumerate(edges):
        e = np.asarray(e, dtype=np.float64)
        lo_t[j, : len(e) - 1], hi_t[j, : len(e) - 1] = e[:-1], e[1:]
    lo = g.op("Gather", [_const(g, lo_t.reshape(-1), "lo_t"), kk], "lo", axis=0)
    hi = g.op("Gather", [_const(g, hi_t.reshape(-1), "hi_t"), kk], "hi", axis=0)
    xs = g.op("Squeeze", [x1, _const(g, [-1], "axm1", np.int64)], "xs")
    u = g.op("Div", [g.op("Sub", [g.op("Mul", [xs, _const(g, 2.0, "two")]),
                                  g.op("Add", [lo, hi])]),
                     g.op("Sub", [hi, lo])], "u")
    return Cells(k, kk, flat, u, row)


def finer_cell_nodes(g: Graph, fine: list[np.ndarray], coarse: list[np.ndarray],
                     cells: Cells, x1: str) -> str:
    """The flat cell index (...) on the grid ``fine`` of points ``x1`` (..., D, 1) whose
    cells on the grid ``coarse`` are ``cells``: where every coarse edge is a fine edge (a
    refinement, as ``set_cell_scale`` makes), the fine edges inside each point's coarse cell
    are gathered and compared (the same comparisons as ``searchsorted`` on ``fine``, a few
    per point instead of all the fine grid's: the scale grids have 50-100 edges per axis);
    otherwise the comparisons on the whole fine grid (:func:`cell_nodes`)."""
    from onnx import TensorProto

    pos = []
    for f, c in zip(fine, coarse, strict=True):
        f, c = np.asarray(f, dtype=np.float64), np.asarray(c, dtype=np.float64)
        at = np.searchsorted(f, c)
        if at.max(initial=0) >= len(f) or not np.array_equal(f[np.minimum(at, len(f) - 1)], c):
            return cell_nodes(g, fine, x1).flat
        pos.append(at)
    d = len(fine)
    n_sub = max(1, max(int(np.max(np.diff(p))) - 1 for p in pos))
    sub = np.full((d, cells.row, n_sub), np.inf)  # the fine inner edges of each coarse cell
    start = np.zeros((d, cells.row), dtype=np.int64)  # the fine index of its first cell
    for j, (f, p) in enumerate(zip(fine, pos, strict=True)):
        for c in range(len(p) - 1):
            inner = np.asarray(f, dtype=np.float64)[p[c] + 1: p[c + 1]]
            sub[j, c, : len(inner)] = inner
            start[j, c] = p[c]
    rows = g.op("Gather", [_const(g, sub.reshape(d * cells.row, n_sub), "sub_edges"),
                           cells.kk], "sub_rows", axis=0)  # (..., D, n_sub)
    ge = g.op("GreaterOrEqual", [x1, rows])
    j = g.op("ReduceSum", [g.op("Cast", [ge], to=TensorProto.INT64),
                           _const(g, [-1], "axm1", np.int64)], "kj", keepdims=0)
    first = g.op("Gather", [_const(g, start.reshape(-1), "sub_start", np.int64), cells.kk],
                 "kfirst", axis=0)
    k = g.op("Add", [first, j], "kfine")
    strides = _strides([len(e) - 1 for e in fine])
    return g.op("ReduceSum", [g.op("Mul", [k, _const(g, strides, "strides", np.int64)]),
                              _const(g, [-1], "axm1", np.int64)], "flat", keepdims=0)


def design_nodes(g: Graph, reg: Any, x1: str, rank: int) -> tuple[Cells, str]:
    """``(cells, basis)``: the cells (:func:`cell_nodes`) and the tensor Chebyshev basis
    (..., P) float64 of the fitted ``pwcheb`` regressor ``reg`` at points ``x1`` (..., D, 1)
    of rank ``rank`` (module docstring)."""
    cells = cell_nodes(g, list(reg.edges_), x1, with_local=True)
    deg = int(np.max(reg.degrees_))
    d = len(reg.edges_)
    i64 = np.int64
    # u^0..u^(2^m - 1) by doubling ([P, P u^n], u^2n = (u^n)^2): elementwise products, where
    # Pow (std::pow) costs ~15 ns per value
    v = g.op("Unsqueeze", [cells.u, _const(g, [-1], "axm1", i64)], "u1")
    powers = g.op("Pow", [v, _const(g, [0.0, 1.0], "p01")], "upow")  # 1 and u: exact
    n, step = 2, g.op("Mul", [v, v], "u2")
    while n < deg + 1:
        powers = g.op("Concat", [powers, g.op("Mul", [powers, step], "upow_hi")], "upow",
                      axis=-1)
        n *= 2
        if n < deg + 1:
            step = g.op("Mul", [step, step], "u2n")
    a = np.zeros((n, deg + 1))
    a[: deg + 1] = chebyshev_monomials(deg).T
    table = g.op("MatMul", [powers, _const(g, a, "cheb_a")], "tcheb")
    # outer products of the axes in pairs, (..., (K + 1)^2) each: products by broadcasting
    # cost ~0.5 ns per element, where ONNX Runtime's gathers cost 5-8 (1 µs per 200)
    k1 = deg + 1
    groups = [list(range(j, min(j + 2, d))) for j in range(0, d, 2)]
    blocks = []
    for grp in groups:
        cols = [g.op("Gather", [table, _const(g, j, "axis_j", i64)], "t_axis", axis=-2)
                for j in grp]  # (..., K + 1)
        if len(cols) == 2:
            outer = g.op("Mul", [g.op("Unsqueeze", [cols[0], _const(g, [-1], "axm1", i64)]),
                                 g.op("Unsqueeze", [cols[1], _const(g, [-2], "axm2", i64)])],
                         "t_outer")  # (..., K + 1, K + 1)
            cols = [g.op("Reshape", [outer, _const(g, [0] * (rank - 2) + [k1 * k1], "shape", i64)],
                         "t_pair")]
        blocks.append(cols[0])
    index = np.asarray(reg.index_, dtype=np.int64)
    # each basis function's entry in each block: (group, P) flat indices into the blocks
    sizes = [k1 ** len(grp) for grp in groups]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    entry = np.array([sum(index[:, j] * k1 ** (len(grp) - 1 - i) for i, j in enumerate(grp))
                      for grp in groups]) + offsets[:, None]
    if len(groups) == 1 and np.array_equal(entry[0], np.arange(index.shape[0])):
        return cells, blocks[0]  # the full tensor grid in row-major order: no gather
    cat = blocks[0] if len(blocks) == 1 else g.op("Concat", blocks, "t_blocks", axis=-1)
    lead = g.op("Shape", [x1], "lead", start=0, end=-2)
    shape = g.op("Concat", [lead, _const(g, [1], "one_i", i64)], "idx_shape", axis=0)
    full = g.op("Expand", [_const(g, entry.reshape((1,) * (rank - 2) + (-1,)), "basis_idx",
                                  i64), shape], "basis_idx_n")
    # GatherElements with the index broadcast to the points (Expand): ONNX Runtime's Gather
    # along the last axis costs ~8 ns per element, this ~5 with the Expand
    basis = g.op("GatherElements", [cat, full], "tb", axis=-1)  # (..., groups P)
    width, p = len(groups), index.shape[0]
    while width > 1:  # the product over the groups by halving
        half = width // 2
        lo = g.op("Slice", [basis, _const(g, [0], "s0", i64), _const(g, [half * p], "s1", i64),
                            _const(g, [-1], "axm1", i64)], "tb_lo")
        hi = g.op("Slice", [basis, _const(g, [half * p], "s1", i64),
                            _const(g, [2 * half * p], "s2", i64),
                            _const(g, [-1], "axm1", i64)], "tb_hi")
        prod = g.op("Mul", [lo, hi], "tb_mul")
        if width % 2:  # an odd group left over: carried to the next round
            rest = g.op("Slice", [basis, _const(g, [2 * half * p], "s2", i64),
                                  _const(g, [width * p], "s3", i64),
                                  _const(g, [-1], "axm1", i64)], "tb_rest")
            prod = g.op("Concat", [prod, rest], "tb_cat", axis=-1)
        basis, width = prod, half + width % 2
    return cells, basis


def pwcheb_nodes(g: Graph, reg: Any, x64: str) -> str:
    """The piecewise Chebyshev regressor in float64 at points ``x64`` (N, D): (N, 1)."""
    x1 = g.op("Unsqueeze", [x64, _const(g, [-1], "axm1", np.int64)], "x1")
    cells, basis = design_nodes(g, reg, x1, 3)
    coef = g.op("Gather", [_const(g, np.asarray(reg.coef_, dtype=np.float64), "coef"),
                           cells.flat],
                "cellcoef", axis=0)  # (N, P)
    return g.op("ReduceSum", [g.op("Mul", [coef, basis], "pw_terms"),
                              _const(g, [-1], "axm1", np.int64)], "pw_y", keepdims=1)


def pwcheb_sigma_nodes(g: Graph, reg: Any, x64: str) -> str:
    """The per-cell scale of each point's cell of the scale grid (``cell_scale_`` on
    ``scale_edges()``, as ``predict_uncertainty``): (N,) float64."""
    x1 = g.op("Unsqueeze", [x64, _const(g, [-1], "axm1", np.int64)], "x1")
    flat = cell_nodes(g, list(reg.scale_edges()), x1).flat
    scale = _const(g, np.asarray(reg.cell_scale_, dtype=np.float64), "cell_scale")
    return g.op("Gather", [scale, flat], "pw_sigma", axis=0)
