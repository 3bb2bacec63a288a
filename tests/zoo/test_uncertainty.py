"""Per-point uncertainty (issue 16): propagation, calibration, guarded prediction, CLI, ONNX.

The regressor is the third-party ``polyfit`` plugin (pip-installed, found through its entry
point), whose uncertainty is the held-out residual RMS per cell along x1 (4 cells); the
process is its ``bump/2d``, whose f11/f00 is quadratic except a narrow bump at x1 < 0.1,
which a quadratic fit cannot follow: the model is bad in the cell x1 < 0.25 and nowhere
else, so the guard must send exactly that cell to the exact function.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zoo import plugin_manager, resolver
from zoo.errors import ConfigError, ExactUnavailableError, NoUncertaintyError
from zoo.runtime import uncertainty as unc

HERE = Path(__file__).resolve().parent
F11 = "bump/2d/f11/L"
F01 = "bump/2d/f01/L"


# -- pure functions -------------------------------------------------------------------------
def _chain(*names_params):
    from zoo.transform import Batch, Chain, Context

    steps = [plugin_manager.get("transforms", n).from_params(p) for n, p in names_params]
    chain = Chain(steps)
    rng = np.random.default_rng(0)
    x = rng.random((50, 2))
    f00 = 1.0 + x[:, 0]
    y = f00 * (2.0 + x[:, 1])
    ctx = Context()
    chain.fit_forward(Batch(x=x, y=y, f00=f00), ctx)
    batch, inputs = chain.forward_with_inputs(Batch(x=x, f00=f00), ctx)
    return (lambda v: chain.inverse(v, inputs, ctx)), f00


@pytest.mark.parametrize("steps", [
    [("log", {})],
    [("f00-normalise", {"source": "data"}), ("log", {}), ("standardise", {"target": "y"})],
    [("f00-normalise", {"source": "data"}), ("asinh", {"scale": 0.5})],
])
def test_propagation_matches_finite_differences(steps):
    """sigma = |g'(y_raw)| s to first order: central differences (h = 1e-6) agree to 1e-6
    relative at s = 1e-7."""
    g, _ = _chain(*steps)
    y_raw = np.linspace(-0.8, 0.9, 50)
    s = np.full(50, 1e-7)
    y, sigma = unc.propagate(g, y_raw, s)
    np.testing.assert_array_equal(y, g(y_raw))
    h = 1e-6
    slope = np.abs(g(y_raw + h) - g(y_raw - h)) / (2 * h)
    np.testing.assert_allclose(sigma, slope * s, rtol=1e-6)


def test_propagation_is_exact_for_affine_chains_and_closed_form_for_log():
    g, f00 = _chain(("f00-normalise", {"source": "data"}), ("standardise", {"target": "y"}))
    y_raw = np.linspace(-1.0, 1.0, 50)
    s = np.full(50, 0.3)  # large: still exact for an affine chain
    _, sigma = unc.propagate(g, y_raw, s)
    np.testing.assert_allclose(sigma, np.abs(g(y_raw + 1.0) - g(y_raw)) * 0.3, rtol=1e-12)
    g, _ = _chain(("log", {}))
    _, sigma = unc.propagate(g, y_raw, s)
    np.testing.assert_allclose(sigma, np.exp(y_raw) * np.sinh(0.3), rtol=1e-14)


def test_calibration_statistics_by_hand():
    """Five points, sigma_raw = 1, errors 0, 0.5, -1, 2, -4 (y_true = 1)."""
    err = np.array([0.0, 0.5, -1.0, 2.0, -4.0])
    rec = unc.calibrate(np.ones(5), 1.0 + err, np.ones(5), source="hand")
    # |p| sorted 0, 0.5, 1, 2, 4; the 0.9545 quantile sits at 4 * 0.9545 = 3.818 between 2
    # and 4: q = 2 + 0.818 * 2, c = q / 2 = 4 * 0.9545 - 2
    c = 4 * unc.COVERAGE_2SIGMA - 2.0
    assert rec["calibration_scale"] == pytest.approx(c, rel=1e-12)
    assert rec["n_calibration"] == 5 and rec["calibration_source"] == "hand"
    p = err / c  # 0, 0.275, -0.55, 1.1, -2.2
    assert rec["coverage_1sigma"] == pytest.approx(3 / 5)
    assert rec["coverage_2sigma"] == pytest.approx(4 / 5)
    assert rec["pull_mean"] == pytest.approx(-0.5 / c, rel=1e-12)
    ps = np.sort(p)  # linear-interpolation percentiles at 15.87% and 84.13% of 4 intervals
    lo = ps[0] + (4 * 0.15865525393145708 - 0) * (ps[1] - ps[0])
    hi = ps[3] + (4 * 0.8413447460685429 - 3) * (ps[4] - ps[3])
    assert rec["pull_width"] == pytest.approx((hi - lo) / 2, rel=1e-12)
    assert rec["sharpness"] == pytest.approx(c, rel=1e-12)  # median of c * 1 / |1|
    # relative errors of 50-400%: nothing is vouched for at any rtol
    assert rec["exact_fraction"] == {"1e-2": 1.0, "1e-3": 1.0, "1e-4": 1.0}
    assert rec["vouch_k"] == unc.K_FLOOR and rec["scale"] == "abs"
    assert set(unc.CARD_FIELDS) <= set(rec)
    json.dumps(rec)  # the card record is JSON


def test_needed_k_and_the_vouching_rule_by_hand():
    y_true = np.array([1.0, 1.0, 2.0])
    y_pred = np.array([1.05, 1.001, 2.0])
    sigma = np.array([0.001, 0.0001, 0.0])
    # point 0 is wrong by 5% > 1%: trusted while k * 0.001 * 1.01 <= 0.01 * 1.05
    k = unc.needed_k(y_true, y_pred, sigma, rtol_range=(1e-2, 1e-2))
    assert k == pytest.approx(0.0105 / 0.00101, rel=1e-12)
    assert unc.vouched(y_pred, sigma, 1e-2, k * (1 + 1e-9)).tolist() == [False, True, True]
    assert unc.vouched(y_pred, sigma, 1e-2, k * (1 - 1e-9)).tolist() == [True, True, True]
    # over 1e-4..1e-2 point 1 (error 0.1%) counts too: it fails at every rtol < 1e-3, where
    # the rule trusts it while k <= 1e-3 * 1.001 / (1e-4 * (1 + 1e-3)) = 10
    assert unc.needed_k(y_true, y_pred, sigma) == pytest.approx(0.0105 / 0.00101, rel=1e-12)
    sigma[1] = 5e-5
    assert unc.needed_k(y_true, y_pred, sigma) == pytest.approx(20.0, rel=1e-9)
    assert not unc.vouched(y_pred, sigma, 0.999e-3, 20.0 * (1 + 1e-9))[1]
    # f00 scale: k sigma <= rtol f00
    assert unc.vouched(y_pred, sigma, 1e-2, 5.0, scale=np.array([0.4, 0.6, 1.0])).tolist() == [
        False, True, True]
    assert not unc.vouched(np.array([np.nan]), np.array([0.0]), 1.0, 3.0).any()


def test_fresh_points_reach_the_faces():
    from zoo.training.calibrate import fresh_points

    x = fresh_points(3, 3000, 0.3, seed=4)
    near = x[:900]
    d = np.stack([near[0::3, 1], 1 - near[1::3, 1]])
    assert (d >= 1e-6).all() and (d <= 1e-3).all()
    assert ((near[2::3, 0] >= 1e-6) & (near[2::3, 0] <= 1e-3)).all()
    assert x[900:].min() >= 0 and np.mean(x[900:, 1] < 1e-3) < 0.01
    np.testing.assert_array_equal(x, fresh_points(3, 3000, 0.3, seed=4))


# -- with the third-party plugin: training, guard, CLI, ONNX ---------------------------------
@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The polyfit plugin package pip-installed into a folder (also on the PYTHONPATH of
    Dask workers), and two calibrated models of bump/2d published into a registry."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(HERE / "thirdparty_plugin")],
        check=True, capture_output=True,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(target))
        mp.setenv("PYTHONPATH", str(target))
        mp.delitem(sys.modules, "zoo_polyfit_plugin", raising=False)
        plugin_manager.reset()
        resolver._resolver_for.cache_clear()
        try:
            yield _publish_models(tmp_path_factory.mktemp("reg") / "reg", target)
        finally:
            plugin_manager.reset()
            resolver._resolver_for.cache_clear()


def _publish_models(reg: Path, site: Path) -> dict:
    import zoo
    from zoo.training.loop import TrainConfig, train

    common = {"regressor": "polyfit", "params": {"degree": 2, "unc_bins": 4}, "n": 4000,
              "transforms": [{"name": "f00-normalise", "params": {"source": "process"}}]}
    m11, _ = train(TrainConfig.from_dict({"label": F11, **common}))
    m01, _ = train(TrainConfig.from_dict({"label": F01, "metric_scale": "f00", **common}))
    ref = np.random.default_rng(9).random((64, 2))
    for m in (m11, m01):
        zoo.publish(m, registry=reg, reference_x=ref)
    return {"reg": reg, "site": site, "f11": m11, "f01": m01}


def _exact(label: str, x: np.ndarray) -> np.ndarray:
    lab = label.split("/")
    return plugin_manager.get("processes", "bump/2d").function(x, lab[2], lab[3])


def test_train_calibrates_on_the_test_split(plugin):
    rec = plugin["f11"].card["uncertainty"]
    assert set(unc.CARD_FIELDS) <= set(rec) and rec["n_calibration"] == 400
    assert "test split" in rec["calibration_source"]
    assert abs(rec["coverage_2sigma"] - unc.COVERAGE_2SIGMA) < 0.01  # by construction
    assert plugin["f01"].card["uncertainty"]["scale"] == "f00"


def test_guard_uses_the_exact_function_exactly_where_the_model_is_bad(plugin):
    """Through the non-canonical label R (x2 -> 1 - x2): the mask is the cell x1 < 0.25,
    the exact values are used there, every returned value is within rtol of the exact one,
    and the model alone is not (so the guard mattered)."""
    import zoo

    amp = zoo.load("bump/2d/f11/R", registry=plugin["reg"])
    x = np.random.default_rng(5).random((4000, 2))
    exact = _exact("bump/2d/f11/R", x)
    plain = amp.predict(x)
    y, sigma = amp.predict(x, return_uncertainty=True)
    np.testing.assert_array_equal(y, plain)
    assert (sigma > 0).all()
    # sigma answers for the requested label through the symmetry map
    canon = zoo.load(F11, registry=plugin["reg"])
    np.testing.assert_allclose(sigma, canon.predict(np.c_[x[:, 0], 1 - x[:, 1]],
                                                    return_uncertainty=True)[1], rtol=1e-12)
    coverage = np.mean(np.abs(y - exact) <= 2 * sigma)
    assert 0.9 <= coverage <= 0.995, coverage  # fresh points: measured 0.942

    rtol = 0.05
    bad = x[:, 0] < 0.25
    assert np.max(np.abs(plain - exact)[bad] / exact[bad]) > rtol  # the model alone fails
    yg, info = amp.predict(x, rtol=rtol, return_info=True)
    np.testing.assert_array_equal(info["exact"], bad)
    assert info["n_exact"] == bad.sum() and info["k"] == amp.card["uncertainty"]["vouch_k"]
    np.testing.assert_allclose(yg[bad], exact[bad], rtol=1e-14, atol=0)
    np.testing.assert_array_equal(yg[~bad], plain[~bad])
    assert np.all(np.abs(yg - exact) <= rtol * np.abs(exact))
    np.testing.assert_array_equal(info["sigma"][bad], 0.0)
    np.testing.assert_array_equal(info["sigma_model"], sigma)
    # all three at once; a tighter rtol sends more points (all, here) to the process
    yg2, sig2, info2 = amp.predict(x, rtol=rtol, return_uncertainty=True, return_info=True)
    np.testing.assert_array_equal(yg2, yg)
    np.testing.assert_array_equal(sig2, info["sigma"])
    y3, info3 = amp.predict(x, rtol=1e-3, return_info=True)
    assert info3["exact"].all()
    np.testing.assert_allclose(y3, exact, rtol=1e-14)


def test_guard_on_the_f00_scale_for_f01(plugin):
    """f01 crosses zero: its guard compares k sigma with rtol times the exact f00."""
    import zoo

    amp = zoo.load("bump/2d/f01/R", registry=plugin["reg"])
    x = np.random.default_rng(6).random((2000, 2))
    exact = _exact("bump/2d/f01/R", x)
    f00 = _exact("bump/2d/f00/R", x)
    y, info = amp.predict(x, rtol=1e-6, return_info=True)
    assert info["scale"] == "f00"
    assert np.all(np.abs(y - exact) <= 1e-6 * f00)


def test_guard_names_the_rows_the_exact_function_cannot_evaluate(plugin, monkeypatch,
                                                                  tmp_path):
    """A point the process cannot evaluate (here: f11 at x1 exactly 0, refused like a
    degenerate phase-space point) among those the model cannot vouch for: NumericalError naming its
    row of x (found by halving the failed batch), through the API and through ``zoo
    predict`` (rows of the input, chunks already written kept)."""
    import zarr

    import zoo
    from zoo.errors import NumericalError

    proc = resolver.find_process("bump/2d/f11/R")
    real = proc.function

    def picky(x, term, helicity):
        if term == "f11" and np.any(x[:, 0] == 0.0):  # (the chain's own f00 is spared)
            raise NumericalError("a degenerate point in this batch")
        return real(x, term, helicity)

    monkeypatch.setattr(proc, "function", picky)
    amp = zoo.load("bump/2d/f11/R", registry=plugin["reg"])
    x = np.random.default_rng(8).random((4000, 2))
    x[[1234, 2345], 0] = 0.0  # in the cell x1 < 0.25 that the model cannot vouch for
    with pytest.raises(NumericalError, match=r"cannot evaluate x rows 1234, 2345 \(x\[1234\]"):
        amp.predict(x, rtol=0.05, return_info=True)
    y, sigma = amp.predict(x, return_uncertainty=True)  # the way out the message offers
    assert np.isfinite(y).all() and np.isfinite(sigma).all()

    src = tmp_path / "pts.zarr"
    zarr.open_group(str(src), mode="w").create_array("x", data=x[:600], chunks=(200, 2))
    x600 = x[:600].copy()
    x600[300, 0] = 0.0
    zarr.open_group(str(src), mode="r+")["x"][...] = x600
    out = tmp_path / "g.zarr"
    res = CliRunner().invoke(_cli(), ["predict", "bump/2d/f11/R", "--input", str(src),
                                      "--output", str(out), "--chunk", "256", "--registry",
                                      str(plugin["reg"]), "--rtol", "0.05"])
    assert res.exit_code == 1, res.output
    assert "input rows 256..511 (row numbers below count from 256)" in res.output
    assert "x row 44 " in res.output
    g = zarr.open_group(str(out), mode="r")  # the first chunk was written and stays
    np.testing.assert_allclose(g["y"][:256], amp.predict(x600[:256], rtol=0.05), rtol=1e-14)


def test_refusals(plugin, tmp_path):
    import zoo
    from zoo.model import Model
    from zoo.transform import Chain

    cls = plugin_manager.get("regressors", "polyfit")
    x = np.random.default_rng(1).random((300, 3))
    y = 1 + x[:, 0] + x[:, 1] * x[:, 2]
    reg = tmp_path / "reg"
    # no validation data: no uncertainty (an artifact without it loads and says so)
    zoo.publish(Model("thirdparty/3d/f00/one", cls().fit(x, y), Chain([])), registry=reg,
                reference_x=x[:50])
    amp = zoo.load("thirdparty/3d/f00/one", registry=reg)
    assert not amp.model.has_uncertainty and amp.predict(x[:5]).shape == (5,)
    with pytest.raises(NoUncertaintyError, match="retrain"):
        amp.predict(x, return_uncertainty=True)
    with pytest.raises(NoUncertaintyError, match="retrain"):
        amp.predict(x, rtol=1e-3)
    # an uncertainty, never calibrated: the fix is zoo calibrate
    fitted = cls().fit(x[:200], y[:200], x_val=x[200:], y_val=y[200:])
    model = Model("thirdparty/3d/f00/two", fitted, Chain([]))
    assert model.has_uncertainty
    with pytest.raises(NoUncertaintyError, match="zoo calibrate"):
        model.predict(x, return_uncertainty=True)
    # calibrated but without a process: sigma yes, guard refused
    ys, s_raw = model.predict_uncertainty_raw(x)
    model.card["uncertainty"] = unc.calibrate(y, ys, s_raw)
    assert model.predict(x, return_uncertainty=True)[1].shape == (300,)
    zoo.publish(model, registry=reg, reference_x=x[:50])
    amp = zoo.load("thirdparty/3d/f00/two", registry=reg)
    assert amp.predict(x, return_uncertainty=True)[1].shape == (300,)
    with pytest.raises(ExactUnavailableError, match="process"):
        amp.predict(x, rtol=1e-3)
    guarded = zoo.load(F11, registry=plugin["reg"])
    for bad in (0.0, -1.0, float("nan"), "x"):
        with pytest.raises(ConfigError, match="rtol"):
            guarded.predict(x[:, :2], rtol=bad)
    with pytest.raises(ConfigError, match="rtol"):
        guarded.predict(x[:, :2], return_info=True)


def _cli():
    from zoo.cli import ZooGroup, cli
    from zoo.cli.jobs import register_jobs
    from zoo.cli.predict import register_commands

    group = ZooGroup("zoo")
    for name in ("export", "list", "show"):
        group.add_command(cli.commands[name])
    register_jobs(group)
    register_commands(group)
    return group


def _run(*args):
    res = CliRunner().invoke(_cli(), [str(a) for a in args], catch_exceptions=False)
    return res


def test_cli_predict_sigma_and_guard_columns_also_on_dask(plugin, tmp_path):
    import zarr

    import zoo

    label, reg = "bump/2d/f11/R", plugin["reg"]
    x = np.random.default_rng(7).random((600, 2))
    src = tmp_path / "pts.zarr"
    zarr.open_group(str(src), mode="w").create_array("x", data=x, chunks=(200, 2))
    amp = zoo.load(label, registry=reg)
    y_u, s_u = amp.predict(x, return_uncertainty=True)
    y_g, info = amp.predict(x, rtol=0.05, return_info=True)
    runs = {"u": ["--uncertainty"], "g": ["--rtol", "0.05", "--uncertainty"],
            "d": ["--rtol", "0.05", "--uncertainty", "--dask", "local", "--workers", "1"]}
    for key, extra in runs.items():
        out = tmp_path / f"{key}.zarr"
        res = _run("predict", label, "--input", src, "--output", out, "--chunk", 256,
                   "--registry", reg, *extra)
        assert res.exit_code == 0, res.output
        g = zarr.open_group(str(out), mode="r")
        if key == "u":
            assert "exact" not in g.array_keys()
            np.testing.assert_array_equal(g["y"][...], y_u)
            np.testing.assert_array_equal(g["sigma"][...], s_u)
            continue
        assert f"{int(info['exact'].sum())} of 600 points answered by the exact" in res.output
        np.testing.assert_array_equal(g["exact"][...], info["exact"])
        np.testing.assert_allclose(g["y"][...], y_g, rtol=1e-14)
        np.testing.assert_array_equal(g["sigma"][...], info["sigma"])
    # refused before anything is written: no uncertainty on this label's model
    res = _run("predict", "bump/2d/f11/R", "--input", src, "--output", tmp_path / "no.zarr",
               "--registry", tmp_path / "empty")
    assert res.exit_code == 3


def test_onnx_sigma_output_equals_the_python_sigma(plugin, tmp_path):
    import onnxruntime as ort

    import zoo

    label = "bump/2d/f11/R"
    out = tmp_path / "m.onnx"
    res = _run("export", label, "--format", "onnx", "--to", out, "--registry", plugin["reg"])
    assert res.exit_code == 0 and "outputs y, sigma" in res.output, res.output
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["y", "sigma"]
    x = np.random.default_rng(8).random((500, 2))
    f00 = _exact("bump/2d/f00/R", x)
    y_o, s_o = sess.run(None, {"x": x, "f00": f00})
    y, s = zoo.load(label, registry=plugin["reg"]).predict(x, return_uncertainty=True)
    np.testing.assert_allclose(y_o, y, rtol=1e-12)
    np.testing.assert_allclose(s_o, s, rtol=1e-12)


def test_calibrate_publishes_a_new_version_listed_by_its_fields(plugin, tmp_path):
    import zoo

    reg = plugin["reg"]
    before = zoo.list("bump/*", registry=reg, all_versions=True)
    res = _run("calibrate", F11, "--n", 3000, "--faces", 0.3, "--registry", reg, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["published"].startswith(F11 + "@")
    rec = out["uncertainty"]
    assert rec["n_calibration"] == 3000 and "0.3 within 1e-06..0.001" in rec["calibration_source"]
    assert rec["calibrated_from"].startswith(F11 + "@1")
    assert len(zoo.list("bump/*", registry=reg, all_versions=True)) == len(before) + 1
    new = zoo.load(out["published"], registry=reg)
    assert new.card["uncertainty"] == rec
    res = _run("show", out["published"], "--registry", reg)
    assert res.exit_code == 0 and "coverage 1σ" in res.output, res.output
    res = _run("list", "bump/*", "--registry", reg, "--all-versions", "--json", "--where",
               f"n_calibration=={rec['n_calibration']}", "--where", "coverage_2sigma>=0.5")
    assert [e["label"] for e in json.loads(res.output)] == [out["published"]]
    # zoo evaluate: the stored calibration measured on data, and the pull panel
    from zoo.training.generate import generate

    data = tmp_path / "d.zarr"
    generate(plugin_manager.get("processes", "bump/2d"), data, n=500, seed=3, chunk=500)
    png = tmp_path / "h.png"
    res = _run("evaluate", out["published"], "--data", data, "--histogram", png, "--registry", reg)
    assert res.exit_code == 0, res.output
    assert "uncertainty on these data: coverage" in res.output and png.stat().st_size > 0
