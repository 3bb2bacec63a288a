"""Where the zoo keeps its files: the default registry home and the download cache."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "amplitude-zoo"


def default_home() -> Path:
    """The default registry root: ``$ZOO_HOME`` if set, else the platform data directory."""
    env = os.environ.get("ZOO_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME))


def cache_dir() -> Path:
    """Root of the verified-download cache of remote artifacts (``<home>/cache``)."""
    return default_home() / "cache"


def url_digest(url: str, length: int = 16) -> str:
    """A short, filesystem-safe stable digest of a URL (used to key caches and locks)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:length]
