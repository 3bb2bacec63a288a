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

LABEL = "qqbar-zz-4l/4d/f11/R++"  # not canonical: resolved onto L-- through the symmetry map


def test_exported_pretrained_amplitude_matches_zoo(tmp_path):
    if not zoo.list("qqbar-zz-4l/4d/f11/*", registry=zoo.bundled_registry()):
        pytest.skip("no bundled 4D model")
    amp = zoo.load(LABEL)
    x = np.random.default_rng(5).uniform(0.02, 0.98, size=(300, 4))
    want = amp.predict(x)
    f00 = amp.model.context.process.function(x, "f00", "R++")  # the generator's LO input
    out = CliRunner().invoke(cli, ["export", LABEL, "--format", "onnx", "--to", str(tmp_path / "a.onnx")])
    assert out.exit_code == 0, out.output
    del amp  # from here on: onnxruntime and numpy only

    import onnxruntime as ort

    sess = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feeds = {"x": x}
    if "f00" in names:
        feeds["f00"] = f00
    got = sess.run(None, feeds)[0].reshape(-1)
    # float32 network: rounding amplified by exp() and the inverse standardisation
    np.testing.assert_allclose(got, want, rtol=2e-5)
