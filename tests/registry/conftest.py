"""Fixtures of the registry tests: an isolated ZOO_HOME and fake artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.registry.helpers import LABEL, MakeArtifact, write_artifact


@pytest.fixture(autouse=True)
def zoo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("ZOO_HOME", str(home))
    monkeypatch.delenv("ZOO_TEST_PUBLISH_PAUSE", raising=False)
    return home


@pytest.fixture
def make_artifact(tmp_path: Path) -> MakeArtifact:
    counter = iter(range(10**6))

    def make(label: str = LABEL, **kwargs: Any) -> Path:
        return write_artifact(tmp_path / "src" / f"a{next(counter)}", label, **kwargs)

    return make
