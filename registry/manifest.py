"""Artifact manifests: every file of an artifact with its size and sha256.

``manifest.json`` reads ``{"schema_version": 1, "files": {relpath: {"size": int,
"sha256": hex}}}`` and covers every file of the artifact directory except itself;
relative paths use '/' separators and are sorted.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from zoo.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    IncompleteArtifactError,
    IntegrityError,
)
from zoo.registry.safe_io import open_regular, read_regular

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
CARD_NAME = "card.json"
CHUNK = 1 << 20

FileEntry = dict[str, Any]
Manifest = dict[str, Any]


def sha256_file(path: str | os.PathLike[str]) -> tuple[int, str]:
    """Stream ``path`` in 1 MiB chunks; return ``(size, sha256 hex)``.

    Only a regular file is read (a FIFO, device or symlink raises :class:`ArtifactError`).
    """
    digest = hashlib.sha256()
    size = 0
    with open_regular(path) as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def sha256_bytes(data: bytes) -> FileEntry:
    """The manifest entry of an in-memory file."""
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def iter_files(root: str | os.PathLike[str]) -> Iterator[str]:
    """Relative '/'-separated paths of every regular file under ``root``, sorted."""
    base = Path(root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames.sort()
        rel_dir = Path(dirpath).relative_to(base)
        for name in filenames:
            found.append((rel_dir / name).as_posix())
    yield from sorted(found)


def build_manifest(
    root: str | os.PathLike[str], *, exclude: Iterable[str] = (MANIFEST_NAME,)
) -> Manifest:
    """Hash every file under ``root`` except the relative paths in ``exclude``."""
    skip = set(exclude)
    files: dict[str, FileEntry] = {}
    for rel in iter_files(root):
        if rel in skip:
            continue
        size, digest = sha256_file(Path(root, rel))
        files[rel] = {"size": size, "sha256": digest}
    return make_manifest(files)


def make_manifest(files: Mapping[str, FileEntry]) -> Manifest:
    """Wrap file entries into a manifest document with sorted paths."""
    return {"schema_version": SCHEMA_VERSION, "files": {k: dict(files[k]) for k in sorted(files)}}


def dumps(manifest: Manifest) -> bytes:
    """Canonical JSON encoding of a manifest (or a card)."""
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")


def write_manifest(root: str | os.PathLike[str], manifest: Manifest) -> Path:
    """Write ``manifest.json`` into ``root`` atomically (temp sibling + ``os.replace``)."""
    target = Path(root, MANIFEST_NAME)
    tmp = target.with_name(f".tmp-{MANIFEST_NAME}-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(dumps(manifest))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    return target


def parse_manifest(data: bytes | str, where: str) -> Manifest:
    """Decode and validate a manifest document; ``where`` names it in error messages."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(
            f"{MANIFEST_NAME} of {where} is not valid JSON ({exc}); the artifact is "
            "corrupted: re-fetch or re-publish it"
        ) from exc
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or doc.get("schema_version") != SCHEMA_VERSION:
        raise ArtifactError(
            f"{MANIFEST_NAME} of {where} is malformed (expected schema_version "
            f"{SCHEMA_VERSION} and a 'files' table); re-fetch or re-publish the artifact"
        )
    for rel, entry in files.items():
        if not is_safe_relpath(rel):
            raise ArtifactError(
                f"{MANIFEST_NAME} of {where} lists the unsafe path {rel!r} (absolute, '..' or "
                "backslash); refusing to use this artifact"
            )
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("size"), int)
            or not isinstance(entry.get("sha256"), str)
        ):
            raise ArtifactError(f"{MANIFEST_NAME} of {where} has a malformed entry for {rel!r}")
    return doc


def is_safe_relpath(rel: str) -> bool:
    """True for a relative '/'-separated path without '.', '..' or empty components."""
    if not isinstance(rel, str) or not rel or rel.startswith("/") or "\\" in rel or ":" in rel:
        return False
    return all(part not in ("", ".", "..") for part in rel.split("/"))


def read_manifest(root: str | os.PathLike[str], where: str | None = None) -> Manifest:
    """Read and validate ``root/manifest.json`` (:class:`ArtifactError` when absent/invalid)."""
    where = where or str(root)
    path = Path(root, MANIFEST_NAME)
    try:
        data = read_regular(path)
    except FileNotFoundError as exc:
        raise ArtifactError(
            f"{where} has no {MANIFEST_NAME}: it is not a published artifact or it is "
            "incomplete; re-fetch or re-publish it"
        ) from exc
    return parse_manifest(data, where)


