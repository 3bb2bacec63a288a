"""The contract every store backend satisfies; each backend's test class subclasses it.

Subclasses implement :meth:`StoreContract.make_store` (a store whose root already holds
``seed``) and set ``writable``/``listable``; :meth:`StoreContract.peer` opens a second
instance on the same root (another writer: the locking tests use several, in threads).
Write tests are skipped for read-only backends, which instead must refuse every write with
:class:`ReadOnlyStoreError`.
"""

from __future__ import annotations

import threading
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from zoo.errors import ReadOnlyStoreError, StoreLockedError, VersionExistsError
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

    def peer(self, store: Store, **kwargs: Any) -> Store:
        """Another instance of the backend on ``store``'s root (its own lock object)."""
        return type(store)(store.url, **kwargs)

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

    @staticmethod
    def _count(stores: list[Store], lock: bool, rounds: int = 5) -> int:
        """Each store increments ``counter`` ``rounds`` times in its own thread (read, pause,
        write; under ``store.lock()`` when ``lock``); the final count."""
        start = threading.Barrier(len(stores))
        errors: list[BaseException] = []

        def work(s: Store) -> None:
            try:
                start.wait()
                for _ in range(rounds):
                    guard: AbstractContextManager[None] = s.lock() if lock else nullcontext()
                    with guard:
                        n = int(s.get("counter") or b"0")
                        time.sleep(0.003)  # widen the window another writer could use
                        s.set("counter", str(n + 1).encode())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors:
            raise errors[0]
        return int(stores[0].get("counter") or b"0")

    def test_lock_serialises_concurrent_writers(self, store: Store) -> None:
        """4 writers (separate instances, threads) x 5 read-modify-write rounds under the
        lock: no update lost. The same writers without the lock lose updates (the control
        shows the check can fail)."""
        self.needs_write()
        writers = [store] + [self.peer(store) for _ in range(3)]
        assert self._count(writers, lock=True) == 20
        store.delete("counter")
        assert self._count(writers, lock=False) < 20

    def test_lock_excludes_a_second_holder_until_released(self, store: Store) -> None:
        self.needs_write()
        other = self.peer(store, lock_timeout=0.2)
        for _ in range(2):
            with store.lock():
                with pytest.raises(StoreLockedError, match="lock"):
                    with other.lock():
                        pass
            with other.lock():  # released: the other writer gets it at once
                other.set("locked.json", b"{}")
        assert store.get("locked.json") == b"{}"

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
        with store.lock(), self.peer(store).lock():  # nothing to serialise: never blocks
            pass
