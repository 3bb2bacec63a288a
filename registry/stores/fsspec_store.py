"""A store over any fsspec URL (file://, memory://, s3://, ...): temp sibling + ``mv``.

Writes go to a ``.tmp-`` sibling which is then moved into place. On object stores a
"move" is a copy + delete, so atomicity there is only as strong as the backend's; the
lock is a file lock on this machine (``<home>/locks``) unless the URL is file://.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import filelock
import fsspec
from fsspec.core import url_to_fs

from zoo.errors import LimitExceededError, RemoteError, StoreLockedError, VersionExistsError
from zoo.registry.paths import default_home, url_digest
from zoo.registry.safe_io import MAX_JSON_BYTES, copy_capped, max_artifact_bytes
from zoo.registry.stores.base import (
    TMP_PREFIX,
    Store,
    TreeSource,
    check_key,
    maybe_pause,
    tmp_name,
)

try:  # aiohttp is only needed by the HTTP filesystem
    import aiohttp

    _NET_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError,)
except ImportError:  # pragma: no cover
    _NET_ERRORS = ()
_NET_ERRORS += (TimeoutError, asyncio.TimeoutError, ConnectionError)
with contextlib.suppress(ImportError):
    from fsspec.exceptions import FSTimeoutError

    _NET_ERRORS += (FSTimeoutError,)


class FsspecStore(Store):
    """Files under ``url`` on any fsspec filesystem."""

    def __init__(self, url: str, *, readonly: bool = False, lock_timeout: float = 600.0,
                 fs: fsspec.AbstractFileSystem | None = None,
                 storage_options: dict[str, Any] | None = None) -> None:
        super().__init__(readonly=readonly)
        self._url = url.rstrip("/")
        if fs is None:
            fs, root = url_to_fs(self._url, **(storage_options or {}))
        else:
            root = fs._strip_protocol(self._url)
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = str(root).rstrip("/")
        self._lock_timeout = lock_timeout
        self._lock: filelock.FileLock | None = None
        protocols = fs.protocol if isinstance(fs.protocol, tuple | list) else (fs.protocol,)
        self._is_local = "file" in protocols or "local" in protocols
        # memory:// lives in this process, so a lock on this machine covers every writer
        self.lock_is_global = self._is_local or "memory" in protocols

    @property
    def url(self) -> str:
        return self._url

    def _path(self, key: str) -> str:
        return f"{self.root}/{check_key(key)}" if key else self.root

    def _remote_error(self, key: str, exc: BaseException) -> RemoteError:
        where = f"{self._url}/{key}" if key else self._url
        return RemoteError(
            f"could not reach {where}: {type(exc).__name__}: {exc}. Check the URL, your "
            "network connection and that the server is up"
        )

    def _call(self, key: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FileNotFoundError:
            raise
        except _NET_ERRORS as exc:
            raise self._remote_error(key, exc) from exc

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The bytes at ``key`` (at most ``MAX_JSON_BYTES``: registry documents are small;
        artifact files go through :meth:`download`), ``None`` when absent."""

        def read() -> bytes:
            with self.fs.open(self._path(key), "rb") as fh:
                return fh.read(MAX_JSON_BYTES + 1)

        try:
            data = self._call(key, read)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        if len(data) > MAX_JSON_BYTES:
            raise LimitExceededError(
                f"{self.url}/{key} is larger than {MAX_JSON_BYTES} bytes, the most the zoo "
                "reads for a registry document; the remote registry is corrupted or hostile"
            )
        return data

    def exists(self, key: str) -> bool:
        return bool(self._call(key, self.fs.exists, self._path(key)))

    def list_dir(self, prefix: str = "") -> list[str]:
        path = self._path(prefix)
        try:
            entries = self._call(prefix, self.fs.ls, path, detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = {str(e).rstrip("/").rsplit("/", 1)[-1] for e in entries}
        if len(entries) == 1 and str(entries[0]).rstrip("/") == path:  # a file, not a dir
            return []
        return sorted(n for n in names if n and not n.startswith("."))

    def download(self, key: str, dest: str | os.PathLike[str], max_bytes: int | None = None
                 ) -> Path:
        out = Path(dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        limit = max_artifact_bytes() if max_bytes is None else max_bytes

        def stream() -> None:  # chunked and capped: a lying server cannot fill the disk
            with self.fs.open(self._path(key), "rb") as src, open(out, "wb") as dst:
                copy_capped(src, dst, limit, f"{self.url}/{key}")

        self._call(key, stream)
        return out

    def local_path(self, key: str) -> Path | None:
        return Path(self._path(key)) if self._is_local else None

    # -- writing -------------------------------------------------------------------------
    def _sibling(self, path: str, prefix: str = "") -> str:
        parent, _, name = path.rpartition("/")
        return f"{parent}/{tmp_name(prefix + name)}"

    def set(self, key: str, value: bytes) -> None:
        self._check_writable(f"write {key}")
        target = self._path(key)
        tmp = self._sibling(target)
        self.fs.makedirs(target.rpartition("/")[0], exist_ok=True)
        try:
            self._call(key, self.fs.pipe_file, tmp, bytes(value))
            self._call(key, self.fs.mv, tmp, target)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp)
            raise

    def put_tree(self, key: str, files: TreeSource) -> None:
        self._check_writable(f"publish {key}")
        target = self._path(key)
        if self.fs.exists(target):
            raise VersionExistsError(
                f"{self._url}/{key} already exists; published versions are immutable "
                "(publish again to create the next version)"
            )
        tmp = self._sibling(target)
        try:
            total = len(files)
            for i, rel, src in self.iter_tree(files):
                dest = f"{tmp}/{rel}"
                self.fs.makedirs(dest.rpartition("/")[0], exist_ok=True)
                if isinstance(src, bytes | bytearray | memoryview):
                    self._call(key, self.fs.pipe_file, dest, bytes(src))
                else:
                    self._call(key, self.fs.put_file, str(src), dest)
                maybe_pause(i + 1, total)
            if self.fs.exists(target):
                raise VersionExistsError(f"{self._url}/{key} appeared while publishing")
            self._call(key, self.fs.mv, tmp, target, recursive=True)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm(tmp, recursive=True)
            raise

    def delete(self, key: str) -> None:
        self._check_writable(f"delete {key}")
        target = self._path(key)
        if not self.fs.exists(target):
            raise FileNotFoundError(f"{self._url}/{key} does not exist")
        if self.fs.isdir(target):
            tmp = self._sibling(target, "del-")
            self._call(key, self.fs.mv, target, tmp, recursive=True)
            self._call(key, self.fs.rm, tmp, recursive=True)
        else:
            self._call(key, self.fs.rm_file, target)

    def lock(self) -> AbstractContextManager[None]:
        if self.readonly:
            return nullcontext()
        return self._locked()

    def _lock_path(self) -> Path:
        if self._is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            return Path(self.root) / ".lock"
        locks = default_home() / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        return locks / f"{url_digest(self._url)}.lock"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            self._lock = filelock.FileLock(str(self._lock_path()), is_singleton=False)
        try:
            self._lock.acquire(timeout=self._lock_timeout)
        except filelock.Timeout as exc:
            raise StoreLockedError(
                f"could not lock the registry at {self._url} within {self._lock_timeout:g} s: "
                "another process is writing to it; retry later"
            ) from exc
        try:
            yield
        finally:
            self._lock.release()

    def cleanup_temps(self, prefix: str = "", older_than: float = 0.0) -> int:
        if self.readonly:
            return 0
        try:
            entries = self.fs.ls(self._path(prefix), detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return 0
        now = time.time()
        removed = 0
        for entry in entries:
            name = str(entry["name"]).rstrip("/").rsplit("/", 1)[-1]
            if not name.startswith(TMP_PREFIX):
                continue
            if older_than > 0 and now - _mtime(entry, now) < older_than:
                continue
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(entry["name"], recursive=True)
                removed += 1
        return removed


def _mtime(entry: dict[str, Any], default: float) -> float:
    for field in ("mtime", "created", "LastModified", "last_modified"):
        value = entry.get(field)
        if isinstance(value, int | float):
            return float(value)
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
    return default
