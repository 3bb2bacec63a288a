"""A pretrained (bundled) amplitude exported with `zoo export --format onnx` answers the
physical question: run with onnxruntime and numpy only, it gives zoo.load(...).predict.

The exported graph takes x, and the leading-order f00 of the requested label at x only where
the process has no ONNX form of it (none of the shipped processes: the 2D/4D production
processes compute f00 inside the graph from the closed-form tree); any such input is fed here
from numpy arrays computed beforehand.
"""

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli

# not canonical: resolved onto L-+ / LLL through the symmetry map (for RRL it includes
# azimuthal half turns x -> x + 1/2 mod 1, and the 8D fold uses such maps too): the
# bundle's XGBoost ensemble (4D f01 L-+@1) and its sk-DNN (8D LLL@1; the defaults are
# qqzz-factorised models: tests/plugins/test_qqzz_factorised_onnx.py, test_trust_bundled.py
# and below).
LABELS = ["qqbar-zz-4l/4d/f01/L+-@1", "qqbar-zz-4l/8d/f11/RRL@1"]


@pytest.mark.parametrize("LABEL", LABELS)
def test_exported_pretrained_amplitude_matches_zoo(tmp_path, LABEL):
    dim = int(LABEL.split("/")[1][:-1])
    if not zoo.list(f"qqbar-zz-4l/{dim}d/f11/*", registry=zoo.bundled_registry()):
        pytest.skip(f"no bundled {dim}D model")
    amp = zoo.load(LABEL)
    x = np.random.default_rng(5).uniform(0.02, 0.98, size=(300, dim))
    want = amp.predict(x)
    process = amp.model.context.process
    f00 = process.function(x, "f00", LABEL.split("/")[-1].split("@")[0])  # the generator's LO input
    f00_sum = process.evaluate(x, ["f00"])["f00"].sum(axis=1)  # ... or summed over helicities
    out = CliRunner().invoke(cli, ["export", LABEL, "--format", "onnx", "--to", str(tmp_path / "a.onnx")])
    assert out.exit_code == 0, out.output
    del amp  # from here on: onnxruntime and numpy only

    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feeds = {"x": x}
    if "f00" in names:
        feeds["f00"] = f00
    if "f00_sum" in names:
        feeds["f00_sum"] = f00_sum
    got = sess.run(None, feeds)[0].reshape(-1)
    # float32 networks: rounding amplified by exp() and the inverse standardisation (the
    # float64 piecewise polynomial agrees far better)
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_readme_example_exports_the_8d_default_with_x_as_only_input(tmp_path):
    """The README's `zoo export qqbar-zz-4l/8d/f11/RRL --format onnx --to amp.onnx`: the
    default (qqzz-factorised) exports, takes x alone and gives zoo's prediction (1e-9)."""
    label = "qqbar-zz-4l/8d/f11/RRL"
    out = CliRunner().invoke(cli, ["export", label, "--format", "onnx", "--to",
                                   str(tmp_path / "amp.onnx")])
    assert out.exit_code == 0, out.output
    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "amp.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["x"]
    x = np.random.default_rng(6).random((64, 8))
    want = zoo.load(label).predict(x)
    np.testing.assert_allclose(sess.run(["y"], {"x": x})[0], want, rtol=1e-9)
