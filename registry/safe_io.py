"""Bounded reads of registry files: regular files only, never a FIFO, device or symlink.

A registry directory is data that anybody may have tampered with. Every file the zoo
reads from one goes through :func:`open_regular`, which opens without following a
symbolic link and without blocking (a FIFO in place of ``card.json`` would otherwise hang
the reader forever), and refuses anything that is not a regular file. Copies and reads
are capped: by the size a manifest lists, and globally by ``ZOO_MAX_ARTIFACT_BYTES``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from zoo.errors import ArtifactError, ConfigError, LimitExceededError

#: environment variable: the largest artifact (sum of its files, bytes) the zoo will read,
#: import or download
MAX_BYTES_ENV = "ZOO_MAX_ARTIFACT_BYTES"
DEFAULT_MAX_BYTES = 1 << 30
#: the largest JSON document (card, manifest, index, aliases) read from a registry
MAX_JSON_BYTES = 64 << 20
CHUNK = 1 << 20

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
    stat.S_IFLNK: "a symbolic link",
}


def max_artifact_bytes() -> int:
    """The global size cap (bytes) from ``$ZOO_MAX_ARTIFACT_BYTES``, default 1 GiB."""
    raw = os.environ.get(MAX_BYTES_ENV)
    if raw is None or raw == "":
        return DEFAULT_MAX_BYTES
    try:
        value = int(float(raw))
    except (ValueError, OverflowError) as exc:
        raise ConfigError(
            f"{MAX_BYTES_ENV}={raw!r} is not a number of bytes; set e.g. "
            f"{MAX_BYTES_ENV}=2e9 or unset it (default {DEFAULT_MAX_BYTES})"
        ) from exc
    if value <= 0:
        raise ConfigError(f"{MAX_BYTES_ENV}={raw!r} must be a positive number of bytes")
    return value


def _not_regular(path: Path, kind: str) -> ArtifactError:
    return ArtifactError(
        f"{path} is {kind}, not a regular file; the zoo reads only regular files from a "
        "registry. Remove it and re-fetch or re-publish the artifact"
    )


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for binary reading if it is a regular file (not through a symlink).

    Raises :class:`FileNotFoundError` when absent and :class:`ArtifactError` for a FIFO,
    device, socket, directory or symbolic link; never blocks.
    """
    p = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _not_regular(p, "a symbolic link") from exc
        if exc.errno in (errno.ENXIO, errno.EISDIR):
            raise _not_regular(p, _KINDS.get(_mode(p), "not openable")) from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(p, _KINDS.get(stat.S_IFMT(mode), "a special file"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _mode(p: Path) -> int:
    try:
        return stat.S_IFMT(os.lstat(p).st_mode)
    except OSError:
        return 0


def read_regular(path: str | os.PathLike[str], max_bytes: int = MAX_JSON_BYTES) -> bytes:
    """The bytes of the regular file ``path``; :class:`LimitExceededError` past ``max_bytes``."""
    with open_regular(path) as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LimitExceededError(
            f"{path} is larger than {max_bytes} bytes, the most the zoo reads for this file; "
            "it is not a file the zoo wrote"
        )
    return data


def copy_capped(src: BinaryIO, dst: BinaryIO, limit: int, what: str) -> int:
    """Copy ``src`` to ``dst`` in chunks, refusing more than ``limit`` bytes; return the count.

    Raises :class:`LimitExceededError` as soon as the limit is passed, so at most ``limit``
    bytes (plus one chunk read, never written) are handled whatever ``src`` claims.
    """
    done = 0
    while True:
        chunk = src.read(min(CHUNK, limit - done + 1))
        if not chunk:
            return done
        done += len(chunk)
        if done > limit:
            raise LimitExceededError(
                f"{what} is larger than the {limit} bytes allowed (its manifest entry or "
                f"{MAX_BYTES_ENV}); refusing it. The source is corrupted or hostile"
            )
        dst.write(chunk)
