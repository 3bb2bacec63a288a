"""The registry: immutable, versioned artifacts found by physics label.

Layout under the store's root::

    artifacts/<process>/<D>d/<term>/<helicity>/<version>/   card.json, manifest.json, files
    artifacts/<process>/<D>d/<term>/<helicity>/.retired.json  removed versions (never reused)
    aliases.json   user aliases  {label_key: {alias: version}}
    index.json     every card + aliases, derivable from the above (:meth:`Registry.reindex`)
    .lock          the writers' lock; ``.tmp-*`` temporary siblings are ignored by listings

The artifact directories are the truth; ``index.json`` is a cache that lets read-only
HTTP registries (which cannot list directories) be browsed. On listable stores the index
is reconciled with the directories whenever it is read.
"""

from __future__ import annotations

import contextlib
import difflib
import importlib.resources
import json
import lzma
import math
import os
import re
import shutil
import tarfile
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from zoo.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    ConfigError,
    IncompleteArtifactError,
    IntegrityError,
    LabelSyntaxError,
    LimitExceededError,
    RemoteError,
    UnknownLabelError,
    UnknownVersionError,
)
from zoo.labels import Label, as_label, matches, parse_selector
from zoo.registry import bundle as _bundle
from zoo.registry import packed as _packed
from zoo.registry.manifest import (
    CARD_NAME,
    MANIFEST_NAME,
    Manifest,
    dumps,
    iter_files,
    make_manifest,
    parse_card,
    parse_manifest,
    read_card,
    read_manifest,
    same_content,
    sha256_bytes,
    sha256_file,
    verify_dir,
)
from zoo.registry.paths import cache_dir, default_home, url_digest
from zoo.registry.safe_io import max_artifact_bytes
from zoo.registry.stores import Store, open_store
from zoo.registry.stores.base import check_key, tmp_name

__all__ = ["Registry", "default_home", "BUILTIN_ALIASES", "best_key", "bundled_location"]

ARTIFACTS = "artifacts"
INDEX = "index.json"
ALIASES = "aliases.json"
RETIRED = ".retired.json"
INDEX_SCHEMA = 1
BUILTIN_ALIASES = ("latest", "best")
#: temporary siblings older than this are removed by a publish on stores whose lock only
#: covers this machine (object stores); under a global lock every temp sibling is stale
STALE_TMP_S = 3600.0
#: scratch space of imports, under the registry root or ZOO_HOME (hidden from listings)
SCRATCH = ".zoo-tmp"
#: a registry that cannot be listed (HTTP) re-reads its index.json at most this often
REMOTE_INDEX_TTL_S = 5.0

_FILTER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*(>=|<=|==|!=|>|<)\s*(.*?)\s*$")
#: names a filter may give without the ``uncertainty.`` prefix (the calibration record)
UNCERTAINTY_FIELDS = frozenset({
    "calibration_scale", "n_calibration", "calibration_source", "coverage_1sigma",
    "coverage_2sigma", "pull_mean", "pull_width", "sharpness", "exact_fraction", "vouch_k"})
_FILTER_EXAMPLE = "'metrics.test.frac_lt_1pct>=0.99', 'disk_size_bytes<=2e6' or 'regressor.name==skdnn'"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(obj: Any) -> bytes:
    return dumps(obj)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _dig(card: Mapping[str, Any], path: str) -> Any:
    node: Any = card
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass(frozen=True)
class CardFilter:
    """One ``where`` filter, ``dotted.card.path OP value``.

    A bare name that the card lacks at its top level is looked up in the calibration record
    ``uncertainty`` (``coverage_2sigma>=0.9`` means ``uncertainty.coverage_2sigma>=0.9``);
    ``exact_fraction.1e-3`` likewise."""

    path: str
    op: str
    value: str

    _OPS = {
        ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
        "!=": lambda a, b: a != b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
    }

    @classmethod
    def parse(cls, text: str) -> CardFilter:
        """Parse ``"metrics.test.frac_lt_1pct>=0.99"``; :class:`ConfigError` when malformed."""
        m = _FILTER.match(text) if isinstance(text, str) else None
        if not m or not m.group(3):
            raise ConfigError(
                f"malformed filter {text!r}: expected 'dotted.card.path OP value' with OP one "
                f"of >=, <=, ==, !=, >, <, e.g. {_FILTER_EXAMPLE}"
            )
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        return cls(m.group(1), m.group(2), value)

    def __call__(self, card: Mapping[str, Any]) -> bool:
        """True when the card satisfies the filter (a missing field never does)."""
        actual = _dig(card, self.path)
        if actual is None and self.path.split(".")[0] in UNCERTAINTY_FIELDS:
            actual = _dig(card, f"uncertainty.{self.path}")
        if actual is None:
            return False
        compare: Callable[[Any, Any], bool] = self._OPS[self.op]
        num = _number(actual)
        if num is not None:
            try:
                return compare(num, float(self.value))
            except ValueError:
                pass
        text = actual if isinstance(actual, str) else json.dumps(actual)
        return compare(text, self.value)


