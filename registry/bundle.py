"""Self-contained artifact bundles (tar.gz) and their safe extraction.

A bundle holds the files of one artifact (card, manifest, model files) at relative
paths, regular files only. Extraction validates *every* member before writing anything:
absolute paths, '..' components, over-long names, links, devices, sparse members and
duplicates raise :class:`UnsafeBundleError` naming the member.

Resources are bounded whatever the bundle claims: extraction streams the archive twice
(check, then write) through a counter that stops decompression past the global cap
(``ZOO_MAX_ARTIFACT_BYTES`` plus header room), every member's size must equal the size
its ``manifest.json`` lists, and each member is copied with that size as a hard cap. A
gzip bomb or a sparse 1 GiB member is refused after reading at most the cap, with
nothing written.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from zoo.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    IncompleteArtifactError,
    IntegrityError,
    LimitExceededError,
    UnsafeBundleError,
)
from zoo.registry.manifest import MANIFEST_NAME, is_safe_relpath, iter_files, parse_manifest
from zoo.registry.safe_io import MAX_JSON_BYTES, copy_capped, max_artifact_bytes, open_regular
from zoo.registry.stores.base import tmp_name

MAX_MEMBERS = 10_000
#: longest file or directory name inside a bundle (bytes, as on common filesystems)
MAX_NAME_BYTES = 255
#: longest relative path of a member (bytes)
MAX_PATH_BYTES = 1024
#: decompressed bytes allowed beyond the members' data: tar headers and padding
HEADER_ROOM = 1024 * MAX_MEMBERS + (1 << 20)


def write_bundle(src: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """Pack every file under ``src`` into the tar.gz ``path`` (written atomically)."""
    root = Path(src)
    if not root.is_dir():
        raise ArtifactNotFoundError(f"cannot bundle {root}: not a directory")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(tmp_name(out.name))
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for rel in iter_files(root):
                    file = root / rel
                    info = tarfile.TarInfo(rel)
                    info.size = file.stat().st_size
                    info.mode = 0o644
                    info.mtime = 0
                    with open(file, "rb") as fh:
                        tar.addfile(info, fh)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return out


class _Capped(io.RawIOBase):
    """A read-only stream that refuses to deliver more than ``limit`` bytes of ``src``."""

    def __init__(self, src: BinaryIO, limit: int, bundle: Path) -> None:
        self._src, self._left, self._bundle = src, limit, bundle
        self._limit = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[override]
        data = self._src.read(min(len(buf), self._left + 1))
        if len(data) > self._left:
            raise UnsafeBundleError(
                f"bundle {self._bundle} decompresses to more than {self._limit} bytes "
                f"(the global cap {max_artifact_bytes()} of ZOO_MAX_ARTIFACT_BYTES plus tar "
                "headers): refusing it, nothing was written. Raise ZOO_MAX_ARTIFACT_BYTES if "
                "the artifact is genuinely that large"
            )
        self._left -= len(data)
        buf[: len(data)] = data
        return len(data)


@contextlib.contextmanager
def _members(bundle: Path, limit: int) -> Iterator[tarfile.TarFile]:
    """The bundle as a streaming tar reader whose decompressed output is capped."""
    with open_regular(bundle) as raw:
        magic = raw.read(2)
        raw.seek(0)
        src: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
        capped = io.BufferedReader(_Capped(src, limit, bundle), 1 << 16)
        try:
            with tarfile.open(fileobj=capped, mode="r|") as tar:
                yield tar
        except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise UnsafeBundleError(
                f"{bundle} is not a readable tar(.gz) bundle ({exc}); export it again with "
                "`zoo export LABEL --to FILE.tar.gz`"
            ) from exc


def check_member(member: tarfile.TarInfo, bundle: Path) -> str | None:
    """The safe relative path of a regular-file member, None for a plain directory;
    :class:`UnsafeBundleError` for links, devices, sparse members, absolute or '..' paths
    and over-long names (shared by every tar the zoo extracts)."""
    name = member.name

    def bad(why: str) -> UnsafeBundleError:
        shown = name if len(name) <= 80 else name[:60] + f"... ({len(name)} characters)"
        return UnsafeBundleError(
            f"bundle {bundle} is unsafe: member {shown!r} {why}; refusing to extract anything. "
            "Only bundles written by `zoo export` (relative regular files) can be imported"
        )

    if member.issym() or member.islnk():
        raise bad(f"is a link (to {member.linkname[:80]!r})")
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        raise bad("is a device or a fifo")
    if member.issparse():
        raise bad("is a sparse file")
    if not (member.isfile() or member.isdir()):
        raise bad("is not a regular file")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH_BYTES:
        raise bad(f"has a path longer than {MAX_PATH_BYTES} bytes")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise bad("has an absolute path")
    clean = name[2:] if name.startswith("./") else name
    clean = clean.rstrip("/") if member.isdir() else clean
    parts = clean.replace("\\", "/").split("/")
    if ".." in parts:
        raise bad("contains a '..' component")
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES for p in parts):
        raise bad(f"has a name longer than {MAX_NAME_BYTES} bytes")
    if member.isdir() and clean in ("", "."):
        return None
    if not is_safe_relpath(clean):
        raise bad("is not a plain relative path")
    return None if member.isdir() else clean


def _plan(bundle: Path, limit: int, cap: int) -> dict[str, int]:
    """First pass, writing nothing: ``{relpath: size}`` of the members to extract, checked
    against the bundle's own manifest (which every member must match in size)."""
    plan: dict[str, int] = {}
    manifest = None
    with _members(bundle, limit) as tar:
        for count, member in enumerate(tar, start=1):
            if count > MAX_MEMBERS:
                raise UnsafeBundleError(f"bundle {bundle} has more than {MAX_MEMBERS} members")
            rel = check_member(member, bundle)
            if rel is None:
                continue
            if rel in plan:
                raise UnsafeBundleError(
                    f"bundle {bundle} is unsafe: member {member.name!r} appears twice; "
                    "refusing to extract anything"
                )
            plan[rel] = member.size
            if sum(plan.values()) > cap:
                raise UnsafeBundleError(
                    f"bundle {bundle} holds more than {cap} bytes (ZOO_MAX_ARTIFACT_BYTES); "
                    "refusing it, nothing was written"
                )
            if rel == MANIFEST_NAME:
                if member.size > MAX_JSON_BYTES:
                    raise UnsafeBundleError(
                        f"bundle {bundle}: its {MANIFEST_NAME} has {member.size} bytes; "
                        "a zoo manifest is far smaller"
                    )
                fh = tar.extractfile(member)
                manifest = parse_manifest(fh.read() if fh else b"", f"bundle {bundle.name}")
    if manifest is None:
        raise ArtifactError(
            f"bundle {bundle} has no {MANIFEST_NAME}: it is not a zoo artifact bundle. "
            "Export one with `zoo export LABEL --to FILE.tar.gz`"
        )
    listed = manifest["files"]
    for rel in plan:  # a file may not also be the parent directory of another
        parts = rel.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in plan:
                raise UnsafeBundleError(
                    f"bundle {bundle} is unsafe: member {rel!r} lies under the file "
                    f"{'/'.join(parts[:i])!r}"
                )
    for rel, size in plan.items():
        if rel == MANIFEST_NAME:
            continue
        if rel not in listed:
            raise IntegrityError(
                f"bundle {bundle}: member {rel!r} is not listed in its manifest; the bundle "
                "was modified after export. Export it again"
            )
        if size != listed[rel]["size"]:
            raise IntegrityError(
                f"bundle {bundle}: member {rel!r} has {size} bytes but its manifest lists "
                f"{listed[rel]['size']}; the bundle is corrupted or was modified. Export it again"
            )
    missing = sorted(set(listed) - set(plan))
    if missing:
        raise IncompleteArtifactError(
            f"bundle {bundle} lacks {len(missing)} file(s) its manifest lists (first: "
            f"{missing[0]!r}); the bundle is incomplete. Export it again"
        )
    return plan


