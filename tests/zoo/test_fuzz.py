"""Property-based fuzzing (hypothesis) of everything that reads untrusted input: the label
parser, the point loaders, the artifact loaders and bundle import.

The property: whatever the input, only :class:`ZooError` subclasses escape (or the call
succeeds with a consistent result), and nothing is written outside ``ZOO_HOME`` and the
registry being written. Examples are bounded and derandomised so CI is reproducible; set
``ZOO_FUZZ_EXAMPLES`` for a longer local run.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zoo
from zoo import errors
from zoo.labels import Label, matches, parse
from zoo.model import Model
from zoo.registry.manifest import build_manifest, dumps
from zoo.registry.registry import Registry
from zoo.transform import Chain

N = int(os.environ.get("ZOO_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=N, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
LABEL = "thirdparty/3d/f00/one"

_label_chars = st.sampled_from(list("qbarz-4l/0123456789dfLR+_@sumtex*?[] .\\\n\x00é"))
_labelish = st.one_of(
    st.text(_label_chars, max_size=40),
    st.text(max_size=300),
    st.builds(lambda a, d, t, h, s: f"{a}/{d}d/{t}/{h}{s}",
              st.text(st.sampled_from("abz-09"), max_size=70),
              st.integers(min_value=-5, max_value=10**30),
              st.text(st.sampled_from("fz019_"), max_size=40),
              st.text(st.sampled_from("LR+-0_s"), max_size=40),
              st.one_of(st.just(""), st.builds(lambda v: f"@{v}", st.integers(-3, 10**20)),
                        st.builds(lambda v: f"@{v}", st.text(max_size=70)))),
)


@FUZZ
@given(_labelish)
def test_label_parser_round_trips_or_refuses(text: str) -> None:
    try:
        lab = parse(text)
    except errors.LabelSyntaxError as exc:
        assert len(str(exc)) < 600  # a message, not an echo of a hostile input
        return
    assert isinstance(lab, Label) and str(lab) == text and parse(str(lab)) == lab


@FUZZ
@given(_labelish)
def test_patterns_match_or_refuse(pattern: str) -> None:
    try:
        assert matches("qqbar-zz-4l/8d/f11/LLL", pattern) in (True, False)
    except errors.LabelSyntaxError:
        pass


# -- point loaders ------------------------------------------------------------------------------
@FUZZ
@given(st.binary(max_size=400), st.sampled_from([".csv", ".npz"]),
       st.sampled_from([None, True, False]))
def test_point_files_load_or_refuse(tmp_path: Path, data: bytes, suffix: str,
                                    header: bool | None) -> None:
    from zoo.runtime.distributed import open_points

    path = tmp_path / f"p{suffix}"
    path.write_bytes(data)
    try:
        src = open_points(path, header=header)
        x, _ = src.rows(0, src.n)
        assert x.ndim == 2
    except errors.ZooError:
        pass


@FUZZ
@given(st.lists(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                   st.integers(-3, 3), st.text(max_size=2)),
                         min_size=0, max_size=4), max_size=4))
def test_points_validate_or_refuse(rows: list) -> None:
    from zoo.process import validate_points

    try:
        x = validate_points(rows, 3)
    except errors.InputError:
        return
    assert x.dtype == np.float64 and x.shape[1] == 3
    assert np.isfinite(x).all() and (x >= 0).all() and (x <= 1).all()


# -- artifacts and bundles -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> Path:
    """One genuine artifact directory (a tiny network: safetensors, zarr, JSON)."""
    from zoo import plugin_manager

    x = np.random.default_rng(0).random((128, 3))
    reg = plugin_manager.get("regressors", "dnn")(width=4, depth=1, epochs=1, patience=None,
                                                  n_threads=1, device="cpu")
    model = Model(LABEL, reg.fit(x, 1.0 + x.sum(axis=1)), Chain([]))
    root = tmp_path_factory.mktemp("genuine")
    registry = Registry(root / "reg")
    lab = zoo.publish(model, registry=registry, reference_x=x[:16])
    return registry.open(lab)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _mutate(data: bytes, how: int, pos: int, junk: bytes) -> bytes:
    if not data:
        return junk
    pos %= len(data)
    if how == 0:  # flip a byte
        return data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]
    if how == 1:  # truncate
        return data[:pos]
    if how == 2:  # splice junk in
        return data[:pos] + junk + data[pos:]
    return junk  # replace whole


@FUZZ
@given(st.data())
def test_tampered_artifacts_load_or_refuse(tmp_path: Path, genuine: Path, data) -> None:
    """An attacker edits one file and re-hashes the manifest: load and verify raise only
    ZooErrors (or, for a harmless edit, still verify)."""
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    art = workdir / "a"
    shutil.copytree(genuine, art)
    for p in [art, *art.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    names = [n for n in _files(art) if n != "manifest.json"]
    target = art / data.draw(st.sampled_from(names))
    new = _mutate(target.read_bytes(), data.draw(st.integers(0, 3)),
                  data.draw(st.integers(0, 10**6)), data.draw(st.binary(max_size=64)))
    target.write_bytes(new)
    if data.draw(st.booleans()):
        (art / "manifest.json").write_bytes(dumps(build_manifest(art)))
    reg = Registry(workdir / "reg")
    try:
        lab = reg.publish(art)
        amp = zoo.load(lab, registry=reg, verify=True)
        amp.predict(np.full((2, 3), 0.5))
    except errors.ZooError:
        pass


@FUZZ
@given(st.data())
def test_bundle_import_is_all_or_nothing(tmp_path: Path, genuine: Path,
                                         monkeypatch: pytest.MonkeyPatch, data) -> None:
    """Corrupted, truncated or padded bundles (and hostile members) are imported whole or
    refused with a ZooError; nothing is written outside ZOO_HOME and the registry."""
    workdir = Path(tempfile.mkdtemp(dir=tmp_path))
    systmp = workdir / "systmp"
    systmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(systmp))
    monkeypatch.setattr(tempfile, "tempdir", None)
    home = workdir / "home"
    monkeypatch.setenv("ZOO_HOME", str(home))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for rel in _files(genuine):
            tar.add(genuine / rel, arcname=rel)
        extra = data.draw(st.sampled_from(["none", "long", "dotdot", "abs", "link", "dup",
                                           "big"]))
        if extra != "none":
            info = tarfile.TarInfo({"long": "m/" + "x" * 300, "dotdot": "../evil",
                                    "abs": "/tmp/evil", "link": "model/l", "dup": "card.json",
                                    "big": "model/zeros.bin"}[extra])
            if extra == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                payload = bytes(1 << 20) if extra == "big" else b"{}"
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
    raw = _mutate(buf.getvalue(), data.draw(st.integers(0, 4)),
                  data.draw(st.integers(0, 10**6)), data.draw(st.binary(max_size=64)))
    bundle = workdir / "b.tar.gz"
    bundle.write_bytes(raw)
    dest = home / "registry"
    before = set(_files(workdir))
    try:
        got = Registry(dest).import_bundle(bundle)
    except errors.ZooError:
        assert not (dest / "artifacts").exists() or _files(dest / "artifacts") == []
    else:
        assert json.loads((Registry(dest).open(got) / "card.json").read_text())["label"] == LABEL
    after = set(_files(workdir))
    outside = {f for f in after - before if not f.startswith("home/")}
    assert outside == set()
    assert not Path("/tmp/evil").exists()
