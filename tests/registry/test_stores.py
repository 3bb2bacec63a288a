"""Each local/fsspec backend against the shared store contract."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import fsspec

from tests.registry.store_contract import StoreContract
from zoo.registry.stores import FsspecStore, LocalStore, Store, open_store


def seed_dir(root: Path, seed: dict[str, bytes]) -> Path:
    for key, value in seed.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(value)
    return root


class TestLocalStore(StoreContract):
    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        return LocalStore(seed_dir(tmp_path / "root", seed))

    def peer(self, store: Store, **kwargs: Any) -> Store:
        assert isinstance(store, LocalStore)
        return LocalStore(store.root, readonly=store.readonly, **kwargs)


class TestLocalStoreReadOnly(TestLocalStore):
    writable = False

    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        return LocalStore(seed_dir(tmp_path / "root", seed), readonly=True)


class TestFileUrlStore(StoreContract):
    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        return FsspecStore(seed_dir(tmp_path / "root", seed).as_uri())


class TestMemoryStore(StoreContract):
    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        url = f"memory://zoo-test-{uuid.uuid4().hex}"
        fs = fsspec.filesystem("memory")
        for key, value in seed.items():
            fs.pipe_file(f"{url}/{key}", value)
        return FsspecStore(url)


def test_open_store_picks_backends(tmp_path: Path) -> None:
    assert isinstance(open_store(tmp_path), LocalStore)
    assert isinstance(open_store(str(tmp_path)), LocalStore)
    local = open_store(tmp_path.as_uri())
    assert isinstance(local, LocalStore) and local.root == tmp_path
    assert isinstance(open_store("memory://x"), FsspecStore)
