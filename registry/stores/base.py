"""The abstract store contract, in the style of zarr-python v3's ``abc/store.py``.

A store maps '/'-separated keys (relative to its root) to bytes and to directory trees.
Every write is atomic: a value or a whole tree is first written to a temporary sibling
whose name starts with ``.tmp-`` and then renamed into place, so readers see either the
old state or the complete new one. Listings ignore names starting with '.'.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path, PurePosixPath

from zoo.errors import LimitExceededError, ReadOnlyStoreError

TMP_PREFIX = ".tmp-"
PAUSE_ENV = "ZOO_TEST_PUBLISH_PAUSE"
PAUSE_MARKER = "ZOO_TEST_PUBLISH_PAUSED"

TreeSource = Mapping[str, "Path | bytes"]


def check_key(key: str) -> str:
    """Validate a relative '/'-separated key (no '..', no absolute path, not empty)."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or "\\" in key or any(p in ("..", ".") for p in parts):
        raise ValueError(f"invalid store key {key!r}: expected a relative '/'-separated path")
    return key.strip("/")


def tmp_name(name: str) -> str:
    """A unique temporary sibling name for ``name``."""
    return f"{TMP_PREFIX}{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def tree_from_dir(root: str | os.PathLike[str]) -> dict[str, Path]:
    """Map every regular file under ``root`` (relative '/'-path) to its path."""
    from zoo.registry.manifest import iter_files

    return {rel: Path(root, rel) for rel in iter_files(root)}


def maybe_pause(done: int, total: int) -> None:
    """Test-only hook: with ``$ZOO_TEST_PUBLISH_PAUSE=<s>`` sleep once half a tree is copied."""
    pause = os.environ.get(PAUSE_ENV)
    if pause and total > 1 and done == total // 2:
        print(PAUSE_MARKER, flush=True)
        sys.stdout.flush()
        time.sleep(float(pause))


class Store(ABC):
    """A place holding registry files. Subclasses implement one backend each."""

    #: whether :meth:`list_dir` works (HTTP cannot list directories)
    supports_listing: bool = True
    #: whether :meth:`lock` excludes writers on every machine (False: only this machine)
    lock_is_global: bool = True

    def __init__(self, *, readonly: bool = False) -> None:
        self._readonly = readonly

    @property
    def readonly(self) -> bool:
        """True when every write raises :class:`ReadOnlyStoreError`."""
        return self._readonly

    @property
    @abstractmethod
    def url(self) -> str:
        """A URL naming the store's root."""

    def __repr__(self) -> str:
        mode = "r" if self.readonly else "w"
        return f"{type(self).__name__}({self.url!r}, mode={mode!r})"

    def _check_writable(self, what: str) -> None:
        if self.readonly:
            raise ReadOnlyStoreError(
                f"cannot {what}: the registry at {self.url} is read-only (http(s) remotes and "
                "the bundled registry cannot be written). Publish into a writable registry "
                "instead, e.g. your local one (ZOO_HOME) or `zoo fetch LABEL` to copy it there."
            )

    # -- reading -------------------------------------------------------------------------
    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The bytes stored at ``key``, or ``None`` when absent."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """True when ``key`` names a file or a directory."""

    @abstractmethod
    def list_dir(self, prefix: str = "") -> list[str]:
        """Sorted names of the children of ``prefix`` (empty when absent), hidden names
        (leading '.', so temporary siblings too) excluded."""

    def download(self, key: str, dest: str | os.PathLike[str], max_bytes: int | None = None
                 ) -> Path:
        """Copy the file at ``key`` to the local path ``dest`` (parents created).

        At most ``max_bytes`` (default: ``ZOO_MAX_ARTIFACT_BYTES``) are written: a longer
        file raises :class:`LimitExceededError` and the partial copy is the caller's to
        discard. Backends stream the copy, so a hostile source cannot fill the disk.
        """
        from zoo.registry.safe_io import max_artifact_bytes

        limit = max_artifact_bytes() if max_bytes is None else max_bytes
        data = self.get(key)
        if data is None:
            raise FileNotFoundError(f"{self.url}/{key} does not exist")
        if len(data) > limit:
            raise LimitExceededError(
                f"{self.url}/{key} has {len(data)} bytes, more than the {limit} allowed"
            )
        out = Path(dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        return out

    def local_path(self, key: str) -> Path | None:
        """The local filesystem path of ``key`` when the store is a local directory."""
        return None

    # -- writing -------------------------------------------------------------------------
    @abstractmethod
    def set(self, key: str, value: bytes) -> None:
        """Atomically write ``value`` at ``key`` (temp sibling + rename), replacing it."""

    @abstractmethod
    def put_tree(self, key: str, files: TreeSource) -> None:
        """Atomically create the directory ``key`` holding ``files`` ({relpath: local path
        or bytes}); raise :class:`VersionExistsError` when ``key`` already exists."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the file or directory ``key`` atomically (rename away, then delete)."""

    @abstractmethod
    def lock(self) -> AbstractContextManager[None]:
        """A context manager serialising writers of this store."""

    @abstractmethod
    def cleanup_temps(self, prefix: str = "", older_than: float = 0.0) -> int:
        """Delete temporary siblings (``.tmp-*``) directly under ``prefix`` that are older
        than ``older_than`` seconds; return how many were removed."""

    # -- helpers -------------------------------------------------------------------------
    def iter_tree(self, files: TreeSource) -> Iterator[tuple[int, str, Path | bytes]]:
        for i, rel in enumerate(sorted(files)):
            check_key(rel)
            yield i, rel, files[rel]
