"""The fast prediction engine equals the regressors' own predict.

Tolerance: |y - y_ref| <= rtol * max(|y_ref|, 1) with rtol 1e-6 (float32) and 1e-12
(float64). Networks predict standardised targets (unit variance), so 1 is the natural
output scale; the untrained test networks give outputs ~0.02 where a pure relative rule
would measure float32 cancellation in the last layer. Only the summation order differs.
"""

from __future__ import annotations

import numpy as np
import pytest

from zoo.errors import ConfigError, InputError
from zoo.plugins.regressors.network import network_spec
from zoo.plugins.regressors.network_fast import NumbaOne
from zoo.runtime.inference import fast_predictor

RTOL = {"float32": 1e-6, "float64": 1e-12}
SIZES = (1, 7, 4096, 10_001, 40_000)  # 40k: the large-batch (torch) path of auto


def _net(kind: str, dtype: str, activation: str = "gelu", d: int = 5):
    from zoo import plugin_manager

    reg = plugin_manager.get("regressors", kind)(width=24, depth=3, activation=activation,
                                                 dtype=dtype, seed=3)
    reg.model_ = reg._new_module(d)  # initialised, untrained: the arithmetic is the same
    reg.n_features_ = d
    return reg


def _rel(a, b):
    scale = np.maximum(np.abs(b), 1.0)
    return float(np.max(np.abs(a - b) / scale))


@pytest.fixture(scope="module")
def points():
    return np.random.default_rng(0).random((40_000, 5))


@pytest.mark.parametrize("kind", ["skdnn", "dnn"])
@pytest.mark.parametrize("dtype,activation", [("float32", "gelu"), ("float64", "gelu"),
                                              ("float32", "relu"), ("float64", "silu")])
def test_engine_equals_regressor_predict(points, kind, dtype, activation):
    reg = _net(kind, dtype, activation)
    pred = fast_predictor(reg)
    ref_all = reg.predict(points)
    for n in SIZES:
        got = pred(points[:n])
        assert got.shape == (n,) and got.dtype == np.float64
        assert _rel(got, ref_all[:n]) <= RTOL[dtype], (pred.backend, n)
    one = pred.one(points[3])
    assert _rel(np.array([one]), ref_all[3:4]) <= RTOL[dtype]


@pytest.mark.parametrize("backend", ["numpy", "torch", "onnxruntime"])
def test_every_backend_agrees(points, backend):
    reg = _net("skdnn", "float32", "tanh")
    got = fast_predictor(reg, backend=backend, chunk=1000)(points[:2500])
    assert _rel(got, reg.predict(points[:2500])) <= RTOL["float32"]


def test_single_point_kernel_when_numba_is_present(points):
    pytest.importorskip("numba")
    for dtype in ("float32", "float64"):
        reg = _net("skdnn", dtype)
        one = NumbaOne(network_spec(reg))
        got = np.array([one(p) for p in points[:200]])
        assert _rel(got, reg.predict(points[:200])) <= RTOL[dtype]
        # float32 gelu runs the rational erf; float64 keeps math.erf
        assert one._act == (4 if dtype == "float32" else 1)


def test_rational_erf_is_below_float32_resolution():
    """The kernel's erf for float32 networks: |error| < 4e-9 on [-4, 4], < 2e-8 beyond
    (clamped at 4), far below float32 resolution (6e-8 near 1)."""
    from scipy.special import erf

    from zoo.plugins.regressors.network_fast import rational_erf

    u = np.linspace(-4.0, 4.0, 160_001)
    assert np.max(np.abs(rational_erf(u) - erf(u))) < 4e-9
    u = np.linspace(-40.0, 40.0, 80_001)
    assert np.max(np.abs(rational_erf(u) - erf(u))) < 2e-8
    assert rational_erf(np.array([0.0]))[0] == 0.0


def test_trees_use_their_native_path(points):
    from zoo import plugin_manager

    y = points.sum(axis=1)
    xgb = plugin_manager.get("regressors", "xgboost")(n_estimators=10, max_depth=3,
                                                      early_stopping_rounds=None).fit(points, y)
    cat = plugin_manager.get("regressors", "catboost")(iterations=10, depth=3,
                                                       early_stopping_rounds=None).fit(points, y)
    for reg in (xgb, cat):
        pred = fast_predictor(reg)
        assert pred.backend.startswith("native")
        for n in (1, 7, 4096):
            np.testing.assert_array_equal(pred(points[:n]), reg.predict(points[:n]))


def test_bad_inputs_and_options():
    reg = _net("skdnn", "float32")
    pred = fast_predictor(reg, backend="numpy")
    with pytest.raises(InputError, match=r"\(N, 5\)"):
        pred(np.zeros((3, 4)))
    assert pred(np.zeros((0, 5))).shape == (0,)
    with pytest.raises(ConfigError, match="backend"):
        fast_predictor(reg, backend="gpu")
    unfitted = type(reg)()
    with pytest.raises(ConfigError, match="not fitted"):
        fast_predictor(unfitted)