def extract_bundle(path: str | os.PathLike[str], dest: str | os.PathLike[str], *,
                   on_bytes: Callable[[int], None] | None = None) -> list[str]:
    """Safely extract the bundle ``path`` into the existing empty directory ``dest``.

    Every member is validated (names, types, sizes against the bundle's manifest and the
    global cap) before any file is written; then each is copied with its listed size as
    a hard cap. Return the relative paths of the extracted files.
    """
    bundle = Path(path)
    out = Path(dest)
    if not bundle.is_file():
        raise ArtifactNotFoundError(
            f"bundle {bundle} does not exist or is not a regular file; give the path of a "
            "tar.gz written by `zoo export`"
        )
    cap = max_artifact_bytes()
    limit = cap + HEADER_ROOM
    plan = _plan(bundle, limit, cap)
    with _members(bundle, limit) as tar:
        for member in tar:
            rel = check_member(member, bundle)
            if rel is None or rel not in plan:
                continue
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            if src is None:  # pragma: no cover - regular files always have data
                raise UnsafeBundleError(f"bundle {bundle}: member {member.name!r} has no data")
            try:
                with src, open(target, "xb") as fh:
                    copy_capped(src, fh, plan[rel], f"member {rel!r} of bundle {bundle}")
            except LimitExceededError as exc:
                raise UnsafeBundleError(str(exc)) from exc
            if on_bytes is not None:
                on_bytes(plan[rel])
    return sorted(plan)
