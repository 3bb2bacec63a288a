"""The bundled registry packed as one tar.xz (how a wheel ships it) and unpacked on first use."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.errors import ArtifactError
from zoo.registry import packed
from zoo.registry.registry import Registry, bundled_location


@pytest.fixture
def source(tmp_path: Path, make_artifact: MakeArtifact) -> Path:
    """A registry folder like registry/bundled, with a retired version and a lock file."""
    root = tmp_path / "bundled"
    reg = Registry(root)
    reg.publish(make_artifact(seed=1))
    reg.publish(make_artifact(seed=2))
    reg.remove(f"{LABEL}@1")
    (root / ".lock").write_text("")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not any(s.startswith(".") for s in p.relative_to(root).parts)}


def test_pack_then_unpack_gives_the_same_registry(source, tmp_path, capsys):
    archive = packed.pack(source, tmp_path / "pkg" / packed.ARCHIVE)
    assert packed.pack(source, tmp_path / "again.tar.xz").read_bytes() == archive.read_bytes()
    root = packed.unpack(archive, tmp_path / "cache")
    assert _files(root) == _files(source)  # byte for byte; no lock, no retired list
    assert "unpacking" in capsys.readouterr().err
    reg = Registry(root, readonly=True)
    assert [e["label"] for e in reg.list(all_versions=True)] == [f"{LABEL}@2"]
    reg.verify_files(f"{LABEL}@2")
    assert packed.unpack(archive, tmp_path / "cache") == root  # once: reused afterwards
    assert capsys.readouterr().err == ""
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [root.name]  # no leftovers


def test_bundled_location_prefers_the_folder_and_unpacks_the_archive(source, tmp_path, zoo_home):
    assert bundled_location(source.parent) == source  # a source checkout / editable install
    pkg = tmp_path / "pkg"
    packed.pack(source, pkg / packed.ARCHIVE)
    root = bundled_location(pkg)  # a wheel: the archive only
    assert root.parent == zoo_home / "cache" / "bundled"
    assert Registry(root, readonly=True).resolve(LABEL) == Registry(source).resolve(LABEL)


def test_a_bad_archive_is_refused_with_the_fix(tmp_path, zoo_home):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        info = tarfile.TarInfo("../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    (pkg / packed.ARCHIVE).write_bytes(buf.getvalue())
    with pytest.raises(ArtifactError, match="reinstall amplitude-zoo"):
        bundled_location(pkg)
    assert not (tmp_path / "escape").exists()
    assert not list((zoo_home / "cache" / "bundled").iterdir())  # nothing half-unpacked
    (pkg / packed.ARCHIVE).write_bytes(b"not xz")
    with pytest.raises(ArtifactError, match="reinstall amplitude-zoo"):
        bundled_location(pkg)
