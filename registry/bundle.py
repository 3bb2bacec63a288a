"""Self-contained artifact bundles (tar.gz) and their safe extraction.

A bundle holds the files of one artifact (card, manifest, model files) at relative
paths, regular files only. Extraction validates *every* member before writing anything:
absolute paths, '..' components, links, devices and duplicates raise
:class:`UnsafeBundleError` naming the member.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tarfile
from pathlib import Path

from zoo.errors import ArtifactNotFoundError, UnsafeBundleError
from zoo.registry.manifest import is_safe_relpath, iter_files
from zoo.registry.stores.base import tmp_name

MAX_MEMBERS = 100_000


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


def _check_member(member: tarfile.TarInfo, dest: Path, bundle: Path) -> str | None:
    """The safe relative path of a regular-file member, None for a plain directory."""
    name = member.name
    def bad(why: str) -> UnsafeBundleError:
        return UnsafeBundleError(
            f"bundle {bundle} is unsafe: member {name!r} {why}; refusing to extract anything. "
            "Only bundles written by `zoo export` (relative regular files) can be imported"
        )

    if member.issym() or member.islnk():
        raise bad(f"is a link (to {member.linkname!r})")
    if member.ischr() or member.isblk() or member.isfifo() or member.isdev():
        raise bad("is a device or a fifo")
    if not (member.isfile() or member.isdir()):
        raise bad("is not a regular file")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise bad("has an absolute path")
    clean = name[2:] if name.startswith("./") else name
    clean = clean.rstrip("/") if member.isdir() else clean
    if ".." in clean.replace("\\", "/").split("/"):
        raise bad("contains a '..' component")
    if member.isdir() and clean in ("", "."):
        return None
    if not is_safe_relpath(clean):
        raise bad("is not a plain relative path")
    target = (dest / clean).resolve()
    if not target.is_relative_to(dest.resolve()):
        raise bad("would be written outside the target directory")
    return None if member.isdir() else clean


def extract_bundle(path: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[str]:
    """Safely extract the bundle ``path`` into the existing empty directory ``dest``.

    Every member is validated before any file is written; return the relative paths of
    the extracted files.
    """
    bundle = Path(path)
    out = Path(dest)
    if not bundle.is_file():
        raise ArtifactNotFoundError(f"bundle {bundle} does not exist")
    try:
        tar = tarfile.open(bundle, mode="r:*")
    except (tarfile.TarError, OSError) as exc:
        raise UnsafeBundleError(f"{bundle} is not a readable tar(.gz) bundle: {exc}") from exc
    with tar:
        members = tar.getmembers()
        if len(members) > MAX_MEMBERS:
            raise UnsafeBundleError(f"bundle {bundle} has more than {MAX_MEMBERS} members")
        plan: dict[str, tarfile.TarInfo] = {}
        for member in members:
            rel = _check_member(member, out, bundle)
            if rel is None:
                continue
            if rel in plan:
                raise UnsafeBundleError(
                    f"bundle {bundle} is unsafe: member {member.name!r} appears twice; "
                    "refusing to extract anything"
                )
            plan[rel] = member
        files = set(plan)
        for rel in files:  # a file may not also be the parent directory of another
            parts = rel.split("/")
            for i in range(1, len(parts)):
                if "/".join(parts[:i]) in files:
                    raise UnsafeBundleError(
                        f"bundle {bundle} is unsafe: member {rel!r} lies under the file "
                        f"{'/'.join(parts[:i])!r}"
                    )
        for rel, member in sorted(plan.items()):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            if src is None:  # pragma: no cover - regular files always have data
                raise UnsafeBundleError(f"bundle {bundle}: member {member.name!r} has no data")
            with src, open(target, "xb") as fh:
                shutil.copyfileobj(src, fh, 1 << 20)
    return sorted(plan)
