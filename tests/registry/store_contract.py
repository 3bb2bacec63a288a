"""The contract every store backend satisfies; each backend's test class subclasses it.

Subclasses implement :meth:`StoreContract.make_store` (a store whose root already holds
``seed``) and set ``writable``/``listable``. Write tests are skipped for read-only
backends, which instead must refuse every write with :class:`ReadOnlyStoreError`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zoo.errors import ReadOnlyStoreError, VersionExistsError
from zoo.registry.stores.base import Store

SEED = {
    "a.json": b'{"x": 1}',
    "dir/b.bin": bytes(range(256)) * 4,
    "dir/sub/c.txt": b"c",
}


class StoreContract:
    writable: bool = True
    listable: bool = True

    def make_store(self, tmp_path: Path, seed: dict[str, bytes]) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        return self.make_store(tmp_path, dict(SEED))

    def needs_write(self) -> None:
        if not self.writable:
            pytest.skip("read-only backend")

    # -- reading -------------------------------------------------------------------------
    def test_readonly_flag(self, store: Store) -> None:
        assert store.readonly is (not self.writable)
        assert store.url

    def test_get(self, store: Store) -> None:
        for key, value in SEED.items():
            assert store.get(key) == value

    def test_get_missing_is_none(self, store: Store) -> None:
        assert store.get("nope.json") is None
        assert store.get("dir/nope/x") is None

    def test_exists(self, store: Store) -> None:
        assert store.exists("a.json")
        assert store.exists("dir/sub/c.txt")
        assert not store.exists("nope.json")

    def test_invalid_keys_are_refused(self, store: Store) -> None:
        for bad in ("../x", "/abs", "dir/../../x"):
            with pytest.raises(ValueError):
                store.get(bad)

    def test_download(self, store: Store, tmp_path: Path) -> None:
        out = store.download("dir/b.bin", tmp_path / "dl" / "b.bin")
        assert out.read_bytes() == SEED["dir/b.bin"]

    def test_list_dir(self, store: Store) -> None:
        if not self.listable:
            with pytest.raises(NotImplementedError):
                store.list_dir("dir")
            return
        assert store.list_dir("") == ["a.json", "dir"]
        assert store.list_dir("dir") == ["b.bin", "sub"]
        assert store.list_dir("missing") == []

    # -- writing -------------------------------------------------------------------------
    def test_set_roundtrip_and_replace(self, store: Store) -> None:
        self.needs_write()
        store.set("new/x.json", b"1")
        store.set("new/x.json", b"22")
        assert store.get("new/x.json") == b"22"
        assert store.list_dir("new") == ["x.json"]  # no temporary sibling left behind

    def test_put_tree(self, store: Store, tmp_path: Path) -> None:
        self.needs_write()
        src = tmp_path / "f.bin"
        src.write_bytes(b"file")
        store.put_tree("t/1", {"card.json": b"{}", "deep/er/f.bin": src})
        assert store.get("t/1/card.json") == b"{}"
        assert store.get("t/1/deep/er/f.bin") == b"file"
        assert store.list_dir("t") == ["1"]

    def test_put_tree_never_overwrites(self, store: Store) -> None:
        self.needs_write()
        store.put_tree("t/1", {"a": b"1"})
        with pytest.raises(VersionExistsError):
            store.put_tree("t/1", {"a": b"2"})
        assert store.get("t/1/a") == b"1"

    def test_failed_put_tree_leaves_nothing(self, store: Store, tmp_path: Path) -> None:
        self.needs_write()
        with pytest.raises(OSError):
            store.put_tree("t/1", {"a": b"1", "b": tmp_path / "does-not-exist"})
        assert not store.exists("t/1")
        assert store.list_dir("t") == []
        assert store.cleanup_temps("t") == 0

    def test_delete(self, store: Store) -> None:
        self.needs_write()
        store.delete("dir")
        assert not store.exists("dir/b.bin")
        assert store.list_dir("") == ["a.json"]
        store.delete("a.json")
        assert store.get("a.json") is None
        with pytest.raises(FileNotFoundError):
            store.delete("a.json")

    def test_listing_ignores_and_cleanup_removes_temps(self, store: Store) -> None:
        self.needs_write()
        store.set("dir/.tmp-stale-1", b"junk")
        assert ".tmp-stale-1" not in store.list_dir("dir")
        assert store.cleanup_temps("dir", older_than=3600) == 0  # too young
        assert store.cleanup_temps("dir") == 1
        assert store.get("dir/.tmp-stale-1") is None
        assert store.get("dir/b.bin") == SEED["dir/b.bin"]

    def test_lock(self, store: Store) -> None:
        self.needs_write()
        for _ in range(2):
            with store.lock():
                store.set("locked.json", b"{}")

    def test_writes_refused_when_readonly(self, store: Store) -> None:
        if self.writable:
            pytest.skip("writable backend")
        with pytest.raises(ReadOnlyStoreError, match="read-only"):
            store.set("a.json", b"x")
        with pytest.raises(ReadOnlyStoreError):
            store.put_tree("t/1", {"a": b"1"})
        with pytest.raises(ReadOnlyStoreError):
            store.delete("a.json")
        assert store.get("a.json") == SEED["a.json"]
