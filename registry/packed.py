"""The bundled registry packed as one tar.xz: how a built wheel ships it.

The models are float arrays that zip's per-file deflate barely shrinks; one solid xz
stream over all of them is about a fifth smaller (docs/bundle.md), which keeps the wheel
under 15 MB. So the wheel holds ``zoo/registry/bundled.tar.xz`` instead of the folder
``registry/bundled`` (``setup.py`` packs it), and :func:`unpack` extracts it once, on first
use, into a folder named by the archive's digest; every file is still checked against its
manifest whenever it is loaded. A source checkout or an editable install reads the folder.

``setup.py`` loads this file by path at build time, so its top level and :func:`pack` use
the standard library only; :func:`unpack` (run time) uses the zoo's shared tar checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import lzma
import os
import shutil
import sys
import tarfile
import time
from pathlib import Path

ARCHIVE = "bundled.tar.xz"
#: LZMA2 at preset 6 with a 64 MB window (preset 6 has 8 MB): the defaults repeat coefficient
#: blocks many MB apart in the sorted stream (a 4D f01 model holds its f11 model's real
#: parts, the 8D models the 4D f11 models' parts: docs/bundle.md); the window has to reach
#: back to them. Unpacking needs ~65 MB of memory.
FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 64 << 20}]
#: written last into an unpacked folder: its presence means the folder is complete
DONE = ".unpacked"
#: the bundle is the package's own data, but still never more than this is unpacked
MAX_UNPACKED_BYTES = 1 << 30
#: temporary folders of unpacks older than this were left by killed processes
STALE_TMP_S = 3600.0
_digests: dict[tuple[str, int, int], str] = {}


def pack(src: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Write every regular file under ``src`` (not dot files: locks, retired lists) into
    the tar.xz ``out``, sorted and with fixed owners, modes and times (reproducible)."""
    root, target = Path(src), Path(out)
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    try:
        with lzma.open(tmp, "wb", format=lzma.FORMAT_XZ, filters=FILTERS) as xz, \
                tarfile.open(fileobj=xz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for file in files:
                info = tarfile.TarInfo(file.relative_to(root).as_posix())
                info.size, info.mode, info.mtime = file.stat().st_size, 0o644, 0
                with open(file, "rb") as fh:
                    tar.addfile(info, fh)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target


def digest(archive: str | os.PathLike[str]) -> str:
    """The first 16 hex digits of the archive's sha256 (computed once per process)."""
    path = Path(archive)
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _digests[key] = h.hexdigest()[:16]
    return _digests[key]


def unpack(archive: str | os.PathLike[str], cache: str | os.PathLike[str]) -> Path:
    """The folder ``cache/<digest>`` holding the archive's files, extracted on first call.

    Extraction goes into a temporary sibling that is renamed into place, so concurrent
    first calls are safe and a killed one leaves no half folder behind. Only regular files
    at safe relative paths are accepted.
    """
    src = Path(archive)
    target = Path(cache) / digest(src)
    if (target / DONE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(".tmp-*"):  # left by killed first calls
        with contextlib.suppress(OSError):
            if time.time() - stale.lstat().st_mtime > STALE_TMP_S:
                shutil.rmtree(stale, ignore_errors=True)
    tmp = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"zoo: unpacking the bundled pretrained models into {target} (once)",
          file=sys.stderr)
    from zoo.registry.bundle import check_member  # the zoo's one tar-member check
    from zoo.registry.safe_io import copy_capped

    try:
        total = 0
        with tarfile.open(src, mode="r:xz") as tar:
            for member in tar:
                rel = check_member(member, src)
                if rel is None:
                    continue
                total += member.size
                if total > MAX_UNPACKED_BYTES:
                    raise ValueError(f"{src} unpacks to more than {MAX_UNPACKED_BYTES} bytes; "
                                     "reinstall amplitude-zoo")
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                fh = tar.extractfile(member)
                assert fh is not None  # a regular file
                with fh, open(out, "xb") as dst:
                    copy_capped(fh, dst, member.size, f"member {rel!r} of {src}")
        (tmp / DONE).write_text(digest(src) + "\n")
        if target.is_dir() and not (target / DONE).is_file():
            shutil.rmtree(target)  # not ours: a folder without the completion mark
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / DONE).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
