"""Face test points (:mod:`zoo.training.faces`) and the per-region scoring of
``scripts/face_check.py`` on synthetic values (no heavy generation)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.training.faces import face_points, regions

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "face_check.py"


def _beam(x: np.ndarray) -> np.ndarray:
    return np.minimum(x[:, 1], 1.0 - x[:, 1])


@pytest.mark.parametrize("dim", [2, 4, 8])
def test_face_points_regions_and_ranges(dim):
    n = 6000
    x, region = face_points(dim, n, seed=3)
    assert x.shape == (n, dim) and x.dtype == np.float64 and region.shape == (n,)
    assert region.dtype.kind == "U"
    assert np.all((x >= 0.0) & (x <= 1.0))
    names = regions(dim)
    assert list(dict.fromkeys(region.tolist())) == list(names)
    counts = [int(np.sum(region == r)) for r in names]
    assert max(counts) - min(counts) <= 1 and sum(counts) == n
    # the distance to the face, with float64 rounding of 1 - d (relative 1e-16 of 1)
    tol = 1e-15
    near = _beam(x[region == "beam-near"])
    assert near.min() >= 1e-6 - tol and near.max() <= 1e-3 + tol
    deep = _beam(x[region == "beam-deep"])
    assert deep.min() >= 1e-11 - tol and deep.max() <= 1e-6 + tol
    for r in ("beam-near", "beam-deep"):  # both faces, about equally
        assert 0.4 < np.mean(x[region == r, 1] < 0.5) < 0.6
    thr = x[region == "threshold", 0]
    assert thr.min() >= 1e-9 and thr.max() <= 1e-3
    corner = x[region == "threshold-beam"]
    assert corner[:, 0].max() <= 1e-3 and _beam(corner).max() <= 1e-3 + tol
    # log-uniform: about half the threshold points below the geometric middle 1e-6
    assert 0.4 < np.mean(thr < 1e-6) < 0.6
    # elsewhere uniform: the beam region leaves x1 alone
    assert 0.4 < np.mean(x[region == "beam-near", 0] < 0.5) < 0.6
    if dim >= 4:
        low = x[region == "low-mass", 2:4].min(axis=1)
        assert low.min() >= 1e-6 and low.max() <= 1e-2
        assert 0.4 < np.mean(x[region == "low-mass", 2] < 1e-2) < 0.6  # x3 or x4
    if dim == 8:
        c = x[region == "collinear"][:, [4, 6]]
        d = np.minimum(c, 1.0 - c).min(axis=1)
        assert d.min() >= 1e-10 - tol and d.max() <= 1e-3 + tol
    else:
        assert "collinear" not in names


def test_face_points_deterministic_in_seed():
    a, ra = face_points(4, 101, seed=7)
    b, rb = face_points(4, 101, seed=7)
    c, _ = face_points(4, 101, seed=8)
    assert np.array_equal(a, b) and np.array_equal(ra, rb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("kwargs, match", [
    ({"dim": 3, "n": 10, "seed": 0}, "dimensions 2, 4 and 8"),
    ({"dim": 2.0, "n": 10, "seed": 0}, "dimensions 2, 4 and 8"),
    ({"dim": 8, "n": 5, "seed": 0}, "n >= 6"),
    ({"dim": 2, "n": "10", "seed": 0}, "integer n"),
    ({"dim": 2, "n": 10, "seed": -1}, "non-negative integer"),
])
def test_face_points_bad_input(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        face_points(**kwargs)


@pytest.fixture(scope="module")
def script():
    if not SCRIPT.exists():
        pytest.skip("scripts/ not in this checkout")
    spec = importlib.util.spec_from_file_location("face_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _synthetic_set(n: int = 400):
    """A face set with made-up exact values: 2 helicities, f00 = 2, f11 = 1 + x1,
    f01 = x2 - 1/2 (crosses zero)."""
    x, region = face_points(2, n, seed=0)
    ones = np.ones((n, 2))
    return {"x": x, "region": region, "helicities": ("A", "B"),
            "f00": 2.0 * ones, "f11": (1.0 + x[:, :1]) * ones,
            "f01": (x[:, 1:2] - 0.5) * np.array([[1.0, 3.0]]),
            "provenance": {"dim": 2, "n": n, "seed": 0}}


def test_score_label_known_errors(script):
    fset = _synthetic_set()
    x, region = fset["x"], fset["region"]
    exact = 1.0 + x[:, 0]
    # relative error 5e-4 on the beam, 5e-2 at the threshold, 5e-6 elsewhere; NaN at one point
    rel = np.select([np.char.startswith(region, "beam"), region == "threshold"],
                    [5e-4, 5e-2], default=5e-6)
    bad = int(np.flatnonzero(region == "threshold-beam")[0])

    def predict(xx):
        assert xx is x
        y = exact * (1.0 + rel)
        y[bad] = np.nan
        return y

    rec = script.score_label("fake", predict, "f11", "B", {}, fset)
    assert rec["delta_denominator"] == "|y_true|" and rec["set"]["n"] == 400
    near, thr, corner = rec["beam-near"], rec["threshold"], rec["threshold-beam"]
    assert near["n"] == 100 and near["n_failed"] == 0
    assert near["frac_lt_1pct"] == 1.0 and near["frac_lt_0p1pct"] == 1.0
    assert near["frac_lt_0p01pct"] == 0.0
    assert near["median"] == pytest.approx(5e-4, rel=1e-9)
    assert thr["frac_lt_1pct"] == 0.0 and thr["max"] == pytest.approx(5e-2, rel=1e-9)
    assert corner["n_failed"] == 1 and corner["max"] is None
    assert corner["frac_lt_0p01pct"] == pytest.approx(0.99)
    assert rec["all"]["n"] == 400 and rec["all"]["n_failed"] == 1
    json.dumps(rec, allow_nan=False)  # the record is strict JSON


def test_score_label_f01_uses_f00_and_sum(script):
    fset = _synthetic_set()
    x = fset["x"]
    exact = 4.0 * (x[:, 1] - 0.5)  # the sum of the two f01 columns
    # an absolute error of 4e-3 = 1e-3 of f00 summed (4): below 1e-2, not below 1e-4
    rec = script.score_label("fake", lambda xx: exact + 4e-3, "f01", "sum", {}, fset)
    assert rec["delta_denominator"] == "|f00|"
    assert rec["all"]["median"] == pytest.approx(1e-3, rel=1e-9)
    assert rec["all"]["frac_lt_1pct"] == 1.0 and rec["all"]["frac_lt_0p01pct"] == 0.0
    # a card that names the scale wins over the term's default
    rec = script.score_label("fake", lambda xx: exact + 4e-3, "f01", "sum",
                             {"uncertainty": {"scale": "abs"}}, fset)
    assert rec["delta_denominator"] == "|y_true|"
    with pytest.raises(ConfigError, match="not a column"):
        script.score_label("fake", lambda xx: exact, "f01", "C", {}, fset)


def test_predict_robust_marks_refused_points(script):
    from zoo.errors import InputError

    x = np.linspace(0.0, 1.0, 10)[:, None]

    def predict(xx):
        if np.any(xx[:, 0] == x[3, 0]):
            raise InputError("f00 is zero here")
        return 2.0 * xx[:, 0]

    y = script.predict_robust(predict, x, chunk=4)
    assert np.isnan(y[3]) and np.array_equal(np.delete(y, 3), 2.0 * np.delete(x[:, 0], 3))


def test_build_set_caches_exact_values(script, tmp_path, capsys):
    """8D only (its exact values are fast): the cache round-trips, and a cache of other
    points is not used."""
    first = script.build_set(8, 12, 5, tmp_path, workers=1)
    assert first["f11"].shape == (12, 8) and np.all(np.isfinite(first["f11"]))
    assert first["provenance"]["regions"]["collinear"] == 2
    again = script.build_set(8, 12, 5, tmp_path, workers=1)
    assert "read 12 face points" in capsys.readouterr().err
    for t in ("f00", "f01", "f11"):
        assert np.array_equal(first[t], again[t])
    assert again["provenance"] == first["provenance"]
    path = tmp_path / "faces_8d_n12_seed5.npz"
    with np.load(path, allow_pickle=False) as z:
        stored = {k: z[k] for k in z.files}
    stored["f11"] = stored["f11"] + 1.0
    stored["x_sha256"] = np.asarray("other points")
    np.savez(path, **stored)
    fresh = script.build_set(8, 12, 5, tmp_path, workers=1)
    assert "regenerating" in capsys.readouterr().err
    assert np.array_equal(fresh["f11"], first["f11"])