def read_card(root: str | os.PathLike[str], where: str | None = None) -> dict[str, Any]:
    """Read ``root/card.json`` as a JSON object (:class:`ArtifactError` when absent/invalid)."""
    where = where or str(root)
    return parse_card(_read_or_none(Path(root, CARD_NAME)), where)


def parse_card(data: bytes | None, where: str) -> dict[str, Any]:
    """Decode a card; ``None`` (missing file) and non-objects raise :class:`ArtifactError`."""
    if data is None:
        raise ArtifactError(
            f"{where} has no {CARD_NAME}; an artifact directory must contain a card "
            "(a JSON object with at least a 'label')"
        )
    try:
        card = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{CARD_NAME} of {where} is not valid JSON ({exc})") from exc
    if not isinstance(card, dict):
        raise ArtifactError(f"{CARD_NAME} of {where} must be a JSON object")
    return card


def _read_or_none(path: Path) -> bytes | None:
    try:
        return read_regular(path)
    except FileNotFoundError:
        return None


def _fix(label: str | None) -> str:
    if label and "@" in label and " " not in label:
        return f"re-fetch it with `zoo fetch {label}` or remove it with `zoo rm {label}`"
    return "re-create or re-download the artifact"


def verify_dir(
    root: str | os.PathLike[str],
    manifest: Manifest | None = None,
    *,
    label: str | None = None,
) -> Manifest:
    """Check every file of ``root`` against its manifest; return the manifest.

    Missing file -> :class:`IncompleteArtifactError` (an :class:`IntegrityError`); size or
    sha256 mismatch, a file not listed in the manifest, or a listed path that is not a
    regular file -> :class:`IntegrityError`; a missing or unparseable
    ``manifest.json`` or ``card.json`` -> :class:`ArtifactError`. ``label`` (``key@v``)
    is used in the messages.
    """
    where = label or str(root)
    base = Path(root)
    if not base.is_dir():
        raise ArtifactNotFoundError(f"artifact directory {base} of {where} does not exist; {_fix(label)}")
    if manifest is None:
        manifest = read_manifest(base, where)
    read_card(base, where)
    listed: dict[str, FileEntry] = manifest["files"]
    for rel, entry in listed.items():
        path = base / rel
        try:
            st = path.lstat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise IncompleteArtifactError(
                f"file {rel} of {where} is missing (listed in its manifest); the artifact "
                f"is incomplete: {_fix(label)}"
            ) from exc
        if not stat.S_ISREG(st.st_mode):
            raise IntegrityError(
                f"file {rel} of {where} is not a regular file (a link, FIFO, device or "
                f"directory took its place); {_fix(label)}"
            )
        size = st.st_size
        if size != entry["size"]:
            raise IntegrityError(
                f"file {rel} of {where} has {size} bytes but the manifest says "
                f"{entry['size']}: the artifact is truncated, corrupted or was modified; "
                f"{_fix(label)}"
            )
        _, digest = sha256_file(path)  # regular files only: never a FIFO, device or link
        if digest != entry["sha256"]:
            raise IntegrityError(
                f"file {rel} of {where} has sha256 {digest[:12]}.. but the manifest says "
                f"{entry['sha256'][:12]}..: the artifact is corrupted or was modified; "
                f"{_fix(label)}"
            )
    for rel in iter_files(base):
        if rel != MANIFEST_NAME and rel not in listed:
            raise IntegrityError(
                f"file {rel} of {where} is not listed in its manifest: the artifact was "
                f"modified after publishing; delete that file or {_fix(label)}"
            )
    return manifest


def same_content(a: Manifest, b: Manifest, *, ignore: Iterable[str] = (CARD_NAME,)) -> bool:
    """True when two manifests list the same files with the same hashes (``ignore`` aside)."""
    skip = set(ignore)

    def strip(m: Manifest) -> dict[str, tuple[int, str]]:
        return {k: (v["size"], v["sha256"]) for k, v in m["files"].items() if k not in skip}

    return strip(a) == strip(b)
