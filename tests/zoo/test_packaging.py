"""The built wheel maps plugins/ and registry/ into `zoo` and declares the built-in plugins."""

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_layout_and_entry_points(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("amplitude_zoo-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "zoo/plugins/regressors/skdnn.py" in names
    assert "zoo/registry/registry.py" in names
    assert not any(n.startswith(("plugins/", "registry/")) for n in names)  # no top-level imports
    # every package folder in the source tree is shipped
    for folder in ("plugins", "registry"):
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.relative_to(ROOT).as_posix()
            assert f"zoo/{rel}" in names, f"{rel} missing from the wheel: add it to pyproject"
    # the bundled pretrained registry ships whole (card, manifest, weights, Zarr chunks),
    # packed as one tar.xz (registry/packed.py), in a wheel of at most 15 MB
    source = ROOT / "registry" / "bundled"
    bundled = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                     if p.is_file() and not p.name.startswith("."))
    assert not any(n.startswith("zoo/registry/bundled/") for n in names)
    with zipfile.ZipFile(wheel) as zf, zf.open("zoo/registry/bundled.tar.xz") as fh, \
            tarfile.open(fileobj=fh, mode="r:xz") as tar:
        assert sorted(tar.getnames()) == bundled
    assert wheel.stat().st_size <= 15_000_000, f"the wheel is {wheel.stat().st_size} bytes"
    # installed on its own, the wheel's plugins are found through its entry points
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    script = ("import zoo, zoo.plugin_manager as pm; "
              "print(zoo.__file__); print(sorted(pm.table('regressors'))); "
              "print(len(zoo.list(all_versions=True)))")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "ZOO_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, text=True,
                         capture_output=True, env=env)
    first, second, third = out.stdout.splitlines()[:3]
    assert first.startswith(str(target))
    assert second == "['catboost', 'chebyshev', 'dnn', 'pwcheb', 'qqzz-factorised', 'skdnn', 'xgboost']"
    assert int(third) == len({p.parent for p in source.rglob("card.json")})  # unpacked, listed
    assert "unpacking the bundled" in out.stderr

