"""A store in a local directory: atomic writes via temporary siblings + ``os.replace``."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import filelock

from zoo.errors import StoreLockedError, VersionExistsError
from zoo.registry.safe_io import copy_capped, max_artifact_bytes, open_regular, read_regular
from zoo.registry.stores.base import (
    TMP_PREFIX,
    Store,
    TreeSource,
    check_key,
    maybe_pause,
    tmp_name,
)

LOCK_NAME = ".lock"
CHUNK = 1 << 20


def fsync_dir(path: Path) -> None:
    """fsync a directory so that a rename inside it is durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_file(dest: Path, src: Path | bytes) -> None:
    """Write ``src`` (a local file or bytes) to ``dest`` and fsync it."""
    with open(dest, "wb") as out:
        if isinstance(src, bytes | bytearray | memoryview):
            out.write(src)
        else:
            with open(src, "rb") as fh:
                shutil.copyfileobj(fh, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())


class LocalStore(Store):
    """Files under a local directory ``root`` (created on the first write)."""

    def __init__(self, root: str | os.PathLike[str], *, readonly: bool = False,
                 lock_timeout: float = 600.0) -> None:
        super().__init__(readonly=readonly)
        self.root = Path(root).expanduser().absolute()
        self._lock_timeout = lock_timeout
        self._lock: filelock.FileLock | None = None

    @property
    def url(self) -> str:
        return self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key) if key else self.root

    def local_path(self, key: str) -> Path:
        return self._path(key)

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        """The bytes at ``key`` (a regular file only: a FIFO, device or symlink raises
        :class:`ArtifactError` instead of blocking), ``None`` when absent."""
        path = self._path(key)
        if path.is_dir():
            return None
        try:
            return read_regular(path)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list_dir(self, prefix: str = "") -> list[str]:
        try:
            return sorted(n for n in os.listdir(self._path(prefix)) if not n.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def download(self, key: str, dest: str | os.PathLike[str], max_bytes: int | None = None
                 ) -> Path:
        out = Path(dest)
        out.parent.mkdir(parents=True, exist_ok=True)
        limit = max_artifact_bytes() if max_bytes is None else max_bytes
        with open_regular(self._path(key)) as src, open(out, "wb") as dst:
            copy_capped(src, dst, limit, f"{self.url}/{key}")
        return out

    # -- writing -------------------------------------------------------------------------
    def set(self, key: str, value: bytes) -> None:
        self._check_writable(f"write {key}")
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(tmp_name(target.name))
        try:
            write_file(tmp, bytes(value))
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        fsync_dir(target.parent)

    def put_tree(self, key: str, files: TreeSource) -> None:
        self._check_writable(f"publish {key}")
        target = self._path(key)
        if target.exists():
            raise VersionExistsError(
                f"{self.url}/{key} already exists; published versions are immutable "
                "(publish again to create the next version)"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(tmp_name(target.name))
        tmp.mkdir()
        try:
            total = len(files)
            for i, rel, src in self.iter_tree(files):
                dest = tmp / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                write_file(dest, src)
                maybe_pause(i + 1, total)
            for dirpath, _dirs, _files in os.walk(tmp, topdown=False):
                fsync_dir(Path(dirpath))
            try:
                os.rename(tmp, target)  # fails on a non-empty existing target
            except OSError as exc:
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise VersionExistsError(
                        f"{self.url}/{key} appeared while publishing; published versions "
                        "are immutable"
                    ) from exc
                raise
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(target.parent)

    def delete(self, key: str) -> None:
        self._check_writable(f"delete {key}")
        target = self._path(key)
        if not target.exists():
            raise FileNotFoundError(f"{self.url}/{key} does not exist")
        if target.is_dir() and not target.is_symlink():
            tmp = target.with_name(tmp_name(f"del-{target.name}"))
            os.rename(target, tmp)
            fsync_dir(target.parent)
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            target.unlink()
            fsync_dir(target.parent)

    def lock(self) -> AbstractContextManager[None]:
        if self.readonly:
            return nullcontext()
        return self._locked()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock = filelock.FileLock(str(self.root / LOCK_NAME), is_singleton=False)
        try:
            self._lock.acquire(timeout=self._lock_timeout)
        except filelock.Timeout as exc:
            raise StoreLockedError(
                f"could not lock the registry at {self.url} within {self._lock_timeout:g} s: "
                f"another process is writing to it; retry later, or delete {self.root / LOCK_NAME} "
                "if no zoo process is running"
            ) from exc
        try:
            yield
        finally:
            self._lock.release()

    def cleanup_temps(self, prefix: str = "", older_than: float = 0.0) -> int:
        if self.readonly:
            return 0
        base = self._path(prefix)
        try:
            names = [n for n in os.listdir(base) if n.startswith(TMP_PREFIX)]
        except (FileNotFoundError, NotADirectoryError):
            return 0
        now = time.time()
        removed = 0
        for name in names:
            path = base / name
            try:
                if now - path.lstat().st_mtime < older_than:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed += 1
            except FileNotFoundError:
                continue
        return removed
