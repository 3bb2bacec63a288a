"""Registry behaviour on every writable backend: publish, resolve, aliases, list, remove."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.registry.helpers import LABEL, MakeArtifact
from zoo.errors import (
    ArtifactError,
    ConfigError,
    LabelSyntaxError,
    ReadOnlyStoreError,
    UnknownLabelError,
    UnknownVersionError,
)
from zoo.labels import parse
from zoo.registry.manifest import iter_files
from zoo.registry.registry import Registry, default_home

OTHER = "qqbar-zz-4l/4d/f01/L-+"


@pytest.fixture(params=["path", "file-url", "memory"])
def reg(request: pytest.FixtureRequest, tmp_path: Path) -> Registry:
    if request.param == "path":
        return Registry(tmp_path / "reg")
    if request.param == "file-url":
        return Registry((tmp_path / "reg").as_uri())
    return Registry(f"memory://zoo-reg-{uuid.uuid4().hex}")


def metrics(f1: float, f01: float) -> dict[str, float]:
    return {"frac_lt_1pct": f1, "frac_lt_0p1pct": f01}


def test_publish_assigns_versions_and_fills_the_card(reg: Registry, make_artifact: MakeArtifact
                                                     ) -> None:
    src = make_artifact()
    before = (src / "card.json").read_text()
    assert reg.publish(src) == parse(f"{LABEL}@1")
    assert reg.publish(make_artifact(seed=1)) == parse(f"{LABEL}@2")
    assert reg.versions(LABEL) == [1, 2]
    assert (src / "card.json").read_text() == before  # the source is left untouched
    card = reg.card(f"{LABEL}@1")
    assert card["label"] == LABEL and card["version"] == 1
    assert card["published_at"].endswith("+00:00")
    sizes = sum((src / rel).stat().st_size for rel in iter_files(src) if rel != "card.json")
    assert card["disk_size_bytes"] == sizes
    manifest = reg.verify_files(f"{LABEL}@1")
    assert "card.json" in manifest["files"] and "manifest.json" not in manifest["files"]
    path = reg.open(LABEL)
    assert json.loads((path / "card.json").read_text())["version"] == 2
    assert (path / "transforms.zarr" / "zarr.json").is_file()


def test_publish_label_rules(reg: Registry, make_artifact: MakeArtifact) -> None:
    assert reg.publish(make_artifact(), OTHER) == parse(f"{OTHER}@1")
    assert reg.card(OTHER)["label"] == OTHER
    with pytest.raises(LabelSyntaxError, match="without '@'"):
        reg.publish(make_artifact(), f"{LABEL}@3")
    with pytest.raises(LabelSyntaxError):
        reg.publish(make_artifact(label="not a label"))
    src = make_artifact()
    card = json.loads((src / "card.json").read_text())
    del card["label"]
    (src / "card.json").write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match="no 'label'"):
        reg.publish(src)


def test_resolve(reg: Registry, make_artifact: MakeArtifact) -> None:
    for seed in range(3):
        reg.publish(make_artifact(seed=seed))
    assert reg.resolve(LABEL).selector == 3
    assert reg.resolve(f"{LABEL}@latest").selector == 3
    assert reg.resolve(f"{LABEL}@2").selector == 2
    with pytest.raises(UnknownVersionError, match=r"available versions: 1, 2, 3") as info:
        reg.resolve(f"{LABEL}@7")
    assert isinstance(info.value, UnknownLabelError)
    with pytest.raises(UnknownVersionError, match="aliases: latest, best"):
        reg.resolve(f"{LABEL}@nope")
    with pytest.raises(UnknownLabelError, match=r"did you mean qqbar-zz-4l/8d/f11/LLL\?.*zoo list"):
        reg.resolve("qqbar-zz-4l/8d/f11/LLR")
    with pytest.raises(UnknownLabelError):
        reg.versions("qqbar-zz-4l/8d/f00/LLR")


def test_best(reg: Registry, make_artifact: MakeArtifact) -> None:
    reg.publish(make_artifact(seed=0))  # 1: no metrics
    assert reg.resolve(f"{LABEL}@best").selector == 1  # nobody has metrics -> latest
    reg.publish(make_artifact(seed=1, metrics=metrics(0.90, 0.40)))  # 2
    reg.publish(make_artifact(seed=2, metrics=metrics(0.95, 0.40)))  # 3: wins the 1% tie-break
    reg.publish(make_artifact(seed=3, metrics=metrics(0.99, 0.30)))  # 4
    reg.publish(make_artifact(seed=4))  # 5: no metrics, latest
    assert reg.resolve(f"{LABEL}@best").selector == 3
    reg.publish(make_artifact(seed=5, metrics=metrics(0.95, 0.40)))  # 6: same metrics, same size
    assert reg.resolve(f"{LABEL}@best").selector == 6  # then the higher version
    src = make_artifact(seed=6, metrics=metrics(0.95, 0.40))
    (src / "model" / "padding.bin").write_bytes(b"0" * 1000)  # bigger on disk
    reg.publish(src)  # 7
    assert reg.resolve(f"{LABEL}@best").selector == 6


def test_aliases(reg: Registry, make_artifact: MakeArtifact) -> None:
    reg.publish(make_artifact(), aliases=["paper"])
    reg.publish(make_artifact(seed=1))
    assert reg.aliases(LABEL) == {"paper": 1}
    assert reg.set_alias(f"{LABEL}@2", "prod") == parse(f"{LABEL}@2")
    assert reg.resolve(f"{LABEL}@prod").selector == 2
    reg.set_alias(f"{LABEL}@paper", "prod")  # moves the alias
    assert reg.aliases(LABEL) == {"paper": 1, "prod": 1}
    for bad in ("latest", "best"):
        with pytest.raises(LabelSyntaxError, match="built-in"):
            reg.set_alias(f"{LABEL}@1", bad)
    with pytest.raises(LabelSyntaxError):
        reg.set_alias(f"{LABEL}@1", "Bad Alias")
    with pytest.raises(LabelSyntaxError, match="version number"):
        reg.set_alias(f"{LABEL}@1", "12")
    with pytest.raises(LabelSyntaxError, match="needs a version"):
        reg.set_alias(LABEL, "x")
    with pytest.raises(UnknownVersionError):
        reg.set_alias(f"{LABEL}@9", "x")
    with pytest.raises(LabelSyntaxError):
        reg.publish(make_artifact(), aliases=["best"])
    reg.remove_alias(LABEL, "prod")
    assert reg.aliases(LABEL) == {"paper": 1}
    with pytest.raises(UnknownVersionError):
        reg.remove_alias(LABEL, "prod")
    with pytest.raises(UnknownVersionError):
        reg.resolve(f"{LABEL}@prod")


def test_list(reg: Registry, make_artifact: MakeArtifact) -> None:
    assert reg.list() == []
    reg.publish(make_artifact(seed=0, metrics=metrics(0.99, 0.5)))
    reg.publish(make_artifact(seed=1, metrics=metrics(0.93, 0.4)), aliases=["prod"])
    reg.publish(make_artifact(OTHER, seed=2, metrics=metrics(0.999, 0.9)))
    reg.publish(make_artifact("gg-h/3d/f00/sum", seed=3), aliases=["x"])
    latest = reg.list()
    assert [e["label"] for e in latest] == ["gg-h/3d/f00/sum@1", f"{OTHER}@1",
                                            f"{LABEL}@2"]
    entry = latest[-1]
    assert entry["key"] == LABEL and entry["version"] == 2
    assert entry["aliases"] == ["latest", "prod"]
    assert entry["card"]["metrics"]["test"]["frac_lt_1pct"] == 0.93
    every = reg.list(all_versions=True)
    assert [e["label"] for e in every][-2:] == [f"{LABEL}@1", f"{LABEL}@2"]
    assert every[-2]["aliases"] == ["best"]
    assert [e["key"] for e in reg.list("qqbar-zz-4l")] == [OTHER, LABEL]
    assert [e["key"] for e in reg.list("qqbar-zz-4l/8d")] == [LABEL]
    assert [e["key"] for e in reg.list("*/*/f0?")] == ["gg-h/3d/f00/sum", OTHER]
    assert [e["key"] for e in reg.list("*/*/*/L*")] == [OTHER, LABEL]
    assert [e["label"] for e in reg.list(f"{LABEL}@best")] == [f"{LABEL}@1"]
    assert [e["label"] for e in reg.list("*@prod")] == [f"{LABEL}@2"]
    where = reg.list(where=["metrics.test.frac_lt_1pct>=0.99"])
    assert [e["key"] for e in where] == [OTHER]
    where = reg.list(where=["metrics.test.frac_lt_1pct>=0.99"], all_versions=True)
    assert [e["label"] for e in where] == [f"{OTHER}@1", f"{LABEL}@1"]
    assert [e["key"] for e in reg.list(where=["regressor.name==skdnn", "dimension!=9"])] == []
    assert len(reg.list(where=["regressor.name==skdnn"])) == 3
    assert reg.list(where=["regressor.name!=skdnn"]) == []
    assert len(reg.list(where=["disk_size_bytes<=2e6", "n_parameters>54"])) == 3
    assert reg.list(where=["disk_size_bytes<10"]) == []
    assert len(reg.list(where=["dtype == 'float32'"])) == 3
    for bad in ("metrics.test.frac_lt_1pct", "=>1", "a=1", "x>="):
        with pytest.raises(ConfigError, match="e.g."):
            reg.list(where=[bad])


def test_remove(reg: Registry, make_artifact: MakeArtifact) -> None:
    for seed in range(3):
        reg.publish(make_artifact(seed=seed))
    reg.set_alias(f"{LABEL}@2", "prod")
    reg.set_alias(f"{LABEL}@1", "old")
    with pytest.raises(LabelSyntaxError, match="explicit version"):
        reg.remove(f"{LABEL}@prod")
    with pytest.raises(LabelSyntaxError):
        reg.remove(LABEL)
    reg.remove(f"{LABEL}@2")
    assert reg.versions(LABEL) == [1, 3]
    assert reg.aliases(LABEL) == {"old": 1}
    assert [e["version"] for e in reg.list(all_versions=True)] == [1, 3]
    with pytest.raises(UnknownVersionError):
        reg.remove(f"{LABEL}@2")
    reg.remove(f"{LABEL}@3")
    assert reg.publish(make_artifact(seed=9)).selector == 4  # numbers are never reused
    assert reg.reindex() == 2


def test_reindex_rebuilds_the_index(reg: Registry, make_artifact: MakeArtifact) -> None:
    reg.publish(make_artifact(), aliases=["prod"])
    reg.publish(make_artifact(OTHER))
    store = reg.store
    before = json.loads(store.get("index.json"))
    store.delete("index.json")
    assert [e["key"] for e in reg.list()] == [OTHER, LABEL]  # derived from the cards
    assert reg.reindex() == 2
    after = json.loads(store.get("index.json"))
    assert after["labels"] == before["labels"]
    assert after["labels"][LABEL]["aliases"] == {"prod": 1}


def test_stale_temporaries_are_ignored_and_cleaned(reg: Registry, make_artifact: MakeArtifact
                                                   ) -> None:
    reg.publish(make_artifact())
    reg.store.set(f"artifacts/{LABEL}/.tmp-2-dead/card.json", b"{}")
    assert reg.versions(LABEL) == [1]
    assert len(reg.list(all_versions=True)) == 1
    reg.publish(make_artifact(seed=1))
    assert reg.store.list_dir(f"artifacts/{LABEL}") == ["1", "2"]
    assert reg.store.get(f"artifacts/{LABEL}/.tmp-2-dead/card.json") is None


def test_fetch_between_registries(reg: Registry, tmp_path: Path, make_artifact: MakeArtifact
                                  ) -> None:
    source = Registry(tmp_path / "source")
    source.publish(make_artifact(metrics=metrics(0.9, 0.5)))
    source.publish(make_artifact(seed=1, metrics=metrics(0.8, 0.1)))
    got = reg.fetch(f"{LABEL}@best", source)
    assert got == parse(f"{LABEL}@1")
    card = reg.card(got)
    assert card["fetched_from"] == {"url": source.url, "version": 1}
    assert reg.fetch(f"{LABEL}@1", source) == got  # identical files: not duplicated
    assert reg.fetch(LABEL, source) == parse(f"{LABEL}@2")
    assert reg.versions(LABEL) == [1, 2]
    reg.verify_files(f"{LABEL}@2")


def test_bundle_roundtrip(reg: Registry, tmp_path: Path, make_artifact: MakeArtifact) -> None:
    reg.publish(make_artifact())
    bundle = reg.export_bundle(LABEL, tmp_path / "out" / "a.tar.gz")
    assert reg.import_bundle(bundle) == parse(f"{LABEL}@2")
    assert reg.import_bundle(bundle, label=OTHER) == parse(f"{OTHER}@1")
    one, two = reg.verify_files(f"{LABEL}@1"), reg.verify_files(f"{LABEL}@2")
    files = {k: v for k, v in one["files"].items() if k != "card.json"}
    assert files == {k: v for k, v in two["files"].items() if k != "card.json"}


def test_default_home_and_bundled(zoo_home: Path, make_artifact: MakeArtifact) -> None:
    assert default_home() == zoo_home
    reg = Registry()
    assert reg.url == zoo_home.absolute().as_uri() and not reg.readonly
    reg.publish(make_artifact())
    assert (zoo_home / "artifacts" / LABEL / "1" / "manifest.json").is_file()
    bundled = Registry.bundled()
    assert bundled.readonly
    assert isinstance(bundled.list(), list)
    with pytest.raises(ReadOnlyStoreError, match="read-only"):
        bundled.publish(make_artifact())
    assert reg.fetch(LABEL, reg) == parse(f"{LABEL}@1")
