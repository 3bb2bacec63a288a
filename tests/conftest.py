"""Shared fixtures: every test gets its own empty ZOO_HOME; the toy process is available."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("zoo-home")
    monkeypatch.setenv("ZOO_HOME", str(home))
    yield home


@pytest.fixture
def toy_process():
    """Register the toy process plugin for the duration of a test."""
    from tests.zoo.toy_process import ToyPlugin
    from zoo import plugin_manager, resolver

    plugin_manager.register(ToyPlugin, "toy")
    resolver._resolver_for.cache_clear()
    try:
        yield plugin_manager.get("processes", "toy/3d")
    finally:
        plugin_manager.unregister("toy")
        resolver._resolver_for.cache_clear()


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
