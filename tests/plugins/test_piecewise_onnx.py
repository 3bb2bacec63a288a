"""The ONNX toolkit of the piecewise Chebyshev basis (``piecewise_onnx``): cells, local
coordinates, the Chebyshev values by monomials, the basis by pair products and one gather,
the per-cell scales on refined grids (two-level search), against the regressor's own numpy.

Tolerances: cell indices exactly (integers, points on every edge included); values 1e-12
relative to the largest |coefficient| (the monomial form of T_k is within 1.3e-12 of the
recurrence for k <= 12; measured here ~1e-14); T_k themselves 1e-11 absolute up to k = 14.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from onnx import helper  # noqa: E402

from zoo.plugins.regressors.chebyshev import chebyshev_table  # noqa: E402
from zoo.plugins.regressors.piecewise import PiecewiseChebyshevRegressor  # noqa: E402
from zoo.plugins.regressors.piecewise_onnx import (  # noqa: E402
    cell_nodes,
    chebyshev_monomials,
    finer_cell_nodes,
    pwcheb_nodes,
)
from zoo.runtime.onnx_export import session  # noqa: E402
from zoo.runtime.onnx_graph import Graph, build_model  # noqa: E402


def _fn(x: np.ndarray) -> np.ndarray:
    return np.exp(x.sum(axis=1)) * np.cos(3.0 * x[:, 0]) + x[:, -1] ** 3


def _points(edges: list[np.ndarray], n: int, seed: int) -> np.ndarray:
    """Uniform points, then every edge of every axis (0 and 1 included) on some row."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, len(edges)))
    row = 0
    for j, e in enumerate(edges):
        for v in e:
            x[row % n, j] = v
            row += 1
    return x


def _run(build, x: np.ndarray, dtype: str = "float64") -> np.ndarray:
    g = Graph()
    g.input("x", "float64", ["N", x.shape[1]])
    out = build(g)
    g.nodes.append(helper.make_node("Identity", [out], ["y"]))
    sess = session(build_model(g, [("y", dtype, None)]).SerializeToString(), n_threads=1)
    return sess.run(None, {"x": x})[0]


@pytest.mark.parametrize(("dim", "cells", "degree", "basis"), [
    (1, 5, 9, "tensor"),
    (2, [3, 4], [6, 5], "tensor"),       # the full grid: no gather
    (3, [2, 3, 2], 5, "total"),          # an odd axis left for the last product
    (4, [2, 2, 1, 2], [6, 5, 4, 3], "total"),
])
def test_pwcheb_graph_is_predict(dim, cells, degree, basis) -> None:
    rng = np.random.default_rng(dim)
    x = rng.random((3000, dim))
    reg = PiecewiseChebyshevRegressor(cells=cells, degree=degree, basis=basis).fit(x, _fn(x))
    pts = _points(reg.edges_, 400, seed=dim)
    got = _run(lambda g: pwcheb_nodes(g, reg, "x"), pts)[:, 0]
    want = reg.predict(pts)
    scale = np.abs(reg.coef_).max()
    assert np.abs(got - want).max() <= 1e-12 * scale


def test_chebyshev_monomials_match_the_recurrence() -> None:
    u = np.linspace(-1.0, 1.0, 20001)
    for k in (0, 1, 2, 7, 12, 14):
        a = chebyshev_monomials(k)
        mono = (u[:, None] ** np.arange(k + 1)) @ a.T
        rec = chebyshev_table(u[:, None], k)[:, :, 0].T
        assert np.abs(mono - rec).max() < 1e-11
        assert np.array_equal(a, np.round(a))  # integer coefficients, exact in float64


def _flat_nodes(build):
    def f(g: Graph) -> str:
        x1 = g.op("Unsqueeze", ["x", g.const(np.array([-1], dtype=np.int64))])
        return g.op("Cast", [build(g, x1)], to=11)  # float64 out
    return f


@pytest.mark.parametrize("kind", ["refined", "cuts", "not-a-refinement"])
def test_finer_cells_are_searchsorted_on_the_fine_grid(kind) -> None:
    coarse = [np.array([0.0, 0.3, 1.0]), np.array([0.0, 0.25, 0.5, 1.0])]
    if kind == "refined":  # every cell cut into equal parts, as set_cell_scale(refine=...)
        fine = [np.concatenate([np.linspace(a, b, 5)[:-1] for a, b in zip(e[:-1], e[1:])]
                               + [e[-1:]]) for e in coarse]
    elif kind == "cuts":  # uneven extra edges, one cell left whole
        fine = [np.array([0.0, 0.1, 0.11, 0.3, 1.0]), np.array([0.0, 0.25, 0.3, 0.5, 0.9, 1.0])]
    else:  # a coarse edge missing from the fine grid: the plain comparisons
        fine = [np.array([0.0, 0.2, 0.5, 1.0]), np.array([0.0, 0.5, 1.0])]
    x = np.vstack([_points(fine, 300, seed=4), _points(coarse, 50, seed=5)])
    want = PiecewiseChebyshevRegressor().cell_index(x, fine)  # the regressor's own rule

    def build(g, x1):
        cells = cell_nodes(g, coarse, x1)
        return finer_cell_nodes(g, fine, coarse, cells, x1)

    got = _run(_flat_nodes(build), x)
    assert np.array_equal(got.astype(np.int64), want)


def test_pwcheb_graph_in_passes_of_rows() -> None:
    """The regressor declares its rows per pass (its basis arrays to ~128 MB); run in passes
    of 64 rows (``in_chunks``, as the core export does) the graph still equals predict."""
    from zoo.runtime.onnx_chunks import in_chunks

    rng = np.random.default_rng(9)
    x = rng.random((3000, 4))
    reg = PiecewiseChebyshevRegressor(cells=[2, 2, 1, 2], degree=[6, 5, 4, 3],
                                      basis="total").fit(x, _fn(x))
    assert reg.onnx_max_rows() % 64 == 0 and reg.onnx_max_rows() > 10_000

    def build(g: Graph) -> str:
        y = g.op("Reshape", [pwcheb_nodes(g, reg, "x"), g.const(np.array([-1]))])
        g.nodes.append(helper.make_node("Identity", [y], ["y_rows"]))
        in_chunks(g, "x", [("y_rows", "float64")], 64)
        return "y_rows"

    pts = _points(reg.edges_, 200, seed=10)
    got = _run(build, pts)
    assert got.shape == (200,)
    assert np.abs(got - reg.predict(pts)).max() <= 1e-12 * np.abs(reg.coef_).max()
