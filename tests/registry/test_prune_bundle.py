"""``scripts/prune_bundle.py``: keep each label's default (latest = best) and the named
versions, retire the rest through the registry so that their numbers are never reused."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.registry.registry import Registry

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "prune_bundle.py"
OTHER = "qqbar-zz-4l/4d/f11/L--"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="scripts/ not in this checkout")


def _main(argv: list[str]) -> int:
    spec = importlib.util.spec_from_file_location("prune_bundle", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main(argv)


def _m(f01: float) -> dict[str, float]:
    return {"frac_lt_0p1pct": f01, "frac_lt_1pct": 0.999}


def _labels(reg: Registry) -> list[str]:
    return [e["label"] for e in reg.list(all_versions=True)]


def test_prune_keeps_defaults_and_named_versions(tmp_path, make_artifact: MakeArtifact):
    reg = Registry(tmp_path / "bundle")
    for f01 in (0.2, 0.9):
        reg.publish(make_artifact(metrics=_m(f01)))
    for f01 in (0.5, 0.6, 0.7):
        reg.publish(make_artifact(OTHER, metrics=_m(f01)))
    root = str(tmp_path / "bundle")
    assert _main(["--registry", root, "--keep", f"{OTHER}@1", "--dry-run"]) == 0
    assert len(_labels(reg)) == 5  # a dry run removes nothing
    assert _main(["--registry", root, "--keep", f"{OTHER}@1"]) == 0
    assert _labels(reg) == [f"{OTHER}@1", f"{OTHER}@3", f"{LABEL}@2"]
    assert reg.resolve(f"{LABEL}@best") == reg.resolve(LABEL)  # the default stays the best
    assert str(reg.publish(make_artifact(metrics=_m(0.1)))) == f"{LABEL}@3"  # 1 is retired


def test_prune_refuses_a_label_whose_latest_is_not_its_best(tmp_path, make_artifact):
    reg = Registry(tmp_path / "bundle")
    reg.publish(make_artifact(metrics=_m(0.9)))
    reg.publish(make_artifact(metrics=_m(0.2)))
    with pytest.raises(SystemExit, match="latest @2 is not best @1"):
        _main(["--registry", str(tmp_path / "bundle")])
    assert _labels(reg) == [f"{LABEL}@1", f"{LABEL}@2"]
