"""A third-party regressor plugin gives itself an ONNX form and a fast path through the
plugin interface, end to end: pip-installed, trained, published, exported with
``zoo export --format onnx``, run in onnxruntime, and evaluated by ``zoo predict``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from zoo import plugin_manager

HERE = Path(__file__).resolve().parent
LABEL = "thirdparty/3d/f00/one"


@pytest.fixture
def polyfit(tmp_path, monkeypatch):
    """The throwaway plugin package, pip-installed and found through its entry point."""
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--target", str(target), str(HERE / "thirdparty_plugin")],
        check=True, capture_output=True,
    )
    monkeypatch.syspath_prepend(str(target))
    monkeypatch.delitem(sys.modules, "zoo_polyfit_plugin", raising=False)
    plugin_manager.reset()
    try:
        cls = plugin_manager.get("regressors", "polyfit")
        yield cls, sys.modules["zoo_polyfit_plugin"]
    finally:
        plugin_manager.reset()


def _truth(x):
    return 1.0 + x[:, 0] + 2.0 * x[:, 1] * x[:, 2] + 0.5 * x[:, 2] ** 2


def _cli():
    from zoo.cli import ZooGroup, cli
    from zoo.cli.predict import register_commands

    group = ZooGroup("zoo")
    group.add_command(cli.commands["export"])
    register_commands(group)
    return group


def test_thirdparty_onnx_form_and_fast_path_end_to_end(tmp_path, polyfit):
    import onnxruntime as ort
    import zarr

    import zoo
    from zoo.model import Model
    from zoo.runtime.inference import fast_predictor
    from zoo.transform import Batch, Chain

    cls, module = polyfit
    assert plugin_manager.owner("regressors", "polyfit").distribution == "zoo-polyfit-plugin"
    rng = np.random.default_rng(0)
    x = rng.random((500, 3))
    chain = Chain([plugin_manager.get("transforms", "standardise")(target="x"),
                   plugin_manager.get("transforms", "standardise")(target="y")])
    model = Model(LABEL, cls(degree=2), chain)
    batch = chain.fit_forward(Batch(x=x, y=_truth(x)), model.context)
    model.regressor.fit(batch.x, batch.y)
    registry = tmp_path / "reg"
    zoo.publish(model, registry=registry, reference_x=x[:100])
    amp = zoo.load(f"{LABEL}@latest", registry=registry)

    # the fast path is the plugin's own and equals its predict
    reg = amp.model.regressor
    pred = fast_predictor(reg, chunk=64)
    assert pred.backend == "polyfit-chunked"
    xt = rng.random((300, 3))
    np.testing.assert_allclose(pred(xt), reg.predict(xt), rtol=1e-12, atol=1e-12)
    assert fast_predictor(reg, backend="native").backend == "native"

    # zoo export --format onnx, then onnxruntime alone reproduces predict
    out = CliRunner().invoke(_cli(), ["export", LABEL, "--format", "onnx", "--to",
                                      str(tmp_path / "p.onnx"), "--registry", str(registry)])
    assert out.exit_code == 0, out.output
    sess = ort.InferenceSession(str(tmp_path / "p.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["x"]
    got = sess.run(["y"], {"x": xt})[0]  # 300 rows: the graph's loop over 128-row passes
    want = amp.predict(xt)
    assert got.shape == (300,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert sess.get_modelmeta().custom_metadata_map["zoo.rows_per_pass"] == "128"
    np.testing.assert_allclose(sess.run(["y"], {"x": xt[:1]})[0], want[:1], rtol=1e-12)
    np.testing.assert_allclose(want, _truth(xt), rtol=1e-9)

    # zoo predict on npz and zarr points goes through the plugin's fast path
    src_npz = tmp_path / "pts.npz"
    np.savez(src_npz, x=xt)
    src_zarr = tmp_path / "pts.zarr"
    zarr.open_group(str(src_zarr), mode="w").create_array("x", data=xt, chunks=(100, 3))
    for src in (src_npz, src_zarr):
        before = module.CALLS["fast"]
        dst = tmp_path / f"y-{src.suffix[1:]}.zarr"
        res = CliRunner().invoke(_cli(), ["predict", LABEL, "--input", str(src), "--output",
                                          str(dst), "--chunk", "128", "--registry",
                                          str(registry)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        assert module.CALLS["fast"] >= before + 3  # 300 rows in chunks of 128
        y = zarr.open_group(str(dst), mode="r")["y"][...]
        np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


def test_a_regressor_without_onnx_nodes_is_refused_by_zoo_export(tmp_path):
    """The default Regressor.onnx_nodes refuses (here: the built-in ``chebyshev``, which has
    no ONNX form), and ``zoo export`` says what to do; nothing is written."""
    import zoo
    from zoo.model import Model
    from zoo.transform import Chain

    x = np.random.default_rng(1).random((200, 3))
    reg = plugin_manager.get("regressors", "chebyshev")(degree=3).fit(x, _truth(x))
    zoo.publish(Model(LABEL, reg, Chain([])), registry=tmp_path / "reg", reference_x=x[:50])
    out = CliRunner().invoke(_cli(), ["export", LABEL, "--format", "onnx", "--to",
                                      str(tmp_path / "n.onnx"), "--registry",
                                      str(tmp_path / "reg")])
    assert out.exit_code == 2, out.output
    assert "regressor 'chebyshev' has no ONNX export" in out.output
    assert "Regressor.onnx_nodes" in out.output and "zoo export LABEL@N" in out.output
    assert not (tmp_path / "n.onnx").exists()
