"""Where a loaded amplitude runs: ``zoo.load(..., device=...)``.

Artifacts are verified on the CPU (where their reference points were recorded) and only
then moved. The CUDA tests run where torch sees a GPU and are skipped elsewhere.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo.api import load
from zoo.errors import ConfigError
from zoo.registry.registry import Registry

LABELS = {e["label"] for e in Registry.bundled().list(all_versions=True)}
NET = "qqbar-zz-4l/8d/f11/LLL@1"  # the bundled sk-DNN (the default, @4, is qqzz-factorised)
TREE_OR_POLY = "qqbar-zz-4l/2d/f11/L--@1"  # the bundled Chebyshev polynomial (CPU only)
pytestmark = pytest.mark.skipif(
    NET not in LABELS, reason="registry/bundled has no 8D sk-DNN")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_cpu_device_keeps_network_on_cpu() -> None:
    amp = load(NET, device="cpu")
    assert amp.model.regressor.device_ == "cpu"
    x = np.random.default_rng(3).random((64, 8))
    assert np.all(np.isfinite(amp.predict(x)))


def test_unknown_device_names_the_choices() -> None:
    with pytest.raises(ConfigError, match="'cpu', 'cuda' or 'cuda:N'"):
        load(NET, device="tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_gpu_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no CUDA device"):
        load(NET, device="cuda")


def test_auto_on_cpu_only_machine_or_gpu() -> None:
    amp = load(NET)  # device="auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert amp.model.regressor.device_.startswith(expected)


def test_cpu_only_regressor_refuses_gpu_but_accepts_auto() -> None:
    if TREE_OR_POLY not in LABELS:
        pytest.skip("no bundled Chebyshev model")
    # not at x2 = 1/2: there the 2D L-- tree vanishes exactly (Bose symmetry; the closed-form
    # f00 is 0) and an f00-normalised model refuses the point
    assert load(TREE_OR_POLY, device="auto").predict(np.array([[0.5, 0.3]])).shape == (1,)
    with pytest.raises(ConfigError, match="runs on the CPU only"):
        load(TREE_OR_POLY, device="cuda")


@cuda
def test_gpu_prediction_matches_cpu_and_verifies() -> None:
    """float32 network: GPU and CPU agree to 1e-4 relative (summation order only)."""
    x = np.random.default_rng(4).random((4096, 8))
    y_cpu = load(NET, device="cpu").predict(x)
    amp = load(NET, device="cuda")
    assert amp.model.regressor.device_.startswith("cuda")
    y_gpu = amp.predict(x)
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=1e-4)
    amp.verify()  # re-predicted on the CPU, then back on the GPU
    assert amp.model.regressor.device_.startswith("cuda")


def test_predict_cli_device_option(tmp_path) -> None:
    """`zoo predict --device cpu` predicts; an unknown device is a usage error (exit 2)."""
    import click
    import zarr
    from click.testing import CliRunner

    from zoo.cli.predict import register_commands

    cli = click.Group("zoo")
    register_commands(cli)  # as zoo.cli.main does

    src = tmp_path / "x.npz"
    x = np.random.default_rng(6).random((50, 8))
    np.savez(src, x=x)
    ok = CliRunner().invoke(cli, ["predict", NET, "--input", str(src), "--output",
                                  str(tmp_path / "y.zarr"), "--device", "cpu"])
    assert ok.exit_code == 0, ok.output
    y = np.asarray(zarr.open_group(str(tmp_path / "y.zarr"), mode="r")["y"][...])
    np.testing.assert_allclose(y, load(NET, device="cpu").predict(x), rtol=1e-12)
    bad = CliRunner().invoke(cli, ["predict", NET, "--input", str(src), "--output",
                                   str(tmp_path / "z.zarr"), "--device", "tpu"])
    assert bad.exit_code == 2 and "cuda:N" in bad.output
