"""``scripts/bench_table1.py --quick`` end to end on 2D (tiny sizes): report, results,
publishing only what beats the registry's best."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_table1.py"
pytestmark = pytest.mark.skipif(not SCRIPT.exists(), reason="scripts/ not in this checkout")


def _load():
    spec = importlib.util.spec_from_file_location("bench_table1", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_quick_run_collect_and_publish_only_improvements(tmp_path, capsys):
    mod = _load()
    work, reg = tmp_path / "work", tmp_path / "registry"
    args = ["--quick", "--dims", "2", "--terms", "f11", "--helicities", "L-+",
            "--regressors", "pwcheb,pwcheb+sum", "--work", str(work), "--n-test", "3000"]
    assert mod.main(args) == 0
    rows = json.loads((work / "results_2_f11.json").read_text())
    assert {r["regressor"] for r in rows} == {"pwcheb", "pwcheb+sum"}
    for r in rows:
        assert 0.0 <= r["frac_lt_0p1pct"] <= r["frac_lt_1pct"] <= 1.0
    assert "qqbar-zz-4l/2d/f11/L-+" in (work / "report.md").read_text()
    collect = ["--collect", "--work", str(work), "--publish", "--registry", str(reg)]
    assert mod.main(collect) == 0
    assert "published qqbar-zz-4l/2d/f11/L-+@1" in capsys.readouterr().out
    assert mod.main(collect) == 0  # the same models again: nothing better, nothing published
    out = capsys.readouterr().out
    assert "kept qqbar-zz-4l/2d/f11/L-+" in out and "published" not in out
