"""Manifests: building, and verification against tampered, truncated, missing, extra files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.errors import ArtifactError, ArtifactNotFoundError, IntegrityError
from zoo.registry import manifest as mf
from zoo.registry.registry import Registry


@pytest.fixture
def art(make_artifact: MakeArtifact) -> Path:
    root = make_artifact()
    mf.write_manifest(root, mf.build_manifest(root))
    return root


def test_build_manifest_lists_every_file_sorted(art: Path) -> None:
    doc = mf.read_manifest(art)
    files = doc["files"]
    assert doc["schema_version"] == 1
    assert list(files) == sorted(files)
    assert "manifest.json" not in files
    assert {"card.json", "model/model.safetensors", "transforms.zarr/zarr.json",
            "transforms.zarr/c/0"} <= set(files)
    data = (art / "model/model.safetensors").read_bytes()
    assert files["model/model.safetensors"] == {
        "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_sha256_streams_large_files(tmp_path: Path) -> None:
    big = tmp_path / "big"
    data = bytes(range(256)) * (3 * mf.CHUNK // 256 + 7)
    big.write_bytes(data)
    assert mf.sha256_file(big) == (len(data), hashlib.sha256(data).hexdigest())


def test_verify_ok(art: Path) -> None:
    assert mf.verify_dir(art)["files"]


def test_tampered_file_names_the_file(art: Path) -> None:
    path = art / "model/model.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"file model/model\.safetensors of .*sha256"):
        mf.verify_dir(art)


def test_truncated_file(art: Path) -> None:
    path = art / "transforms.zarr/c/1"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(IntegrityError, match=r"transforms\.zarr/c/1 .* bytes but the manifest"):
        mf.verify_dir(art)


def test_missing_file(art: Path) -> None:
    (art / "transforms.zarr/c/2").unlink()
    with pytest.raises(ArtifactNotFoundError, match=r"transforms\.zarr/c/2 .* missing"):
        mf.verify_dir(art)


def test_extra_file(art: Path) -> None:
    (art / "model/notes.txt").write_text("hi")
    with pytest.raises(IntegrityError, match=r"model/notes\.txt .* not listed"):
        mf.verify_dir(art)


def test_missing_or_bad_manifest_and_card(art: Path) -> None:
    (art / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        mf.verify_dir(art)
    (art / "manifest.json").unlink()
    with pytest.raises(ArtifactError, match="no manifest.json"):
        mf.verify_dir(art)
    mf.write_manifest(art, mf.build_manifest(art))
    (art / "card.json").unlink()
    with pytest.raises(ArtifactError, match="card.json"):
        mf.verify_dir(art, mf.build_manifest(art))


def test_unsafe_paths_in_manifest_are_refused(art: Path) -> None:
    doc = mf.read_manifest(art)
    doc["files"]["../../etc/passwd"] = {"size": 1, "sha256": "00"}
    (art / "manifest.json").write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="unsafe path"):
        mf.verify_dir(art)


def test_same_content_ignores_the_card(art: Path) -> None:
    a = mf.read_manifest(art)
    b = json.loads(json.dumps(a))
    b["files"]["card.json"]["sha256"] = "0" * 64
    assert mf.same_content(a, b)
    b["files"]["transforms.zarr/c/0"]["sha256"] = "0" * 64
    assert not mf.same_content(a, b)


def test_registry_open_detects_tampering(tmp_path: Path, make_artifact: MakeArtifact) -> None:
    reg = Registry(tmp_path / "reg")
    lab = reg.publish(make_artifact())
    path = reg.open(lab)
    (path / "model/model.safetensors").write_bytes(b"evil")
    with pytest.raises(IntegrityError) as info:
        reg.open(f"{LABEL}@1")
    text = str(info.value)
    assert "model/model.safetensors" in text and f"{LABEL}@1" in text
    assert f"zoo fetch {LABEL}@1" in text and f"zoo rm {LABEL}@1" in text
    with pytest.raises(IntegrityError):
        reg.verify_files(LABEL)
    assert reg.open(lab, verify=False) == path
