"""Helpers of the registry tests: fake artifacts and a local HTTP server."""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from safetensors.numpy import save_file

LABEL = "qqbar-zz-4l/8d/f11/LLL"  # canonical: imports refuse labels that symmetries map away

MakeArtifact = Callable[..., Path]


def write_artifact(root: Path, label: str = LABEL, *, seed: int = 0,
                   metrics: dict[str, float] | None = None, **card: Any) -> Path:
    """A tiny fake artifact: card.json, safetensors weights and a nested zarr v3 array."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    doc: dict[str, Any] = {"label": label, "regressor": {"name": "skdnn"},
                           "n_parameters": 55, "dtype": "float32", **card}
    if metrics is not None:
        doc["metrics"] = {"test": metrics}
    (root / "card.json").write_text(json.dumps(doc))
    (root / "model").mkdir(exist_ok=True)
    save_file({"w": rng.standard_normal((4, 3)).astype("float32")},
              str(root / "model" / "model.safetensors"))
    arr = zarr.create_array(store=str(root / "transforms.zarr"), shape=(8,), chunks=(2,),
                            dtype="float64", zarr_format=3, overwrite=True)
    arr[:] = rng.standard_normal(8)
    return root




class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass


@contextlib.contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve ``directory`` over HTTP on 127.0.0.1 in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    """A TCP port on 127.0.0.1 on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
