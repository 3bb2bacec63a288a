"""Tests of zoo.training.metrics with hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from zoo.errors import InputError
from zoo.training.metrics import (
    KEYS,
    delta_histogram_png,
    format_table,
    measure_throughput,
    precision_table,
    relative_delta,
)

TOL = 1e-9  # absolute tolerance on values in % (inputs carry ~1e-16 relative rounding)

# ten relative errors, chosen by hand
DELTAS = np.array([-0.02, -0.005, -0.0005, 0.0, 0.0002, 0.0008, 0.003, 0.009, 0.015, 0.05])
# true values of mixed magnitude and sign: delta uses |y_true|
Y_TRUE = np.array([1.0, -2.0, 3.0e5, 4.0e-3, -5.0, 6.0, 7.0e-8, 8.0, -9.0e3, 10.0])
Y_PRED = Y_TRUE + DELTAS * np.abs(Y_TRUE)


def test_precision_table_hand_computed():
    m = precision_table(Y_TRUE, Y_PRED)
    assert tuple(m) == KEYS
    assert m["n"] == 10
    # |delta| < 1%: all but -0.02, 0.015, 0.05 -> 7/10; < 0.1%: -0.0005, 0, 0.0002, 0.0008
    assert m["frac_lt_1pct"] == 0.7
    assert m["frac_lt_0p1pct"] == 0.4
    # sum = -0.0255 + 0.078 = 0.0525 -> mean 0.00525 = 0.525%
    assert m["mean_delta_pct"] == pytest.approx(0.525, abs=TOL)
    # sum of squares 3.24093e-3 -> var = 3.24093e-4 - 0.00525^2 = 2.965305e-4
    assert m["std_delta_pct"] == pytest.approx(100 * math.sqrt(2.965305e-4), abs=TOL)
    # sorted |delta|: 0 .0002 .0005 .0008 .003 .005 .009 .015 .02 .05 (linear interpolation)
    assert m["p50_abs_delta_pct"] == pytest.approx(0.4, abs=TOL)  # between .003 and .005
    assert m["p90_abs_delta_pct"] == pytest.approx(2.3, abs=TOL)  # .02 + 0.1 * .03
    assert m["p99_abs_delta_pct"] == pytest.approx(4.73, abs=TOL)  # .02 + 0.91 * .03
    assert m["max_abs_delta_pct"] == pytest.approx(5.0, abs=TOL)
    assert m["delta_denominator"] == "|y_true|"
    assert all(isinstance(m[k], float) for k in KEYS[1:-1]) and isinstance(m["n"], int)


def test_precision_table_perfect_prediction():
    y = np.linspace(1.0, 2.0, 7)
    m = precision_table(y, y)
    assert m["frac_lt_1pct"] == 1.0 and m["frac_lt_0p1pct"] == 1.0
    assert m["max_abs_delta_pct"] == 0.0 and m["std_delta_pct"] == 0.0


def test_scale_option_for_terms_crossing_zero():
    y_true = np.array([0.0, 1.0, -1.0, 2.0])
    y_pred = np.array([0.001, 1.01, -1.0, 1.9])
    with pytest.raises(InputError, match="scale="):
        precision_table(y_true, y_pred)
    # per-point scale: deltas 0.001/0.5, 0.01/1, 0, -0.1/4
    scale = np.array([0.5, 1.0, 2.0, 4.0])
    np.testing.assert_allclose(
        relative_delta(y_true, y_pred, scale=scale),
        [0.002, 0.01, 0.0, -0.025],
        rtol=1e-12,
        atol=1e-15,
    )
    m = precision_table(y_true, y_pred, scale=scale, scale_name="sqrt(f00*f11)")
    assert m["delta_denominator"] == "|sqrt(f00*f11)|"
    assert m["frac_lt_1pct"] == 0.5  # 0.002 and 0 (0.01 is not < 1%)
    assert m["max_abs_delta_pct"] == pytest.approx(2.5, abs=TOL)
    # scalar scale
    m2 = precision_table(y_true, y_pred, scale=10.0)
    assert m2["max_abs_delta_pct"] == pytest.approx(1.0, abs=TOL)
    assert "scale" in m2["delta_denominator"]


def test_errors():
    with pytest.raises(InputError, match="same length"):
        precision_table(np.ones(3), np.ones(4))
    with pytest.raises(InputError, match="same length"):
        precision_table(np.ones((3, 1)), np.ones((3, 1)))
    with pytest.raises(InputError, match="y_pred contains NaN.*index 1"):
        precision_table(np.ones(3), np.array([1.0, np.nan, 1.0]))
    with pytest.raises(InputError, match="y_true contains NaN"):
        precision_table(np.array([1.0, np.inf]), np.ones(2))
    with pytest.raises(InputError, match="empty"):
        precision_table(np.ones(0), np.ones(0))
    with pytest.raises(InputError, match="scale"):
        precision_table(np.ones(2), np.ones(2), scale=np.array([1.0, 0.0]))
    with pytest.raises(InputError):
        precision_table(np.ones(2), np.ones(2), scale=np.array([1.0, np.nan]))


def test_format_table_single_and_compare():
    m = precision_table(Y_TRUE, Y_PRED)
    extra = {
        "parameters": 67_000,
        "disk_size_bytes": 2_400_000,
        "training_time_s": 301.4,
        "points_per_s": 1.48e6,
    }
    console = Console(width=120, record=True)
    console.print(format_table(m, extra))
    text = console.export_text()
    for s in (
        "< 1%",
        "70.000%",
        "40.000%",
        "0.525%",
        "2.3%",
        "4.73%",
        "5%",
        "67,000",
        "2.4 MB",
        "301.4 s",
        "1.48e+06",
        "|y_true|",
    ):
        assert s in text, s
    other = precision_table(Y_TRUE, Y_TRUE)
    table = format_table(
        {"sk-DNN": m, "XGBoost": other}, {"parameters": {"sk-DNN": 67_000, "XGBoost": None}}
    )
    console = Console(width=120, record=True)
    console.print(table)
    text = console.export_text()
    assert "sk-DNN" in text and "XGBoost" in text and "100.000%" in text
    assert len(table.columns) == 3 and table.row_count == 10
    # three decimals: a fraction of 0.99995 is not shown as 100%
    from zoo.training.metrics import _fmt

    assert _fmt(0.99995, "frac") == "99.995%"


def test_delta_histogram_png(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.uniform(1, 2, 2000)
    pred = y * (1 + 0.01 * rng.standard_normal(2000))
    out = delta_histogram_png(y, pred, tmp_path / "sub" / "delta.png", title="toy")
    data = out.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError):
        delta_histogram_png(y, pred[:-1], tmp_path / "bad.png")


def test_measure_throughput():
    calls = []

    def predict(x):
        calls.append(x.shape)
        return x.sum(axis=1)

    rate = measure_throughput(predict, 4, n=1000, repeats=2)
    assert rate > 0 and math.isfinite(rate)
    assert calls == [(1000, 4), (1000, 4)]
    with pytest.raises(InputError):
        measure_throughput(predict, 4, n=0)
    with pytest.raises(InputError, match="returned"):
        measure_throughput(lambda x: x[:5, 0], 4, n=10, repeats=1)