def best_key(card: Mapping[str, Any]) -> tuple[float, float, float]:
    """The key by which ``@best`` ranks versions, higher is better: ``(frac_lt_0p1pct,
    frac_lt_1pct, -disk_size_bytes)`` of ``card["metrics"]["test"]``, a missing field as
    -inf; a card without ``frac_lt_0p1pct`` ranks below every card that has it."""
    test = _dig(card, "metrics.test")
    test = test if isinstance(test, Mapping) else {}
    f01 = _number(test.get("frac_lt_0p1pct"))
    if f01 is None:
        return (-math.inf, -math.inf, -math.inf)
    f1 = _number(test.get("frac_lt_1pct"))
    size = _number(card.get("disk_size_bytes"))
    return (f01, -math.inf if f1 is None else f1, -math.inf if size is None else -size)


def _best_version(cards: Mapping[int, Mapping[str, Any]]) -> int:
    """The "best" version among ``cards`` (see :meth:`Registry.resolve`): the highest
    :func:`best_key`, ties to the higher version (so the latest when no card is scored)."""
    return max(cards, key=lambda v: (best_key(cards[v]), v))


class Registry:
    """A registry of versioned artifacts on a :class:`~zoo.registry.stores.Store`.

    ``location``: None -> :func:`default_home` (``$ZOO_HOME`` or the platform data dir);
    a path or file:// URL -> a local directory; http(s):// -> read-only; any other fsspec
    URL (memory://, s3://, ...) -> :class:`~zoo.registry.stores.FsspecStore`.
    """

    def __init__(self, location: str | os.PathLike[str] | Store | None = None, *,
                 readonly: bool = False, timeout: float | None = None) -> None:
        if isinstance(location, Store):
            self._store = location
        else:
            where = default_home() if location is None else location
            self._store = open_store(where, readonly=readonly, timeout=timeout)
        self._remote_index: tuple[float, dict[str, dict[str, Any]]] | None = None

    @classmethod
    def bundled(cls) -> Registry:
        """The read-only registry of pretrained artifacts shipped inside the package
        (:func:`bundled_location`)."""
        return cls(bundled_location(Path(str(importlib.resources.files("zoo.registry")))),
                   readonly=True)

    @property
    def url(self) -> str:
        """The URL of the registry's root."""
        return self._store.url

    @property
    def readonly(self) -> bool:
        """True when publishing, aliasing and removing are refused."""
        return self._store.readonly

    @property
    def store(self) -> Store:
        return self._store

    def __repr__(self) -> str:
        return f"Registry({self.url!r}{', readonly' if self.readonly else ''})"

    # -- paths ---------------------------------------------------------------------------
    @staticmethod
    def _label_dir(key: str) -> str:
        return f"{ARTIFACTS}/{key}"

    @staticmethod
    def _version_dir(key: str, version: int) -> str:
        return f"{ARTIFACTS}/{key}/{version}"

    # -- raw documents -------------------------------------------------------------------
    def _read_json(self, key: str) -> Any:
        data = self._store.get(key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError):
            warnings.warn(f"{self.url}/{key} is not valid JSON; ignoring it (run `zoo reindex`)",
                          stacklevel=3)
            return None

    def _aliases_doc(self) -> dict[str, dict[str, int]]:
        if not self._store.supports_listing:  # remote read-only: the index carries them
            return {k: dict(e["aliases"]) for k, e in self._index().items()}
        doc = self._read_json(ALIASES)
        if not isinstance(doc, dict):
            return {}
        return {k: {a: int(v) for a, v in d.items()} for k, d in doc.items() if isinstance(d, dict)}

    def _raw_index(self) -> dict[str, Any] | None:
        doc = self._read_json(INDEX)
        if not isinstance(doc, dict) or not isinstance(doc.get("labels"), dict):
            return None
        return doc

    def _read_card(self, key: str, version: int) -> dict[str, Any]:
        where = f"{key}@{version}"
        return parse_card(self._store.get(f"{self._version_dir(key, version)}/{CARD_NAME}"), where)

    def _read_manifest(self, key: str, version: int) -> Manifest:
        where = f"{key}@{version}"
        data = self._store.get(f"{self._version_dir(key, version)}/{MANIFEST_NAME}")
        if data is None:
            raise ArtifactError(f"{where} in {self.url} has no {MANIFEST_NAME}; "
                                f"remove it with `zoo rm {where}` and publish it again")
        return parse_manifest(data, where)

    # -- discovery -----------------------------------------------------------------------
    def _disk_versions(self, key: str) -> list[int]:
        names = self._store.list_dir(self._label_dir(key))
        return sorted(int(n) for n in names if n.isdigit() and not n.startswith("0"))

    def _disk_keys(self) -> list[str]:
        keys: list[str] = []
        for process in self._store.list_dir(ARTIFACTS):
            for dim in self._store.list_dir(f"{ARTIFACTS}/{process}"):
                for term in self._store.list_dir(f"{ARTIFACTS}/{process}/{dim}"):
                    for hel in self._store.list_dir(f"{ARTIFACTS}/{process}/{dim}/{term}"):
                        key = f"{process}/{dim}/{term}/{hel}"
                        try:
                            as_label(key)
                        except LabelSyntaxError:
                            continue
                        keys.append(key)
        return sorted(keys)

    def _index_required(self) -> dict[str, Any]:
        raw = self._raw_index()
        if raw is None:
            raise RemoteError(
                f"{self.url} answered but has no valid {INDEX}: it is not a zoo registry, or its "
                "publisher must run `zoo reindex` there (HTTP cannot list directories)"
            )
        return raw

    def _index(self) -> dict[str, dict[str, Any]]:
        """{key: {"versions": {v: card}, "aliases": {alias: v}}}, reconciled with disk."""
        if not self._store.supports_listing:
            now = time.monotonic()
            if self._remote_index is None or now - self._remote_index[0] > REMOTE_INDEX_TTL_S:
                labels = self._index_required()["labels"]
                parsed = {
                    k: {"versions": {int(v): c for v, c in e.get("versions", {}).items()},
                        "aliases": {a: int(v) for a, v in e.get("aliases", {}).items()}}
                    for k, e in labels.items()
                }
                self._remote_index = (now, parsed)
            return self._remote_index[1]
        raw = (self._raw_index() or {}).get("labels", {})
        aliases = self._aliases_doc()
        out: dict[str, dict[str, Any]] = {}
        for key in self._disk_keys():
            entry = self._label_entry(key, raw.get(key, {}).get("versions", {}), aliases)
            if entry["versions"]:
                out[key] = entry
        return out

    def _label_entry(self, key: str, known: Mapping[str, Any],
                     aliases: Mapping[str, Mapping[str, int]]) -> dict[str, Any]:
        versions: dict[int, dict[str, Any]] = {}
        for v in self._disk_versions(key):
            card = known.get(str(v))
            if not isinstance(card, dict):
                try:
                    card = self._read_card(key, v)
                except ArtifactError as exc:
                    warnings.warn(f"skipping {key}@{v}: {exc}", stacklevel=4)
                    continue
            versions[v] = card
        mine = {a: v for a, v in aliases.get(key, {}).items() if v in versions}
        return {"versions": versions, "aliases": mine}

    def _write_index_entry(self, key: str) -> None:
        """Refresh the index entry of ``key`` from disk (caller holds the lock)."""
        raw = self._raw_index() or {"labels": {}}
        labels = raw["labels"]
        entry = self._label_entry(key, labels.get(key, {}).get("versions", {}), self._aliases_doc())
        if entry["versions"]:
            labels[key] = _serialise_entry(entry)
        else:
            labels.pop(key, None)
        self._write_index(labels)

    def _write_index(self, labels: Mapping[str, Any]) -> None:
        doc = {"schema_version": INDEX_SCHEMA, "updated_at": _now(),
               "labels": {k: labels[k] for k in sorted(labels)}}
        self._store.set(INDEX, _json(doc))

    def _versions_of(self, key: str) -> list[int]:
        if self._store.supports_listing:
            return self._disk_versions(key)
        entry = self._index().get(key)
        return sorted(entry["versions"]) if entry else []

    def _cards_of(self, key: str) -> dict[int, dict[str, Any]]:
        if self._store.supports_listing:
            raw = (self._raw_index() or {}).get("labels", {}).get(key, {}).get("versions", {})
            return self._label_entry(key, raw, {})["versions"]
        entry = self._index().get(key)
        return dict(entry["versions"]) if entry else {}

    def _all_keys(self) -> list[str]:
        return self._disk_keys() if self._store.supports_listing else sorted(self._index())

    def _unknown_label(self, key: str) -> UnknownLabelError:
        close = difflib.get_close_matches(key, self._all_keys(), n=5, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        return UnknownLabelError(
            f"no artifact labelled {key!r} in the registry at {self.url}{hint} "
            "Run `zoo list` to see the available labels."
        )

    def _unknown_version(self, key: str, selector: int | str, versions: Sequence[int]
                         ) -> UnknownVersionError:
        names = [*BUILTIN_ALIASES, *sorted(self.aliases(key))]
        return UnknownVersionError(
            f"{key} has no version or alias {selector!r} in the registry at {self.url}; "
            f"available versions: {', '.join(map(str, versions))}; aliases: {', '.join(names)}. "
            f"Run `zoo list {key} --all-versions` to see them."
        )

    # -- public API: reading -------------------------------------------------------------
    def versions(self, label: str | Label) -> list[int]:
        """Published versions of ``label`` (selector ignored), ascending.

        Raises :class:`UnknownLabelError` when there is none."""
        key = as_label(label).key
        found = self._versions_of(key)
        if not found:
            raise self._unknown_label(key)
        return found

    def resolve(self, label: str | Label) -> Label:
        """The label with its selector resolved to an int version.

        No selector or ``latest``: the highest version. An int: that version. ``best``: the
        version with the highest ``card["metrics"]["test"]["frac_lt_0p1pct"]``, ties broken
        by the higher ``frac_lt_1pct``, then the smaller ``disk_size_bytes``, then the higher
        version; versions without that metric are never best unless no version has it (then
        best = latest). Any other name: a user alias from ``aliases.json``.
        """
        lab = as_label(label)
        key = lab.key
        versions = self._versions_of(key)
        if not versions:
            raise self._unknown_label(key)
        sel = lab.selector
        if sel is None or sel == "latest":
            return lab.with_selector(max(versions))
        if isinstance(sel, int):
            if sel in versions:
                return lab
            raise self._unknown_version(key, sel, versions)
        if sel == "best":
            return lab.with_selector(_best_version(self._cards_of(key)))
        target = self.aliases(key).get(sel)
        if target is None or target not in versions:
            raise self._unknown_version(key, sel, versions)
        return lab.with_selector(target)

    def card(self, label: str | Label) -> dict[str, Any]:
        """The card (JSON object) of the resolved artifact."""
        lab = self.resolve(label)
        return self._read_card(lab.key, int(lab.selector))  # type: ignore[arg-type]

    def aliases(self, label: str | Label) -> dict[str, int]:
        """User-defined aliases of ``label`` as ``{alias: version}``."""
        return dict(self._aliases_doc().get(as_label(label).key, {}))

    def list(self, pattern: str = "*", where: Iterable[str] = (), all_versions: bool = False
             ) -> list[dict[str, Any]]:
        """Entries ``{"label": "key@v", "key", "version", "aliases", "card"}`` sorted by label
        then version.

        ``pattern``: fnmatch wildcards per field (:func:`zoo.labels.matches`); a selector in
        it (``...@best``, ``...@3``) picks that version of each label. By default only the
        latest version of each label is listed (``all_versions`` lists all); ``where``
        filters (``"metrics.test.frac_lt_1pct>=0.99"``) are applied to the chosen versions.
        ``aliases`` lists the user aliases of the version plus ``latest``/``best`` when they
        point at it.
        """
        if isinstance(where, str):
            where = [where]
        filters = [CardFilter.parse(w) for w in where]
        selector: int | str | None = None
        if "@" in pattern:
            selector = parse_selector(pattern.split("@", 1)[1], pattern)
        entries: list[dict[str, Any]] = []
        for key, entry in sorted(self._index().items()):
            if not matches(key, pattern):
                continue
            cards: dict[int, dict[str, Any]] = entry["versions"]
            versions = sorted(cards)
            latest, best = versions[-1], _best_version(cards)
            if selector is not None:
                try:
                    chosen = [self._pick(key, selector, cards, entry["aliases"])]
                except UnknownVersionError:
                    continue
            else:
                chosen = versions if all_versions else [latest]
            for v in chosen:
                card = cards[v]
                if not all(f(card) for f in filters):
                    continue
                names = [*(["latest"] if v == latest else []), *(["best"] if v == best else []),
                         *sorted(a for a, t in entry["aliases"].items() if t == v)]
                entries.append({"label": f"{key}@{v}", "key": key, "version": v,
                                "aliases": names, "card": card})
        return entries

    @staticmethod
    def _pick(key: str, selector: int | str, cards: Mapping[int, Any],
              aliases: Mapping[str, int]) -> int:
        if selector == "latest":
            return max(cards)
        if selector == "best":
            return _best_version(cards)
        v = selector if isinstance(selector, int) else aliases.get(selector)
        if v not in cards:
            raise UnknownVersionError(f"{key}@{selector}")
        return int(v)  # type: ignore[arg-type]

    def open(self, label: str | Label, *, verify: bool = True,
             on_bytes: Callable[[int], None] | None = None) -> Path:
        """A local directory holding the artifact, its files checked against the manifest.

        Local stores return the version directory itself. Remote stores download into
        ``default_home()/cache/<url digest>/<label>/<version>`` (always verified) and reuse
        that copy afterwards (re-hashed when ``verify``; re-downloaded if it went bad).
        """
        lab = self.resolve(label)
        key, version = lab.key, int(lab.selector)  # type: ignore[arg-type]
        local = self._store.local_path(self._version_dir(key, version))
        if local is not None:
            if not local.is_dir():
                raise ArtifactNotFoundError(f"{lab} vanished from {self.url}; run `zoo reindex`")
            if verify:
                verify_dir(local, label=str(lab))
            return local
        return self._cached_copy(lab, verify=verify, on_bytes=on_bytes)

    def _cached_copy(self, lab: Label, *, verify: bool,
                     on_bytes: Callable[[int], None] | None = None) -> Path:
        key, version = lab.key, int(lab.selector)  # type: ignore[arg-type]
        target = cache_dir() / url_digest(self.url) / key / str(version)
        if target.is_dir():
            if not verify:
                return target
            try:
                verify_dir(target, label=str(lab))
                return target
            except ArtifactError:
                shutil.rmtree(target, ignore_errors=True)  # a bad cache copy: fetch again
        manifest = self._read_manifest(key, version)
        total = sum(int(e["size"]) for e in manifest["files"].values())
        if total > max_artifact_bytes():
            raise LimitExceededError(
                f"{lab} at {self.url} lists {total} bytes of files, more than the "
                f"{max_artifact_bytes()} allowed by ZOO_MAX_ARTIFACT_BYTES; raise that limit "
                "if you trust this registry"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(".tmp-*"):  # downloads killed long ago
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > STALE_TMP_S:
                    shutil.rmtree(stale, ignore_errors=True)
        tmp = target.with_name(tmp_name(target.name))
        tmp.mkdir()
        try:
            vdir = self._version_dir(key, version)
            for rel, entry in manifest["files"].items():
                try:  # streamed, and never more bytes than the manifest lists
                    self._store.download(f"{vdir}/{check_key(rel)}", tmp / rel,
                                         max_bytes=int(entry["size"]))
                except FileNotFoundError as exc:
                    raise IncompleteArtifactError(
                        f"file {rel} of {lab} is listed in its manifest but missing at "
                        f"{self.url}; the remote artifact is incomplete"
                    ) from exc
                except LimitExceededError as exc:
                    raise IntegrityError(
                        f"file {rel} of {lab} at {self.url} is larger than the "
                        f"{entry['size']} bytes its manifest lists; stopped the download there. "
                        "The remote artifact is corrupted or hostile"
                    ) from exc
                if on_bytes is not None:
                    on_bytes(int(entry["size"]))
            (tmp / MANIFEST_NAME).write_bytes(dumps(manifest))
            verify_dir(tmp, manifest, label=str(lab))
            try:
                os.rename(tmp, target)
            except OSError:
                if not target.is_dir():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # another process won the race
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return target

    def verify_files(self, label: str | Label) -> Manifest:
        """Check every file of the resolved artifact against its manifest; return it."""
        lab = self.resolve(label)
        path = self.open(lab, verify=True)
        return read_manifest(path, str(lab))

    # -- public API: writing -------------------------------------------------------------
    def publish(self, artifact_dir: str | os.PathLike[str], label: str | Label | None = None, *,
                aliases: Iterable[str] = ()) -> Label:
        """Publish ``artifact_dir`` as the next version of ``label`` (default: the card's).

        Atomic: the files are copied into a temporary sibling and renamed into place, so a
        crash leaves either no new version or the complete one. Returns ``key@version``.
        """
        return self._publish(artifact_dir, label, aliases=aliases)

    def _publish(self, artifact_dir: str | os.PathLike[str], label: str | Label | None, *,
                 aliases: Iterable[str] = (), extra: Mapping[str, Any] | None = None,
                 dedupe: Manifest | None = None) -> Label:
        self._store._check_writable("publish")
        src = Path(artifact_dir)
        if not src.is_dir():
            raise ArtifactNotFoundError(f"cannot publish {src}: it is not a directory")
        card = read_card(src)
        text = label if label is not None else card.get("label")
        if text is None:
            raise ArtifactError(f"{src / CARD_NAME} has no 'label'; pass the label explicitly")
        lab = as_label(text)
        if lab.selector is not None:
            raise LabelSyntaxError(
                f"publish takes a label without '@': got {str(lab)!r}; the registry assigns the "
                f"version, so publish as {lab.key!r}"
            )
        alias_list = [self._check_alias(a) for a in aliases]
        key = lab.key
        files: dict[str, Path | bytes] = {}
        entries: dict[str, dict[str, Any]] = {}
        for rel in iter_files(src):
            if rel in (CARD_NAME, MANIFEST_NAME):
                continue
            size, digest = sha256_file(src / rel)
            files[rel] = src / rel
            entries[rel] = {"size": size, "sha256": digest}
        with self._store.lock():
            self._cleanup(key)
            if dedupe is not None:
                for v in reversed(self._disk_versions(key)):
                    with contextlib.suppress(ArtifactError):
                        if same_content(self._read_manifest(key, v), dedupe):
                            return lab.with_selector(v)
            version = max([0, *self._disk_versions(key), *self._retired(key)]) + 1
            card.update(extra or {})
            card.update(label=key, version=version, published_at=_now(),
                        disk_size_bytes=sum(e["size"] for e in entries.values()))
            card_bytes = _json(card)
            entries[CARD_NAME] = sha256_bytes(card_bytes)
            files[CARD_NAME] = card_bytes
            files[MANIFEST_NAME] = dumps(make_manifest(entries))
            self._store.put_tree(self._version_dir(key, version), files)
            if alias_list:
                doc = self._aliases_doc()
                doc.setdefault(key, {}).update({a: version for a in alias_list})
                self._write_aliases(doc)
            self._write_index_entry(key)
        return lab.with_selector(version)

    def _cleanup(self, key: str) -> None:
        older = 0.0 if self._store.lock_is_global else STALE_TMP_S
        self._store.cleanup_temps(self._label_dir(key), older_than=older)
        self._store.cleanup_temps("", older_than=older)

    def _retired(self, key: str) -> list[int]:
        doc = self._read_json(f"{self._label_dir(key)}/{RETIRED}")
        return [int(v) for v in doc.get("versions", [])] if isinstance(doc, dict) else []

    def _write_aliases(self, doc: Mapping[str, Mapping[str, int]]) -> None:
        clean = {k: dict(sorted(v.items())) for k, v in sorted(doc.items()) if v}
        self._store.set(ALIASES, _json(clean))

    @staticmethod
    def _check_alias(alias: str) -> str:
        if alias in BUILTIN_ALIASES:
            raise LabelSyntaxError(
                f"{alias!r} is a built-in alias computed by the registry; choose another name, "
                "e.g. 'prod' or 'paper'"
            )
        if not isinstance(alias, str) or not isinstance(parse_selector(alias, f"@{alias}"), str):
            raise LabelSyntaxError(
                f"alias {alias!r} is a version number; aliases are lower-case names such as "
                "'prod' or 'paper-2022'"
            )
        return alias

    def set_alias(self, label_with_version: str | Label, alias: str) -> Label:
        """Point the user alias ``alias`` at the version named by ``label_with_version``
        (``key@3``, or any selector, resolved now). Returns the resolved label."""
        self._store._check_writable("set an alias")
        lab = as_label(label_with_version)
        if lab.selector is None:
            raise LabelSyntaxError(
                f"set_alias needs a version: got {str(lab)!r}; write e.g. '{lab.key}@3'"
            )
        alias = self._check_alias(alias)
        with self._store.lock():
            target = self.resolve(lab)
            doc = self._aliases_doc()
            doc.setdefault(lab.key, {})[alias] = int(target.selector)  # type: ignore[arg-type]
            self._write_aliases(doc)
            self._write_index_entry(lab.key)
        return target

    def remove_alias(self, label: str | Label, alias: str) -> None:
        """Delete the user alias ``alias`` of ``label``."""
        self._store._check_writable("remove an alias")
        key = as_label(label).key
        with self._store.lock():
            doc = self._aliases_doc()
            if alias not in doc.get(key, {}):
                raise UnknownVersionError(
                    f"{key} has no user alias {alias!r}; its aliases: "
                    f"{', '.join(sorted(doc.get(key, {}))) or 'none'}"
                )
            del doc[key][alias]
            self._write_aliases(doc)
            self._write_index_entry(key)

    def remove(self, label_with_version: str | Label) -> None:
        """Delete one version (``key@3``; aliases are refused so that a moving alias never
        deletes the wrong version). Aliases pointing at it are dropped; its number is never
        reused."""
        self._store._check_writable("remove an artifact")
        lab = as_label(label_with_version)
        if not isinstance(lab.selector, int):
            raise LabelSyntaxError(
                f"remove needs an explicit version number, e.g. '{lab.key}@3'; got {str(lab)!r}"
            )
        key, version = lab.key, lab.selector
        with self._store.lock():
            versions = self._disk_versions(key)
            if not versions:
                raise self._unknown_label(key)
            if version not in versions:
                raise self._unknown_version(key, version, versions)
            retired = sorted({*self._retired(key), version})
            self._store.set(f"{self._label_dir(key)}/{RETIRED}", _json({"versions": retired}))
            self._store.delete(self._version_dir(key, version))
            doc = self._aliases_doc()
            if key in doc:
                doc[key] = {a: v for a, v in doc[key].items() if v != version}
                self._write_aliases(doc)
            self._write_index_entry(key)

    def reindex(self) -> int:
        """Rebuild ``index.json`` from the cards on disk; return the number of versions."""
        self._store._check_writable("rebuild the index")
        with self._store.lock():
            aliases = self._aliases_doc()
            labels = {}
            for key in self._disk_keys():
                entry = self._label_entry(key, {}, aliases)
                if entry["versions"]:
                    labels[key] = _serialise_entry(entry)
            self._write_index(labels)
        return sum(len(e["versions"]) for e in labels.values())

    # -- bundles and fetching ------------------------------------------------------------
    def export_bundle(self, label: str | Label, path: str | os.PathLike[str]) -> Path:
        """Write the resolved artifact (card, manifest, files) as a tar.gz at ``path``."""
        return _bundle.write_bundle(self.open(label, verify=True), path)

    def import_bundle(self, path: str | os.PathLike[str], *, label: str | Label | None = None,
                      on_bytes: Callable[[int], None] | None = None) -> Label:
        """Safely extract a bundle, verify its manifest and publish it as a new version."""
        self._store._check_writable("import a bundle")
        with tempfile.TemporaryDirectory(prefix="import-", dir=self._scratch()) as tmp:
            _bundle.extract_bundle(path, tmp, on_bytes=on_bytes)
            verify_dir(tmp, label=f"bundle {Path(path).name}")
            text = label if label is not None else read_card(tmp).get("label")
            if not isinstance(text, str):
                raise ArtifactError(
                    f"bundle {Path(path).name}: its card has no 'label'; pass the label explicitly"
                )
            from zoo.resolver import require_canonical

            require_canonical(text, f"bundle {Path(path).name} holds",
                              "It was not imported: export and import {canonical} instead")
            return self._publish(tmp, label)

    def _scratch(self) -> Path:
        """A private scratch directory under the registry root (a local store) or under
        ``ZOO_HOME``: never the system temporary directory. Leftovers of killed imports
        older than :data:`STALE_TMP_S` are removed."""
        root = self._store.local_path("")
        base = (root if root is not None else default_home()) / SCRATCH
        base.mkdir(parents=True, exist_ok=True)
        for stale in base.iterdir():
            with contextlib.suppress(OSError):
                if time.time() - stale.lstat().st_mtime > STALE_TMP_S:
                    shutil.rmtree(stale, ignore_errors=True)
        return base

    def fetch(self, label: str | Label, source: Registry, *,
              on_bytes: Callable[[int], None] | None = None) -> Label:
        """Copy ``label`` (resolved in ``source``) into this registry as a new version.

        Files are hash-checked on download; ``card["fetched_from"]`` records the source URL
        and version. If a version with identical files (card aside) exists here, it is
        returned instead of publishing a duplicate.
        """
        self._store._check_writable("fetch into this registry")
        src_lab = source.resolve(label)
        src_dir = source.open(src_lab, verify=True, on_bytes=on_bytes)
        manifest = read_manifest(src_dir, str(src_lab))
        origin = {"url": source.url, "version": src_lab.selector}
        return self._publish(src_dir, src_lab.key, extra={"fetched_from": origin},
                             dedupe=manifest)


def bundled_location(package_dir: Path) -> Path:
    """The root of the bundled registry of the package folder ``package_dir``: its folder
    ``bundled`` (a source checkout, an editable install), else its packed form
    ``bundled.tar.xz`` (a wheel) unpacked once under ``<ZOO_HOME>/cache/bundled``
    (:mod:`zoo.registry.packed`)."""
    folder, archive = package_dir / "bundled", package_dir / _packed.ARCHIVE
    if folder.is_dir() or not archive.is_file():
        return folder
    cache = cache_dir() / "bundled"
    try:
        return _packed.unpack(archive, cache)
    except (OSError, ValueError, EOFError, lzma.LZMAError, tarfile.TarError) as exc:
        raise ArtifactError(
            f"cannot unpack the bundled pretrained models {archive} into {cache}: {exc}. Set "
            "ZOO_HOME to a writable folder with ~25 MB free, or reinstall amplitude-zoo"
        ) from exc


def _serialise_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {"versions": {str(v): entry["versions"][v] for v in sorted(entry["versions"])},
            "aliases": dict(sorted(entry["aliases"].items()))}
