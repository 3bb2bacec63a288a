"""Progress and logs go to stderr as plain lines when stderr is not a terminal; stdout keeps
results only; -q silences them; the training libraries' chatter goes to the debug log."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def _zoo(*args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "ZOO_PROGRESS_INTERVAL": "0", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "zoo.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_generate_reports_rate_and_eta_on_stderr(tmp_path: Path) -> None:
    out = _zoo("generate", "qqbar-zz-4l/8d", "--n", "9000", "--chunk", "3000", "--out",
               str(tmp_path / "d.zarr"))
    assert out.returncode == 0, out.stderr
    assert "points/s" in out.stderr and "ETA" in out.stderr and "done" in out.stderr
    assert out.stdout.strip().startswith("wrote 9000 points")
    assert "points/s" not in out.stdout  # stdout: the result alone
    quiet = _zoo("-q", "generate", "qqbar-zz-4l/8d", "--n", "3000", "--out",
                 str(tmp_path / "e.zarr"))
    assert quiet.returncode == 0 and quiet.stderr == ""


@pytest.mark.timeout(300)
def test_training_chatter_never_reaches_stdout(tmp_path: Path) -> None:
    args = ("train", "--label", "qqbar-zz-4l/8d/f11/sum", "--regressor", "xgboost",
            "--param", "n_estimators=60", "--param", "max_depth=3", "--n", "1500")
    out = _zoo("-v", *args)
    assert out.returncode == 0, out.stderr
    assert "rmse" not in out.stdout and "rmse" in out.stderr  # per-round metrics: debug log
    assert "boosting (xgboost)" in out.stderr
    assert "|δ| < 1%" in out.stdout  # the precision table is the result
    plain = _zoo(*args)
    assert plain.returncode == 0 and "rmse" not in plain.stdout + plain.stderr


def test_resolve_and_verify_json(tmp_path: Path) -> None:
    out = _zoo("resolve", "qqbar-zz-4l/4d/f11/R++", "--json")
    doc = json.loads(out.stdout)
    assert doc["canonical"] == "qqbar-zz-4l/4d/f11/L--" and doc["via"] == "parity"
    out = _zoo("verify", "qqbar-zz-4l/2d/f11/R++", "--json")
    assert out.returncode == 0, out.stderr
    (row,) = json.loads(out.stdout)
    assert row["ok"] and row["label"].startswith("qqbar-zz-4l/2d/f11/L--@")
