"""How the local registry ($ZOO_HOME) and the bundled one combine (README, "Labels").

An explicit version or user alias: the first registry (local, then bundled) that has it.
No selector / ``@latest``: the local latest when the label is stored locally. ``@best``:
compared across both registries (a tie goes to local). Listings mark one ``latest`` and
one ``best`` per label. The bundled registry is a fake one here (monkeypatched).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo.api
from tests.registry.helpers import LABEL, MakeArtifact
from zoo.cli import cli
from zoo.errors import UnknownLabelError
from zoo.labels import parse
from zoo.registry.registry import Registry

OTHER = "qqbar-zz-4l/4d/f11/L--"  # stored in the bundled registry only
RELATED = "qqbar-zz-4l/8d/f11/RRL"  # resolved onto LABEL by the process's symmetries


def _m(f01: float, f1: float = 0.999) -> dict[str, float]:
    return {"frac_lt_0p1pct": f01, "frac_lt_1pct": f1}


@pytest.fixture
def bundled(tmp_path: Path, make_artifact: MakeArtifact, monkeypatch: pytest.MonkeyPatch
            ) -> Registry:
    """A read-only bundle with LABEL@1 (poor), LABEL@2 (good: its best and latest), OTHER@1."""
    root = tmp_path / "bundled"
    writer = Registry(root)
    writer.publish(make_artifact(metrics=_m(0.20)))
    writer.publish(make_artifact(metrics=_m(0.95)))
    writer.publish(make_artifact(OTHER, metrics=_m(0.90)))
    reg = Registry(root, readonly=True)
    monkeypatch.setattr(zoo.api, "bundled_registry", lambda: reg)
    return reg


@pytest.fixture
def local() -> Registry:
    return Registry()  # $ZOO_HOME of this test


def where(label: str) -> tuple[str, str]:
    reg, lab, _ = zoo.api.locate(label)
    return ("local" if reg.url == Registry().url else "bundled"), str(lab)


def test_a_worse_local_version_does_not_win_best(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.50)))
    assert where(f"{LABEL}@best") == ("bundled", f"{LABEL}@2")
    assert where(f"{RELATED}@best") == ("bundled", f"{LABEL}@2")  # through the canonical label
    # ... while no selector and @latest give the local one: your newest work
    assert where(LABEL) == ("local", f"{LABEL}@1")
    assert where(f"{LABEL}@latest") == ("local", f"{LABEL}@1")


def test_a_better_local_version_wins_best(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.99)))
    local.publish(make_artifact(metrics=_m(0.10)))  # the local latest, worse again
    assert where(f"{LABEL}@best") == ("local", f"{LABEL}@1")
    assert where(LABEL) == ("local", f"{LABEL}@2")


def test_a_tie_goes_to_local(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.95)))  # same metrics and disk size as bundled @2
    assert where(f"{LABEL}@best") == ("local", f"{LABEL}@1")


def test_metrics_decide_before_disk_size_and_version(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.95, f1=0.9999)))
    assert where(f"{LABEL}@best") == ("local", f"{LABEL}@1")
    local.publish(make_artifact(metrics={"frac_lt_1pct": 1.0}))  # unscored: never best
    assert where(f"{LABEL}@best") == ("local", f"{LABEL}@1")


def test_explicit_versions_and_aliases_resolve_in_search_order(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.50)), aliases=["mine"])
    assert where(f"{LABEL}@1") == ("local", f"{LABEL}@1")  # local first
    assert where(f"{LABEL}@2") == ("bundled", f"{LABEL}@2")  # only the bundle has it
    assert where(f"{LABEL}@mine") == ("local", f"{LABEL}@1")
    assert where(OTHER) == ("bundled", f"{OTHER}@1")  # not stored locally
    with pytest.raises(UnknownLabelError, match=r"no version or alias 7.*no version or alias 7"):
        zoo.api.locate(f"{LABEL}@7")  # both registries said what they have


def _marks(entries: list[dict]) -> dict[str, list[str]]:
    return {f"{e['label']} {'bundled' if e['registry'] == zoo.api.bundled_registry().url else 'local'}":
            e["aliases"] for e in entries}


def test_listing_marks_one_latest_and_one_global_best(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.50)))
    assert _marks(zoo.api.list_models(LABEL)) == {
        f"{LABEL}@1 local": ["latest"], f"{LABEL}@2 bundled": ["best"]}
    assert _marks(zoo.api.list_models(LABEL, all_versions=True)) == {
        f"{LABEL}@1 local": ["latest"], f"{LABEL}@1 bundled": [], f"{LABEL}@2 bundled": ["best"]}
    assert _marks(zoo.api.list_models(f"{LABEL}@best")) == {f"{LABEL}@2 bundled": ["best"]}
    assert _marks(zoo.api.list_models(f"{LABEL}@latest")) == {f"{LABEL}@1 local": ["latest"]}
    assert _marks(zoo.api.list_models(f"{LABEL}@1")) == {f"{LABEL}@1 local": ["latest"]}
    assert _marks(zoo.api.list_models(OTHER)) == {f"{OTHER}@1 bundled": ["latest", "best"]}
    only = zoo.api.list_models("*", where=["metrics.test.frac_lt_0p1pct>=0.9"])
    assert [e["label"] for e in only] == [f"{OTHER}@1", f"{LABEL}@2"]


def test_listing_shows_the_best_when_it_is_not_a_latest(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.99)))
    local.publish(make_artifact(metrics=_m(0.10)))
    assert _marks(zoo.api.list_models(LABEL)) == {
        f"{LABEL}@1 local": ["best"], f"{LABEL}@2 local": ["latest"], f"{LABEL}@2 bundled": []}


def test_zoo_list_json_and_show_agree(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.50)))
    out = CliRunner().invoke(cli, ["list", LABEL, "--json"])
    assert out.exit_code == 0, out.output
    rows = {(e["label"], e["registry"]): e["aliases"] for e in json.loads(out.output)}
    assert rows == {(f"{LABEL}@1", local.url): ["latest"], (f"{LABEL}@2", bundled.url): ["best"]}
    table = CliRunner().invoke(cli, ["list", LABEL])
    assert "bundled" in table.output and "local" in table.output


def test_an_explicit_registry_is_searched_alone(bundled, local, make_artifact):
    local.publish(make_artifact(metrics=_m(0.50)))
    reg, lab, _ = zoo.api.locate(f"{LABEL}@best", registry=local)
    assert reg.url == local.url and lab == parse(f"{LABEL}@1")
    assert [e["label"] for e in zoo.api.list_models(registry=local)] == [f"{LABEL}@1"]
