"""q qbar -> ZZ -> 4l at fixed seeded points: values computed by this code, which agrees with
the independent quadruple-precision reference on its 24,000 points (test_qqzz_reference.py);
tolerance here 1e-10 relative (f01 relative to sqrt(f00 f11)). Runs without ../shared/data,
so a change of the physics code is caught everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zoo.plugins.processes.qqzz.process import QQZZ8D

FIXTURE = Path(__file__).resolve().parent / "data" / "qqzz_fixed_reference.json"


def test_fixed_reference_values():
    data = json.loads(FIXTURE.read_text())
    proc = QQZZ8D(mu=data["mu"])
    assert list(proc.helicities) == data["helicities"]
    x = np.array(data["x"], dtype=np.float64)
    seeded = np.random.default_rng(data["x_seed"]).uniform(0.02, 0.98, size=(12, 8))
    np.testing.assert_array_equal(x, seeded)  # the points are ours, not the reference data's
    got = proc.evaluate(x)
    f00 = np.array(data["f00"])
    f11 = np.array(data["f11"])
    f01 = np.array(data["f01"])
    np.testing.assert_allclose(got["f00"], f00, rtol=1e-10, atol=0)
    np.testing.assert_allclose(got["f11"], f11, rtol=1e-10, atol=0)
    assert (np.abs(got["f01"] - f01) <= 1e-10 * np.sqrt(f00 * f11)).all()


def test_terms_subset_and_shapes():
    data = json.loads(FIXTURE.read_text())
    x = np.array(data["x"][:3])
    out = QQZZ8D().evaluate(x, ["f00"])
    assert set(out) == {"f00"}
    assert out["f00"].shape == (3, 8) and out["f00"].dtype == np.float64
    np.testing.assert_allclose(out["f00"], np.array(data["f00"][:3]), rtol=1e-10)
