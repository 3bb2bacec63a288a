"""Read-only HTTP registries served by a real local http.server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact, closed_port, serve_directory
from tests.registry.store_contract import StoreContract
from zoo.errors import IntegrityError, ReadOnlyStoreError, RemoteError, UnknownLabelError
from zoo.labels import parse
from zoo.registry.registry import Registry
from zoo.registry.stores import HttpStore, Store

OTHER = "qqbar-zz-4l/4d/f01/L-+"


class TestHttpStore(StoreContract):
    writable = False
    listable = False

    @pytest.fixture(autouse=True)
    def _server(self, tmp_path: Path) -> Iterator[None]:
        self.root = tmp_path / "served"
        self.root.mkdir()
        with serve_directory(self.root) as url:
            self.base = url
            yield

    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        for key, value in seed.items():
            (self.root / key).parent.mkdir(parents=True, exist_ok=True)
            (self.root / key).write_bytes(value)
        return HttpStore(self.base + "/", timeout=5)


@pytest.fixture
def served(tmp_path: Path, make_artifact: MakeArtifact) -> Iterator[tuple[Registry, Registry]]:
    """(local registry that is served, the same registry read over HTTP)."""
    local = Registry(tmp_path / "served")
    local.publish(make_artifact(metrics={"frac_lt_1pct": 0.9, "frac_lt_0p1pct": 0.5}))
    local.publish(make_artifact(seed=1, metrics={"frac_lt_1pct": 0.8, "frac_lt_0p1pct": 0.2}),
                  aliases=["prod"])
    local.publish(make_artifact(OTHER, seed=2))
    with serve_directory(tmp_path / "served") as url:
        yield local, Registry(url, timeout=5)


def test_browse_over_http(served: tuple[Registry, Registry]) -> None:
    local, remote = served
    assert remote.readonly and remote.url.startswith("http://127.0.0.1:")
    assert [e["label"] for e in remote.list()] == [f"{OTHER}@1", f"{LABEL}@2"]
    assert remote.list(all_versions=True) == local.list(all_versions=True)
    assert remote.list(where=["metrics.test.frac_lt_1pct>0.85"], all_versions=True)[0][
        "label"] == f"{LABEL}@1"
    assert remote.versions(LABEL) == [1, 2]
    assert remote.resolve(f"{LABEL}@best").selector == 1
    assert remote.resolve(f"{LABEL}@prod").selector == 2
    assert remote.aliases(LABEL) == {"prod": 2}
    assert remote.card(f"{LABEL}@1") == local.card(f"{LABEL}@1")
    with pytest.raises(UnknownLabelError, match="did you mean"):
        remote.resolve("qqbar-zz-4l/8d/f11/LLR")


def test_open_downloads_a_verified_copy(served: tuple[Registry, Registry], zoo_home: Path
                                        ) -> None:
    local, remote = served
    path = remote.open(OTHER)  # '+' in the helicity survives the URL
    assert path.is_relative_to(zoo_home / "cache")
    assert (path / "transforms.zarr" / "c" / "0").is_file()
    assert remote.verify_files(OTHER) == local.verify_files(OTHER)
    stamp = (path / "card.json").stat().st_mtime_ns
    assert remote.open(OTHER) == path  # reused, not downloaded again
    assert (path / "card.json").stat().st_mtime_ns == stamp


def test_tampered_remote_file_is_detected(served: tuple[Registry, Registry]) -> None:
    local, remote = served
    target = local.open(f"{LABEL}@1") / "transforms.zarr" / "c" / "3"
    target.write_bytes(b"x" * target.stat().st_size)
    with pytest.raises(IntegrityError, match=r"transforms\.zarr/c/3"):
        remote.open(f"{LABEL}@1")


def test_fetch_from_http(served: tuple[Registry, Registry], tmp_path: Path) -> None:
    _, remote = served
    mine = Registry(tmp_path / "mine")
    assert mine.fetch(f"{LABEL}@best", remote) == parse(f"{LABEL}@1")
    assert mine.card(LABEL)["fetched_from"] == {"url": remote.url, "version": 1}
    assert mine.fetch(f"{LABEL}@1", remote) == parse(f"{LABEL}@1")
    mine.verify_files(LABEL)


def test_writes_are_refused(served: tuple[Registry, Registry], make_artifact: MakeArtifact,
                            tmp_path: Path) -> None:
    _, remote = served
    calls = [
        lambda: remote.publish(make_artifact()),
        lambda: remote.set_alias(f"{LABEL}@1", "x"),
        lambda: remote.remove_alias(LABEL, "prod"),
        lambda: remote.remove(f"{LABEL}@1"),
        lambda: remote.reindex(),
        lambda: remote.import_bundle(tmp_path / "nope.tar.gz"),
        lambda: remote.fetch(LABEL, remote),
    ]
    for call in calls:
        with pytest.raises(ReadOnlyStoreError, match="read-only.*writable registry"):
            call()


def test_unreachable_remote_fails_fast() -> None:
    url = f"http://127.0.0.1:{closed_port()}/zoo"
    remote = Registry(url, timeout=2)
    start = time.monotonic()
    with pytest.raises(RemoteError, match=url.replace(".", r"\.")):
        remote.list()
    with pytest.raises(RemoteError):
        remote.open(LABEL)
    assert time.monotonic() - start < 5


def test_a_directory_without_index_is_not_a_registry(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with serve_directory(tmp_path / "empty") as url:
        with pytest.raises(RemoteError, match="index.json"):
            Registry(url, timeout=5).list()
