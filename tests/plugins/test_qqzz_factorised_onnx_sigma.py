"""The ONNX form of the ``qqzz-factorised`` uncertainty (issue 16: the exported ``sigma``)
against :meth:`FactorisedLoopRegressor.predict_uncertainty` on small fitted models.

Each model is a window fit on exact amplitudes (as in test_qqzz_factorised.py) whose parts
then get synthetic per-cell scales on a refined scale grid (log-uniform over eight decades,
independent per cell and per part, so a wrong cell index or a swapped part shows), one
model with another grid for its imaginary parts. Points: inside the window, on the inner
x1 edges of the scale grid, uniform on the whole domain and within 1e-9 of x2 = 0 and 1 (and
on them). Tolerance: sigma and f11 to 1e-9 relative, f01 to 1e-9 of max(f00, |f01|) (the
scale of its metric; f01 crosses zero). Measured (2026-12-03): sigma <= 1.2e-14, y <= 1.9e-13
relative to |y|. A mutation of the graph (fit grid for the scale grid, the real part's scale
for the imaginary, the decays' columns swapped, f11's second-order term dropped in 4D or 8D)
fails it.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from zoo import plugin_manager  # noqa: E402
from zoo.errors import UnsupportedModelError  # noqa: E402
from zoo.plugins.processes.qqzz.factorised import (  # noqa: E402
    FactorisedLoopRegressor,
    f11_from_production,
    on_shell_points,
    production_targets,
    tree_amplitudes,
)
from zoo.runtime.onnx_export import session  # noqa: E402
from zoo.runtime.onnx_graph import Graph, build_model  # noqa: E402

TOL = 1e-9
LO, HI = 0.45, 0.55  # the fit window of every production variable


@pytest.fixture(scope="module")
def window():
    """600 production points of the window and their exact loop amplitudes (N, 18)."""
    p4 = plugin_manager.get("processes", "qqbar-zz-4l/4d")
    x4 = LO + (HI - LO) * np.random.default_rng(160).random((600, 4))
    return x4, p4.amplitudes(x4)[1]


def _refined(edges: np.ndarray, k: int) -> np.ndarray:
    """Every cell of ``edges`` cut into ``k`` equal parts (as ``set_cell_scale``'s refine)."""
    return np.concatenate([(edges[:-1, None] + np.diff(edges)[:, None] * np.arange(k) / k)
                           .reshape(-1), edges[-1:]])


def _synthetic_scales(reg: FactorisedLoopRegressor, seed: int, refine: list[int],
                      refine_imag: list[int] | None = None) -> None:
    """Independent log-uniform scales per refined cell and part, 1e-8..1 of the part's
    largest coefficient (so that the second-order term of f11's sigma shows too)."""
    rng = np.random.default_rng(seed)
    n_real = len(reg._reps())
    for i, p in enumerate(reg.parts_):
        ref = refine if (refine_imag is None or i < n_real) else refine_imag
        p.scale_edges_ = [_refined(e, k) for e, k in zip(p.edges_, ref, strict=True)]
        n = int(np.prod([len(e) - 1 for e in p.scale_edges_]))
        unit = float(np.abs(p.coef_).max())  # the size of the part's values
        p.cell_scale_ = unit * 10.0 ** rng.uniform(-8, 0, size=n)
    assert reg.has_uncertainty


def _points(reg: FactorisedLoopRegressor, seed: int) -> np.ndarray:
    """Window points, points on the inner x1 edges of the scale grid, uniform points, and
    points within 1e-9 of x2 = 0 and 1 (and on them)."""
    rng = np.random.default_rng(seed)
    dim = reg._n_inputs()
    x = rng.random((320, dim))
    x[:200, :reg._n_production()] = LO + (HI - LO) * x[:200, :reg._n_production()]
    inner = reg.parts_[0].scale_edges()[0][1:-1]
    x[200:200 + len(inner), 0] = inner
    d = 10.0 ** rng.uniform(-12, -9, size=40)
    x[240:260, 1], x[260:280, 1] = d[:20], 1.0 - d[20:]
    x[280:290, 1], x[290:300, 1] = 0.0, 1.0
    return x


def _onnx(reg: FactorisedLoopRegressor, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y, sigma) of the regressor's ONNX nodes, y built first as the core export does;
    building sigma adds no part (no pwcheb basis) to the graph: they are y's."""
    g = Graph()
    xin = g.input("x", "float64", ["N", x.shape[1]])
    y = reg.onnx_nodes(g, xin)
    n_parts = sum(n.op_type == "ReduceSum" and n.output[0].startswith("pw_sum") for n in g.nodes)
    s = reg.onnx_uncertainty_nodes(g, xin)
    assert n_parts == sum(n.op_type == "ReduceSum" and n.output[0].startswith("pw_sum")
                          for n in g.nodes)
    sess = session(build_model(g, [(y, "float64", None), (s, "float64", None)])
                   .SerializeToString(), n_threads=1)
    got_y, got_s = sess.run(None, {"x": x})
    return got_y.reshape(-1), got_s.reshape(-1)


CASES = [  # (helicity, term, extra parameters, synthetic-scale refinement, imaginary's)
    ("L0+", "f11", {"angle": True, "endpoints": True}, [3, 2, 1, 1], None),  # exchange-cp
    ("L-+", "f01", {}, [3, 2, 2, 1], None),
    ("L-0", "f11", {"on_shell": True, "angle": True, "endpoints": True}, [3, 2], None),
    ("LLR", "f11", {"angle": True, "endpoints": True}, [3, 2, 1, 1], [2, 3, 1, 2]),
    ("RLR", "f01", {"endpoints": True}, [2, 2, 1, 1], None),
]


@pytest.mark.parametrize("helicity,term,params,refine,refine_imag", CASES)
def test_onnx_sigma_is_predict_uncertainty(window, helicity, term, params, refine,
                                           refine_imag) -> None:
    x4, one = window
    quark = helicity[0]
    reg = FactorisedLoopRegressor(helicity=helicity, term=term, cells=[2, 2, 1, 1],
                                  degree=[3, 3, 2, 2], grading=1.0, coef_dtype="float64",
                                  **params)
    if params.get("on_shell"):
        p2 = plugin_manager.get("processes", "qqbar-zz-4l/2d")
        x2 = 0.4 + 0.2 * np.random.default_rng(161).random((300, 2))
        reg.set_params(cells=[2, 2], degree=[5, 5])
        reg.fit(x2, production_targets(p2.amplitudes(x2)[1], on_shell_points(x2), quark))
    else:
        reg.fit(x4, production_targets(one, x4, quark))
    _synthetic_scales(reg, len(helicity + term), refine, refine_imag)
    x = _points(reg, 162)
    y, s = reg.predict_uncertainty(x)
    got_y, got_s = _onnx(reg, x)
    assert np.isfinite(s).all() and (s[:200] > 0).all()
    np.testing.assert_allclose(got_s, s, rtol=TOL, atol=0)
    if term == "f11":
        np.testing.assert_allclose(got_y, y, rtol=TOL, atol=0)
    else:  # f01 crosses zero: relative to max(f00, |f01|), f00 = |A_tree|^2 (closed form)
        x4p = reg._production(x)
        tree = tree_amplitudes(x4p, quark)
        f00 = (tree[:, reg._column()] ** 2 if reg._is_4d()
               else f11_from_production(tree, x, helicity))
        rel = np.abs(got_y - y) / np.maximum(np.maximum(f00, np.abs(y)), np.finfo(float).tiny)
        assert rel.max() < TOL, rel.max()

def test_no_onnx_sigma_without_scales(window) -> None:
    """A part without scales: no uncertainty, and its ONNX form refuses clearly."""
    x4, one = window
    reg = FactorisedLoopRegressor(helicity="L--", cells=1, degree=2, grading=1.0)
    reg.fit(x4[:300], production_targets(one[:300], x4[:300]))
    reg.parts_[1].cell_scale_ = None
    assert not reg.has_uncertainty
    g = Graph()
    xin = g.input("x", "float64", ["N", 4])
    with pytest.raises(UnsupportedModelError, match="uncertainty"):
        reg.onnx_uncertainty_nodes(g, xin)
