"""Bundles: export/import round trip, and malicious tarballs refused before any write."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.errors import IntegrityError, UnsafeBundleError
from zoo.labels import parse
from zoo.registry.bundle import extract_bundle
from zoo.registry.registry import Registry


@pytest.fixture
def reg(tmp_path: Path, make_artifact: MakeArtifact) -> Registry:
    reg = Registry(tmp_path / "reg")
    reg.publish(make_artifact())
    return reg


def test_export_is_relative_regular_files(reg: Registry, tmp_path: Path) -> None:
    path = reg.export_bundle(LABEL, tmp_path / "b.tar.gz")
    with tarfile.open(path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert "card.json" in names and "manifest.json" in names
    assert "transforms.zarr/c/0" in names and "model/model.safetensors" in names
    assert all(m.isfile() and not m.name.startswith("/") and ".." not in m.name for m in members)
    assert not list(tmp_path.glob(".tmp-*"))


def test_import_roundtrip(reg: Registry, tmp_path: Path) -> None:
    path = reg.export_bundle(f"{LABEL}@1", tmp_path / "b.tar.gz")
    other = Registry(tmp_path / "other")
    assert other.import_bundle(path) == parse(f"{LABEL}@1")
    assert other.verify_files(LABEL)["files"].keys() == reg.verify_files(LABEL)["files"].keys()


def _evil(tmp_path: Path, reg: Registry, add: Callable[[tarfile.TarFile], None]) -> Path:
    """A bundle holding a genuine artifact plus whatever ``add`` appends."""
    src = reg.open(LABEL)
    out = tmp_path / "evil.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(src.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(src).as_posix())
        add(tar)
    return out


def _file(name: str, data: bytes = b"pwned") -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return add


def _link(name: str, target: str, kind: bytes) -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = target
        tar.addfile(info)
    return add


def _device(name: str) -> Callable[[tarfile.TarFile], None]:
    def add(tar: tarfile.TarFile) -> None:
        info = tarfile.TarInfo(name)
        info.type = tarfile.CHRTYPE
        tar.addfile(info)
    return add


@pytest.mark.parametrize(
    ("add", "member", "why"),
    [
        (_file("../escape.txt"), "../escape.txt", "'..'"),
        (_file("model/../../escape.txt"), "model/../../escape.txt", "'..'"),
        (_file("/tmp/zoo-abs-escape.txt"), "/tmp/zoo-abs-escape.txt", "absolute"),
        (_link("model/link", "/etc/passwd", tarfile.SYMTYPE), "model/link", "link"),
        (_link("model/hard", "/etc/passwd", tarfile.LNKTYPE), "model/hard", "link"),
        (_device("model/dev"), "model/dev", "device"),
        (_file("card.json", b"{}"), "card.json", "twice"),
    ],
)
def test_malicious_bundle_is_refused_and_nothing_written(
    reg: Registry, tmp_path: Path, add: Callable[[tarfile.TarFile], None], member: str, why: str
) -> None:
    bundle = _evil(tmp_path, reg, add)
    with pytest.raises(UnsafeBundleError, match=why) as info:
        reg.import_bundle(bundle)
    assert repr(member) in str(info.value)
    assert reg.versions(LABEL) == [1]
    assert not (tmp_path / "escape.txt").exists()
    assert not Path("/tmp/zoo-abs-escape.txt").exists()
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafeBundleError):
        extract_bundle(bundle, dest)
    assert list(dest.iterdir()) == []  # validated before extracting anything


def test_tampered_bundle_is_not_published(reg: Registry, tmp_path: Path) -> None:
    src = reg.open(LABEL)
    out = tmp_path / "tampered.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        for path in sorted(src.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            if path.name == "model.safetensors":
                data = data[:-1] + bytes([data[-1] ^ 1])
            info = tarfile.TarInfo(path.relative_to(src).as_posix())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(IntegrityError, match=r"model/model\.safetensors"):
        reg.import_bundle(out)
    assert reg.versions(LABEL) == [1]


def test_not_a_bundle(reg: Registry, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"definitely not a tarball")
    with pytest.raises(UnsafeBundleError, match="not a readable tar"):
        reg.import_bundle(junk)
