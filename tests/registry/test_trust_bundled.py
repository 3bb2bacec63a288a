"""The shipped defaults carry a calibrated uncertainty (issue 16): the card fields, and on
fresh uniform points (seeds apart from scripts/calibrate_defaults.py's 1601/1602 and
scripts/trust_acceptance.py's 1701) the 2-sigma coverage through a non-canonical label."""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo import resolver
from zoo.registry.registry import Registry
from zoo.runtime.uncertainty import CARD_FIELDS

DEFAULTS = sorted(e["label"] for e in Registry.bundled().list()
                  if e["card"]["regressor"]["name"] in ("pwcheb", "qqzz-factorised"))
pytestmark = pytest.mark.skipif(not DEFAULTS, reason="registry/bundled is empty")


@pytest.mark.parametrize("label", DEFAULTS)
def test_every_default_has_a_calibrated_uncertainty(label: str) -> None:
    card = zoo.load(label, verify=False).card
    unc = card.get("uncertainty")
    assert unc is not None, f"{label}: no card['uncertainty'] (scripts/calibrate_defaults.py)"
    assert set(CARD_FIELDS) <= set(unc)
    assert unc["calibration_scale"] > 0 and unc["n_calibration"] >= 1000
    assert 0.9 <= unc["coverage_2sigma"] <= 1.0


#: (label asked for, fresh uniform points): 8D through parity (x2 -> 1 - x2), 4D through CP
CASES = [("qqbar-zz-4l/8d/f11/RRR", 4000), ("qqbar-zz-4l/4d/f11/L++", 600)]


@pytest.mark.parametrize("label,n", CASES)
def test_two_sigma_coverage_on_fresh_points(label: str, n: int) -> None:
    """2-sigma coverage in [0.85, 0.999] (the acceptance band [0.90, 0.995] widened by the
    binomial spread of n points: 0.95 +- 4 sd at n = 600 is +-0.036)."""
    amp = zoo.load(label)
    dim = amp.dimension
    x = np.random.default_rng([20_261_216, dim]).random((n, dim))
    y, s = amp.predict(x, return_uncertainty=True)
    hel = label.rsplit("/", 1)[1]
    t = resolver.find_process(amp.label).function(x, "f11", hel)
    # predict may take the compiled batch path, summing in another order: float rounding
    np.testing.assert_allclose(y, amp.predict(x), rtol=1e-12, atol=0)
    cov = float(np.mean(np.abs(y - t) <= 2.0 * s))
    assert 0.85 <= cov <= 0.999, cov


def test_exported_2d_default_carries_its_sigma(tmp_path) -> None:
    """The ONNX export of a shipped pwcheb default has the calibrated sigma as its second
    output, equal to predict's: y to 1e-9; sigma to 1e-2 (the central difference through the
    log step cancels up to ~13 digits where sigma is tiny against y, so the last bits of ONNX's and
    numpy's exp show: sigma to 1e-2, measured 1.7e-3)."""
    ort = pytest.importorskip("onnxruntime")
    from click.testing import CliRunner

    from zoo.cli import cli

    label = "qqbar-zz-4l/2d/f11/R++"
    amp = zoo.load(label)
    if amp.model.regressor.name != "pwcheb":
        pytest.skip("the 2D default is no longer a pwcheb model")
    x = np.random.default_rng(9).uniform(0.02, 0.98, size=(200, 2))
    y, s = amp.predict(x, return_uncertainty=True)
    out = CliRunner().invoke(cli, ["export", label, "--format", "onnx", "--to",
                                   str(tmp_path / "a.onnx")])
    assert out.exit_code == 0, out.output
    sess = ort.InferenceSession(str(tmp_path / "a.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    assert "sigma" in names
    assert [i.name for i in sess.get_inputs()] == ["x"]  # f00 is computed in the graph
    got = dict(zip(names, sess.run(None, {"x": x})))
    np.testing.assert_allclose(got["y"].reshape(-1), y, rtol=1e-9)
    np.testing.assert_allclose(got["sigma"].reshape(-1), s, rtol=1e-2)
