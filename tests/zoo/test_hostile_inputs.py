"""Regression tests of the hostile-input findings (issue 18): each one once silently wrong,
unbounded, hanging or a raw traceback; now a clear ZooError (or the right answer)."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo import errors
from zoo.cli import cli
from zoo.cli.jobs import register_jobs
from zoo.cli.predict import register_commands
from zoo.model import Model
from zoo.registry.manifest import build_manifest, dumps
from zoo.registry.registry import Registry
from zoo.transform import Chain

register_jobs(cli)
register_commands(cli)

THIRD = "thirdparty/3d/f00/one"  # no process plugin: canonical by definition
CANON = "qqbar-zz-4l/4d/f11/L-+"
NONCANON = "qqbar-zz-4l/4d/f11/R+-"  # the quark-antiquark image of CANON


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _dnn_model(label: str, dim: int) -> tuple[Model, np.ndarray]:
    """A tiny network (weights in safetensors), fitted in a second."""
    from zoo import plugin_manager

    x = np.random.default_rng(0).random((256, dim))
    y = 1.0 + x.sum(axis=1)
    reg = plugin_manager.get("regressors", "dnn")(width=8, depth=2, epochs=2, patience=None,
                                                  n_threads=1, device="cpu")
    return Model(label, reg.fit(x, y), Chain([])), x


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return Path(os.environ["ZOO_HOME"])


@pytest.fixture
def third_party(tmp_path: Path) -> tuple[Registry, Path]:
    """A registry holding one genuine network artifact; returns it and its directory."""
    reg = Registry(tmp_path / "reg")
    model, x = _dnn_model(THIRD, 3)
    lab = zoo.publish(model, registry=reg, reference_x=x[:32])
    return reg, reg.open(lab)


def _rehash(artifact: Path) -> None:
    """What an attacker does after editing a file: make the manifest match again."""
    (artifact / "manifest.json").write_bytes(dumps(build_manifest(artifact)))


def _editable_copy(reg: Registry, tmp_path: Path) -> Path:
    src = reg.open(f"{THIRD}@1")
    dst = tmp_path / "edited"
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


# -- 1. silent wrong answer: headerless CSV in exponent notation ---------------------------------
def test_headerless_savetxt_csv_keeps_every_row(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    x = np.random.default_rng(1).random((50, 3))
    path = tmp_path / "p.csv"
    np.savetxt(path, x, delimiter=",")  # exponent notation, no header
    assert "e-0" in path.read_text().splitlines()[0]
    out = run("predict", THIRD, "--input", str(path), "--output", str(tmp_path / "y.zarr"),
              "--registry", str(reg.url))
    assert out.exit_code == 0, out.output
    assert "read 50 points" in out.output and "wrote 50 predictions" in out.output
    import zarr

    y = zarr.open_group(str(tmp_path / "y.zarr"), mode="r")["y"][...]
    expect = zoo.load(THIRD, registry=reg).predict(x)
    np.testing.assert_array_equal(y, expect)  # row for row: nothing shifted


def test_csv_header_options(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    x = np.random.default_rng(2).random((5, 3))
    named = tmp_path / "named.csv"
    np.savetxt(named, x, delimiter=",", header="a,b,c", comments="")
    out = run("predict", THIRD, "--input", str(named), "--output", str(tmp_path / "a.zarr"),
              "--registry", str(reg.url))
    assert out.exit_code == 0 and "read 5 points" in out.output and "header" in out.output
    plain = tmp_path / "plain.csv"
    np.savetxt(plain, x, delimiter=",")
    out = run("predict", THIRD, "--input", str(plain), "--output", str(tmp_path / "b.zarr"),
              "--registry", str(reg.url), "--header")
    assert out.exit_code == 0 and "read 4 points" in out.output  # asked for: first row dropped
    out = run("predict", THIRD, "--input", str(named), "--output", str(tmp_path / "c.zarr"),
              "--registry", str(reg.url), "--no-header")
    assert out.exit_code == 2 and "--input" in out.output  # 'a' is no number: a clear refusal


# -- 2. unbounded resources ------------------------------------------------------------------
def _bundle_with(tmp_path: Path, artifact: Path, extra: dict[str, int], name: str) -> Path:
    """A genuine artifact's files plus members of the given sizes (zeros: a gzip bomb)."""
    out = tmp_path / name
    with tarfile.open(out, "w:gz") as tar:
        for p in sorted(artifact.rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(artifact).as_posix())
        for member, size in extra.items():
            info = tarfile.TarInfo(member)
            info.size = size
            tar.addfile(info, _Zeros(size))
    return out


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        k = min(len(buf), self.left)
        buf[:k] = bytes(k)
        self.left -= k
        return k


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_gzip_bomb_import_writes_nothing(tmp_path: Path, third_party, home: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    reg, artifact = third_party
    systmp = tmp_path / "systmp"
    systmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(systmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    bomb = _bundle_with(tmp_path, artifact, {"model/zeros.bin": 64 << 20}, "bomb.tar.gz")
    assert bomb.stat().st_size < 1 << 20  # 64 MiB of zeros compress to ~64 kB
    dest = Registry(tmp_path / "dest")
    with pytest.raises(errors.IntegrityError, match="not listed in its manifest"):
        dest.import_bundle(bomb)  # checked in the first pass: nothing written
    # a bundle whose manifest *does* list the huge member stops at the global cap
    big = _editable_copy(reg, tmp_path)
    (big / "model" / "zeros.bin").write_bytes(b"")
    manifest = build_manifest(big)
    manifest["files"]["model/zeros.bin"]["size"] = 64 << 20
    (big / "model" / "zeros.bin").unlink()
    (big / "manifest.json").write_bytes(dumps(manifest))
    lying = _bundle_with(tmp_path, big, {"model/zeros.bin": 64 << 20}, "lying.tar.gz")
    monkeypatch.setenv("ZOO_MAX_ARTIFACT_BYTES", str(8 << 20))
    with pytest.raises(errors.UnsafeBundleError, match="ZOO_MAX_ARTIFACT_BYTES"):
        dest.import_bundle(lying)
    out = run("import", str(lying), "--registry", str(tmp_path / "dest"))
    assert out.exit_code == 1 and "ZOO_MAX_ARTIFACT_BYTES" in out.output
    assert _files_under(systmp) == []
    assert not (tmp_path / "dest" / "artifacts").exists()
    assert _files_under(tmp_path / "dest" / ".zoo-tmp") == []


def test_member_larger_than_manifest_is_refused(tmp_path: Path, third_party) -> None:
    reg, artifact = third_party
    edited = _editable_copy(reg, tmp_path)
    weights = next(p for p in edited.rglob("*.safetensors"))
    listed = json.loads((edited / "manifest.json").read_text())["files"]
    rel = weights.relative_to(edited).as_posix()
    weights.write_bytes(weights.read_bytes() + bytes(1 << 20))  # bigger than listed
    bundle = tmp_path / "b.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for p in sorted(edited.rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(edited).as_posix())
    with pytest.raises(errors.IntegrityError, match=f"{listed[rel]['size']}"):
        Registry(tmp_path / "dest").import_bundle(bundle)


def test_http_fetch_stops_at_the_manifest_size(tmp_path: Path, third_party) -> None:
    from tests.registry.helpers import serve_directory

    reg, artifact = third_party
    served = tmp_path / "served"
    shutil.copytree(tmp_path / "reg", served)
    weights = next(p for p in (served / "artifacts").rglob("*.safetensors"))
    weights.chmod(0o644)
    listed = weights.stat().st_size
    with open(weights, "ab") as fh:  # the server now sends 8 MiB more than listed
        fh.write(bytes(8 << 20))
    with serve_directory(served) as url:
        remote = Registry(url, timeout=5)
        with pytest.raises(errors.IntegrityError, match="larger than"):
            Registry(tmp_path / "local").fetch(THIRD, remote)
    cache = Path(os.environ["ZOO_HOME"]) / "cache"
    biggest = max((p.stat().st_size for p in _files_under(cache)), default=0)
    assert biggest <= listed  # nothing past the listed size reached the disk


# -- 3. wrong artifact verified ---------------------------------------------------------------
def test_import_refuses_a_non_canonical_label(tmp_path: Path) -> None:
    model, x = _dnn_model(NONCANON, 4)
    src = Registry(tmp_path / "src")
    art = model.save(tmp_path / "art", reference_x=x[:16])
    lab = src.publish(art, NONCANON)  # the raw registry stores what it is given
    bundle = src.export_bundle(lab, tmp_path / "nc.tar.gz")
    out = run("import", str(bundle), "--registry", str(tmp_path / "dest"))
    assert out.exit_code == 3 and "qqbar-zz-4l/4d/f11/L-+" in out.output
    assert not (tmp_path / "dest" / "artifacts").exists()


def test_verify_checks_exactly_the_stored_version(tmp_path: Path) -> None:
    path = tmp_path / "reg"
    reg = Registry(path)
    model, x = _dnn_model(CANON, 4)
    zoo.publish(model, registry=reg, reference_x=x[:16])
    art = model.save(tmp_path / "art", reference_x=x[:16])
    stored = reg.publish(art, NONCANON)  # as imports stored it before they refused
    weights = next(p for p in reg.open(stored).rglob("*.safetensors"))
    weights.chmod(0o644)
    weights.write_bytes(b"\0" * weights.stat().st_size)  # corrupt the non-canonical copy only
    with pytest.raises(errors.IntegrityError, match="R\\+-@1"):
        zoo.api.verify(f"{NONCANON}@1", registry=reg)
    assert str(zoo.api.verify(f"{CANON}@1", registry=reg)) == f"{CANON}@1"
    out = run("verify", f"{NONCANON}@1", "--registry", str(path))
    assert out.exit_code == 4
    out = run("verify", "--all", "--registry", str(path))
    assert out.exit_code == 4
    assert f"ok      {CANON}@1" in out.output and f"FAILED  {NONCANON}@1" in out.output
    assert "2 versions: 1 ok, 1 failed" in out.output


# -- 4. tracebacks instead of errors -----------------------------------------------------------
def test_malformed_safetensors_with_matching_manifest(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    model, x = _dnn_model(THIRD, 3)
    zoo.publish(model, registry=reg, reference_x=x[:32])  # @2 stays healthy
    bad = reg.open(f"{THIRD}@1")
    for p in [bad, *bad.rglob("*")]:
        p.chmod(0o755 if p.is_dir() else 0o644)
    weights = next(bad.rglob("*.safetensors"))
    weights.write_bytes(b"\xff" * 64)
    _rehash(bad)
    with pytest.raises(errors.ArtifactError, match="cannot be loaded"):
        zoo.load(f"{THIRD}@1", registry=reg)
    out = run("verify", "--all", "--registry", str(reg.url))
    assert out.exit_code == 4
    assert f"FAILED  {THIRD}@1" in out.output and f"ok      {THIRD}@2" in out.output


@pytest.mark.parametrize("label", [
    "qqbar-zz-4l/" + "9" * 4400 + "d/f11/LLL",
    "qqbar-zz-4l/8d/f11/LLL@" + "7" * 4400,
    "p" * 300 + "/8d/f11/LLL",
    "qqbar-zz-4l/8d/" + "f" * 40 + "/LLL",
    "qqbar-zz-4l/8d/f11/" + "L" * 40,
    "qqbar-zz-4l/8d/f11/LLL@" + "a" * 70,
])
def test_oversized_labels(label: str) -> None:
    with pytest.raises(errors.LabelSyntaxError):
        zoo.labels.parse(label)
    out = run("show", label)
    assert out.exit_code == 2 and len(out.output) < 600


def test_overlong_member_name(tmp_path: Path, third_party) -> None:
    _, artifact = third_party
    bundle = _bundle_with(tmp_path, artifact, {"model/" + "n" * 300: 3}, "long.tar.gz")
    with pytest.raises(errors.UnsafeBundleError, match="longer than 255"):
        Registry(tmp_path / "dest").import_bundle(bundle)


@pytest.mark.parametrize("bad", [
    np.array([["a", "b", "c"]], dtype=object),
    [[0.5, 0.5, 0.5], [0.5]],
    np.full((2, 3), 0.5 + 1j),
    {"x": 1},
    None,
    "0.5,0.5,0.5",
    np.ones((2, 3), dtype=bool),
    np.full((2, 2, 3), 0.5),
    np.zeros((3, 4)),
])
def test_predict_refuses_what_is_not_points(third_party, bad) -> None:
    reg, _ = third_party
    amp = zoo.load(THIRD, registry=reg)
    with pytest.raises(errors.InputError):
        amp.predict(bad)


@pytest.mark.parametrize("f00", [np.ones(2), np.ones((3, 3)), np.array(["a"] * 3),
                                 np.full(3, np.nan)])
def test_model_refuses_bad_f00(third_party, f00) -> None:
    reg, _ = third_party
    amp = zoo.load(THIRD, registry=reg)
    with pytest.raises(errors.InputError, match="f00"):
        amp.model.predict(np.full((3, 3), 0.5), f00)


# -- 5. hangs ---------------------------------------------------------------------------------
@pytest.mark.timeout(60)
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_card_never_hangs(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    model, x = _dnn_model(THIRD, 3)
    zoo.publish(model, registry=reg, reference_x=x[:32])  # @2 stays healthy
    bad = reg.open(f"{THIRD}@1")
    bad.chmod(0o755)
    (bad / "card.json").chmod(0o644)
    (bad / "card.json").unlink()
    os.mkfifo(bad / "card.json")  # opened blocking, this would hang until the timeout
    for call in (lambda: zoo.load(f"{THIRD}@1", registry=reg),
                 lambda: zoo.api.verify(f"{THIRD}@1", registry=reg)):
        with pytest.raises(errors.ArtifactError, match="not a regular file|regular"):
            call()
    out = run("verify", "--all", "--registry", str(reg.url))
    assert out.exit_code == 4 and f"ok      {THIRD}@2" in out.output
    out = run("list", "--registry", str(reg.url), "--all-versions")
    assert out.exit_code in (0, 1)


# -- 6. wrong words ---------------------------------------------------------------------------
def test_unknown_version_suggests_the_real_option(third_party) -> None:
    reg, _ = third_party
    with pytest.raises(errors.UnknownVersionError, match="--all-versions"):
        reg.resolve(f"{THIRD}@9")


def test_list_names_a_remote_registry_by_its_url(tmp_path: Path, third_party) -> None:
    from tests.registry.helpers import serve_directory

    with serve_directory(tmp_path / "reg") as url:
        out = run("list", "--registry", url)
    assert out.exit_code == 0 and "127.0.0.1" in out.output and "local" not in out.output


def test_import_missing_listed_file_is_an_integrity_failure(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    edited = _editable_copy(reg, tmp_path)
    next(edited.rglob("*.safetensors")).unlink()  # manifest still lists it
    bundle = tmp_path / "b.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        for p in sorted(edited.rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(edited).as_posix())
    out = run("import", str(bundle), "--registry", str(tmp_path / "dest"))
    assert out.exit_code == 4 and "lacks" in out.output
    flipped = tmp_path / "flip.tar.gz"  # a hash mismatch exits the same way
    shutil.copytree(reg.open(f"{THIRD}@1"), tmp_path / "e2")
    for p in (tmp_path / "e2").rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    w = next((tmp_path / "e2").rglob("*.safetensors"))
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.write_bytes(bytes(data))
    with tarfile.open(flipped, "w:gz") as tar:
        for p in sorted((tmp_path / "e2").rglob("*")):
            if p.is_file():
                tar.add(p, arcname=p.relative_to(tmp_path / "e2").as_posix())
    out = run("import", str(flipped), "--registry", str(tmp_path / "dest"))
    assert out.exit_code == 4


def test_truncated_gzip_bundle(tmp_path: Path, third_party) -> None:
    reg, _ = third_party
    good = reg.export_bundle(f"{THIRD}@1", tmp_path / "good.tar.gz")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(errors.ZooError):
        Registry(tmp_path / "dest").import_bundle(cut)
    raw = tmp_path / "raw.tar.gz"
    raw.write_bytes(gzip.compress(b"not a tar at all" * 100))
    with pytest.raises(errors.ZooError):
        Registry(tmp_path / "dest").import_bundle(raw)
