"""The expression builder of the ONNX toolkit (Expr, OnnxMath): numpy-like code -> float64 graph.

Tolerances: arithmetic and the float64 kernels (Sqrt, Sin, Cos) agree with numpy to a few
ulps (rtol 2e-15; Sin and Cos of ONNX Runtime and numpy differ by 1-2 ulps, atol 4e-16); atan/asin/acos, refined from float32 by
Newton steps, to 4e-16 absolute on their range.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from zoo.errors import UnsupportedModelError  # noqa: E402
from zoo.runtime.onnx_export import session  # noqa: E402
from zoo.runtime.onnx_graph import Graph, OnnxMath, build_model  # noqa: E402


def _run(build, x: np.ndarray, k: int = 1) -> list[np.ndarray]:
    g = Graph()
    g.input("x", "float64", ["N", x.shape[1]])
    xp = OnnxMath(g)
    outs = build(xp, xp.wrap("x"))
    outs = outs if isinstance(outs, list) else [outs]
    names = []
    for i, o in enumerate(outs):
        from onnx import helper

        g.nodes.append(helper.make_node("Identity", [o.name], [f"y{i}"]))
        names.append((f"y{i}", "float64", ["N"]))
    sess = session(build_model(g, names).SerializeToString(), n_threads=1)
    return sess.run(None, {"x": x})


def _poly(xp, x):
    a, b = xp.column(x, 0), xp.column(x, 1)
    return 1.0 - (a * 3.0 + 2.0) / (b + 0.5) ** 3 + (-a) ** 2 - 2.0 / a + a ** -2 + b ** 0.5


def test_arithmetic_and_powers_match_numpy():
    x = np.random.default_rng(0).uniform(0.01, 1.0, size=(500, 2))
    (got,) = _run(_poly, x)
    want = _poly(_NpNs, x)
    # terms up to ~1e4 cancel in places: a few ulps of the terms (numpy's pow vs products)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-11)


class _NpNs:
    """numpy as the xp of _poly."""

    @staticmethod
    def column(x, j):
        return x[:, j]


def test_functions_in_float64():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-1, 1, size=(2000, 1)),
                        np.array([[-1.0], [1.0], [0.0], [1e-300], [-1e-12], [1 - 1e-16]])])

    def build(xp, xs):
        v = xp.column(xs, 0)
        return [xp.sqrt(1.0 + v), xp.sin(v * 3.0), xp.cos(v * 3.0), xp.atan(v * 50.0),
                xp.atan(v), xp.asin(v), xp.acos(v), xp.maximum(v, 0.25), xp.minimum(v, 0.0),
                xp.clip(v, -0.5, 0.5), xp.where(xp.greater(v, 0.0), v, -v), xp.exp(v),
                xp.log(2.0 + v), xp.abs(v), xp.tan(v)]

    got = _run(build, x)
    v = x[:, 0]
    want = [np.sqrt(1 + v), np.sin(3 * v), np.cos(3 * v), np.arctan(50 * v), np.arctan(v),
            np.arcsin(v), np.arccos(v), np.maximum(v, 0.25), np.minimum(v, 0.0),
            np.clip(v, -0.5, 0.5), np.abs(v), np.exp(v), np.log(2 + v), np.abs(v), np.tan(v)]
    for i, (a, b) in enumerate(zip(got, want, strict=True)):
        tol = 4e-16 if i in (1, 2, 3, 4, 5, 6, 14) else 0.0  # trig kernels: 1-2 ulps apart
        np.testing.assert_allclose(a, b, rtol=2e-15, atol=tol, err_msg=f"function {i}")
    # the float32 kernels alone would be ~1e-7 off: the refinement is doing the work
    assert np.abs(got[5] - np.arcsin(v)).max() < 1e-15


def test_stack_broadcasts_constants_and_bad_operands_are_refused():
    x = np.random.default_rng(2).random((7, 3))

    def build(xp, xs):
        m = xp.stack([xp.column(xs, 2), 0.5, xp.column(xs, 0)], axis=1)  # (N, 3)
        return [xp.column(m, 0), xp.column(m, 1), xp.column(m, 2)]

    a, b, c = _run(build, x)
    np.testing.assert_array_equal(a, x[:, 2])
    np.testing.assert_array_equal(b, np.full(7, 0.5))
    np.testing.assert_array_equal(c, x[:, 0])
    xp = OnnxMath(Graph())
    e = xp.wrap("x")
    with pytest.raises(UnsupportedModelError, match="integer powers"):
        _ = e ** 1.5
    with pytest.raises(UnsupportedModelError, match="cannot use"):
        _ = e + "a"
