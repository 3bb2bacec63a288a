"""A read-only store over http(s):// through fsspec's HTTPFileSystem.

HTTP cannot list directories, so a registry served over HTTP is discovered through its
``index.json`` and each artifact's ``manifest.json``.
"""

from __future__ import annotations

import os

import aiohttp
from fsspec.implementations.http import HTTPFileSystem

from zoo.registry.stores.fsspec_store import FsspecStore

DEFAULT_TIMEOUT = 30.0


def http_timeout() -> float:
    """Seconds before an HTTP request gives up (``$ZOO_HTTP_TIMEOUT``, default 30)."""
    try:
        return float(os.environ.get("ZOO_HTTP_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


class HttpStore(FsspecStore):
    """Files under an http(s):// URL, read-only."""

    supports_listing = False

    def __init__(self, url: str, *, timeout: float | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"HttpStore needs an http(s):// URL, got {url!r}")
        seconds = http_timeout() if timeout is None else float(timeout)
        fs = HTTPFileSystem(
            client_kwargs={"timeout": aiohttp.ClientTimeout(total=seconds, connect=seconds)},
            skip_instance_cache=True,
        )
        super().__init__(url, readonly=True, fs=fs)
        self.root = self.url
        self.timeout = seconds

    def exists(self, key: str) -> bool:
        try:
            return bool(self._call(key, self.fs.exists, self._path(key), strict=True))
        except FileNotFoundError:
            return False

    def list_dir(self, prefix: str = "") -> list[str]:
        raise NotImplementedError(
            f"{self.url} is served over HTTP, which cannot list directories; read the "
            "registry's index.json instead"
        )

    def check_reachable(self) -> None:
        """Raise :class:`~zoo.errors.RemoteError` when the server does not answer at all."""
        self.get("index.json")


__all__ = ["HttpStore", "http_timeout"]
