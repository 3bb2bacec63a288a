"""A pretrained (bundled) amplitude exported with `zoo export --format onnx` answers the
physical question: run with onnxruntime and numpy only, it gives zoo.load(...).predict.

The exported graph takes x and the leading-order f00 of the requested label at x (an event
generator has it); here f00 is computed once beforehand and passed in as a numpy array.
"""

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli

# not canonical: resolved onto L-- / LLL through the symmetry map (for RRL it includes
# azimuthal half turns x -> x + 1/2 mod 1, and the 8D fold uses such maps too): the
# bundle's piecewise polynomial (2D L--@3, the default) and its sk-DNN (8D LLL@1; the
# default 8D version is a qqzz-factorised model, which has no ONNX form: tested below).
LABELS = ["qqbar-zz-4l/2d/f11/R++@3", "qqbar-zz-4l/8d/f11/RRL@1"]


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


def test_a_model_without_onnx_form_is_refused_with_the_way_out(tmp_path):
    """The best 8D version is a qqzz-factorised model: the export says so and how to go on."""
    label = "qqbar-zz-4l/8d/f11/RRL"
    if zoo.load(label).model.regressor.name != "qqzz-factorised":
        pytest.skip("the best bundled 8D model has an ONNX form")
    out = CliRunner().invoke(cli, ["export", label, "--format", "onnx", "--to",
                                   str(tmp_path / "b.onnx")])
    assert out.exit_code != 0
    assert "no ONNX export" in out.output and "@N" in out.output
    assert not (tmp_path / "b.onnx").exists()
