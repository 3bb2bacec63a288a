"""Storage backends of the registry; :func:`open_store` picks one from a location."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from zoo.errors import StoreLockedError
from zoo.registry.stores.base import Store
from zoo.registry.stores.fsspec_store import FsspecStore
from zoo.registry.stores.http import HttpStore
from zoo.registry.stores.local import LocalStore


def file_url_to_path(url: str) -> Path:
    """The local path of a ``file://`` URL."""
    parsed = urlparse(url)
    if parsed.netloc not in ("", "localhost"):
        raise ValueError(f"file URL {url!r} names a remote host; use file:///absolute/path")
    return Path(unquote(parsed.path))


def open_store(location: str | os.PathLike[str], *, readonly: bool = False,
               timeout: float | None = None) -> Store:
    """A store for ``location``: a plain path or file:// URL -> :class:`LocalStore`;
    http(s):// -> read-only :class:`HttpStore`; any other URL -> :class:`FsspecStore`."""
    if isinstance(location, os.PathLike):
        return LocalStore(location, readonly=readonly)
    text = str(location)
    if text.startswith("file://"):
        return LocalStore(file_url_to_path(text), readonly=readonly)
    if text.startswith(("http://", "https://")):
        return HttpStore(text, timeout=timeout)
    if "://" in text:
        return FsspecStore(text, readonly=readonly)
    return LocalStore(Path(text), readonly=readonly)


__all__ = ["FsspecStore", "HttpStore", "LocalStore", "Store", "StoreLockedError",
           "file_url_to_path", "open_store"]
