"""The public Python API: load, list, publish, verify amplitudes by label."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo import resolver
from zoo.errors import LabelSyntaxError, UnknownLabelError
from zoo.labels import Label, as_label
from zoo.model import Model
from zoo.process import validate_points

RegistryLike = "Registry | str | os.PathLike | None"


def local_registry(location: str | os.PathLike | None = None):
    """The local registry (``ZOO_HOME``, else the platform data directory)."""
    from zoo.registry.registry import Registry

    return Registry(location)


def bundled_registry():
    """The read-only registry of pretrained amplitudes shipped inside the package."""
    from zoo.registry.registry import Registry

    return Registry.bundled()


def _registry(registry: Any):
    from zoo.registry.registry import Registry

    if isinstance(registry, Registry):
        return registry
    return Registry(registry)


def search_order(registry: Any = None) -> list:
    """An explicit registry, or the local one then the bundled one."""
    if registry is not None:
        return [_registry(registry)]
    return [local_registry(), bundled_registry()]


@dataclass
class Amplitude:
    """A loaded function, answering for the *requested* label.

    ``predict(x)`` applies the symmetry map onto the canonical stored function and the
    model's transform chain, and returns the physical value (e.g. f11 itself, already
    multiplied back by the exact f00 when the model regresses f11/f00).
    """

    label: Label
    canonical: Label
    model: Model
    path: Path
    registry_url: str
    resolution: resolver.Resolution

    @property
    def card(self) -> dict[str, Any]:
        return self.model.card

    @property
    def dimension(self) -> int:
        return self.label.dimension

    def predict(self, x: np.ndarray, f00: np.ndarray | None = None) -> np.ndarray:
        """Predict the requested function at points x (N, D) of the unit hypercube."""
        x = validate_points(x, self.dimension)
        return self.model.predict(self.resolution.coord_map(x), f00)

    def verify(self) -> dict[str, float]:
        return self.model.verify(self.path)

    def __repr__(self) -> str:
        via = "" if self.label.base == self.canonical.base else f" via {self.canonical}"
        return f"<Amplitude {self.label}{via} ({self.card.get('regressor', {}).get('name')})>"


def resolve(label: str | Label) -> resolver.Resolution:
    """Map any label onto its canonical stored label and coordinate map."""
    return resolver.resolve(label)


def locate(label: str | Label, *, registry: Any = None) -> tuple[Any, Label, resolver.Resolution]:
    """Find the registry and the exact canonical version answering ``label``.

    Looks in ``registry`` if given, else the local registry then the bundled one.
    """
    lab = as_label(label)
    res = resolver.resolve(lab)
    canonical = res.canonical.with_selector(lab.selector)
    errors: list[Exception] = []
    for reg in search_order(registry):
        try:
            return reg, reg.resolve(canonical), res
        except UnknownLabelError as exc:
            errors.append(exc)
    via = "" if res.is_canonical else f" (stored as its canonical label {res.canonical.key})"
    detail = "; ".join(str(e) for e in errors)
    raise UnknownLabelError(
        f"no stored amplitude answers {lab}{via}: {detail}. See `zoo list`, or fetch one with "
        "`zoo fetch LABEL --from URL`"
    )


def load(label: str | Label, *, registry: Any = None, verify: bool = True,
         device: str = "auto") -> Amplitude:
    """Load the amplitude answering ``label`` (any helicity of an orbit, any selector).

    With ``verify`` the artifact's hashes are checked and its reference points re-predicted
    (on the CPU, where they were recorded). ``device``: where the regressor then runs:
    ``auto`` (a CUDA GPU when torch sees one and the regressor is a network, else the CPU),
    ``cpu``, ``cuda`` or ``cuda:N``.
    """
    reg, resolved, res = locate(label, registry=registry)
    path = reg.open(resolved, verify=verify)
    model = Model.load(path)
    requested = as_label(label).with_selector(resolved.selector)
    amp = Amplitude(requested, resolved, model, path, reg.url, res)
    if verify:
        amp.verify()
    model.to(device)
    return amp


def verify(label: str | Label, *, registry: Any = None) -> Label:
    """Check hashes and re-predict the reference points of exactly the version ``label``
    names; return it (``key@version``).

    A label stored verbatim (in ``registry``, else the local then the bundled registry) is
    checked as stored, even when it is not canonical (an artifact imported before imports
    refused such labels); any other label is checked through the canonical version that
    answers it, as :func:`load` would use it.
    """
    lab = as_label(label)
    for reg in search_order(registry):
        try:
            stored = reg.resolve(lab)
        except UnknownLabelError:
            continue
        return verify_in(reg, stored)
    return load(lab, registry=registry, verify=True).canonical


def verify_in(reg: Any, stored: Label) -> Label:
    """Verify the stored version ``stored`` (``key@version``) of the registry ``reg``."""
    path = reg.open(stored, verify=True)
    Model.load(path).verify(path)
    return stored


def list_models(
    pattern: str = "*",
    *,
    where: Sequence[str] = (),
    all_versions: bool = False,
    registry: Any = None,
) -> list[dict[str, Any]]:
    """Entries of the local and bundled registries (or of ``registry``) matching pattern."""
    out = []
    for reg in search_order(registry):
        for entry in reg.list(pattern, where=where, all_versions=all_versions):
            out.append({**entry, "registry": reg.url})
    return out


def publish(
    model: Model | str | os.PathLike,
    *,
    registry: Any = None,
    aliases: Iterable[str] = (),
    reference_x: np.ndarray | None = None,
    reference_f00: np.ndarray | None = None,
) -> Label:
    """Publish a model (or an artifact directory) as a new immutable version.

    Only canonical labels are stored: publishing a label that the process maps onto
    another one is refused with the canonical label to use instead.
    """
    reg = local_registry() if registry is None else _registry(registry)
    if isinstance(model, Model):
        _check_canonical(model.label)
        if reference_x is None:
            raise LabelSyntaxError("publish(Model) needs reference_x: a few hundred input points")
        with tempfile.TemporaryDirectory(prefix="zoo-publish-") as tmp:
            art = model.save(Path(tmp) / "artifact", reference_x=reference_x, reference_f00=reference_f00)
            return reg.publish(art, model.label, aliases=tuple(aliases))
    from zoo.model import read_card

    card = read_card(Path(model))
    _check_canonical(card["label"])
    return reg.publish(Path(model), card["label"], aliases=tuple(aliases))


def _check_canonical(label: str) -> None:
    res = resolver.resolve(label)
    if not res.is_canonical:
        raise UnknownLabelError(
            f"{label} is related by symmetry ({res.element.name}) to {res.canonical.key}; the "
            f"registry stores only canonical labels. Train and publish {res.canonical.key} "
            "instead (map your points with zoo.resolve(label).coord_map)"
        )
