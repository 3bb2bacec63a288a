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
from zoo.errors import (
    ConfigError,
    ExactUnavailableError,
    LabelSyntaxError,
    NumericalError,
    UnknownLabelError,
)
from zoo.labels import Label, as_label, parse_selector
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


def resolve_across(registries: Sequence[Any], label: str | Label) -> tuple[Any, Label]:
    """The registry and the exact stored version that ``label`` names in ``registries``
    (a search order, e.g. :func:`search_order`), as ``(registry, key@version)``.

    Versions and user aliases are numbered per registry, so they are not compared across
    registries:

    * an explicit version or a user alias: the first registry that has it;
    * no selector or ``@latest``: the latest version of the first registry that stores the
      label (a label stored locally is answered by the local registry: your newest work);
    * ``@best``: every registry's best, compared by the same criteria as within one
      registry (:func:`zoo.registry.registry.best_key`: most points within 0.1%, then
      within 1%, then the smaller disk size); a tie goes to the earlier registry.

    Raises :class:`UnknownLabelError` with what each registry answered.
    """
    from zoo.registry.registry import best_key

    lab = as_label(label)
    errors: list[Exception] = []
    found: list[tuple[tuple[Any, int], Any, Label]] = []
    for rank, reg in enumerate(registries):
        try:
            stored = reg.resolve(lab)
        except UnknownLabelError as exc:
            errors.append(exc)
            continue
        if lab.selector != "best":
            return reg, stored
        found.append(((best_key(reg.card(stored)), -rank), reg, stored))
    if found:
        _, reg, stored = max(found, key=lambda t: t[0])
        return reg, stored
    raise UnknownLabelError("; ".join(str(e) for e in errors) or f"no registry to search for {lab}")


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

    def predict(self, x: np.ndarray, f00: np.ndarray | None = None, *,
                return_uncertainty: bool = False, rtol: float | None = None,
                return_info: bool = False) -> Any:
        """Predict the requested function at points x (N, D) of the unit hypercube.

        ``return_uncertainty``: also return ``sigma`` (N,), the calibrated one-standard-
        deviation estimate of ``|y - exact|`` in the physical units of the requested label.
        ``rtol``: guarded prediction (:meth:`predict_guarded`): the process's exact function
        replaces the model wherever the model cannot vouch for a relative error <= rtol.
        Returns ``y``, then ``sigma`` if ``return_uncertainty``, then ``info`` if
        ``return_info`` (which needs ``rtol``), as a tuple when more than ``y``.
        """
        x = validate_points(x, self.dimension)
        if rtol is None and not return_uncertainty and not return_info:
            return self.model.predict(self.resolution.coord_map(x), f00)
        if rtol is None:
            if return_info:
                raise ConfigError("return_info describes a guarded prediction; pass rtol= "
                                  "too (e.g. rtol=1e-3), or use return_uncertainty=True alone")
            return self.model.predict(self.resolution.coord_map(x), f00,
                                      return_uncertainty=True)
        y, info = self.predict_guarded(x, rtol, f00)
        out = (y, *((info["sigma"],) if return_uncertainty else ()),
               *((info,) if return_info else ()))
        return out if len(out) > 1 else y

    def predict_guarded(self, x: np.ndarray, rtol: float, f00: np.ndarray | None = None
                        ) -> tuple[np.ndarray, dict[str, Any]]:
        """``(y, info)``: the model where it vouches for a relative error <= ``rtol``, the
        process's exact function of the requested label elsewhere (one batched
        ``Process.evaluate`` call on those points, at the requested label's own x).

        The rule (:func:`zoo.runtime.uncertainty.vouched`, ``k = card["uncertainty"]
        ["vouch_k"]``): trusted where ``k sigma (1 + rtol) <= rtol |y|`` for terms measured
        relative to themselves (f11), or ``k sigma <= rtol f00`` for terms measured relative
        to the exact f00 of the same label (f01; the card's scale). ``info``: ``exact`` (N,)
        bool, the points answered by the process; ``sigma`` (N,), the uncertainty of the
        returned value (the model's sigma where trusted, 0 where exact); ``sigma_model``,
        the model's sigma everywhere; ``k``, ``rtol``, ``scale``, ``n_exact``.

        Refuses with :class:`~zoo.errors.NoUncertaintyError` when the model has no
        calibrated uncertainty and :class:`~zoo.errors.ExactUnavailableError` when no
        installed process provides the label's exact function, and with
        :class:`~zoo.errors.NumericalError` naming the rows of ``x`` where the exact function
        cannot evaluate a point the model cannot vouch for (a degenerate point exactly on a
        face, e.g. a boson along the beam; nothing is marked instead: a guarded answer is
        complete or refused).
        """
        from zoo.runtime.uncertainty import K_FLOOR, card_scale, vouched

        try:
            r = float(rtol)
        except (TypeError, ValueError):
            r = float("nan")
        if not (np.isfinite(r) and r > 0.0):
            raise ConfigError(f"rtol={rtol!r} is invalid; give a positive relative tolerance, "
                              "e.g. rtol=1e-3")
        x = validate_points(x, self.dimension)
        cal = self.model.require_uncertainty()
        scale_name = card_scale(self.card)
        process = resolver.find_process(self.label)
        needed = {self.label.term} | ({"f00"} if scale_name == "f00" else set())
        if process is None or not needed <= set(process.terms):
            raise ExactUnavailableError(
                f"guarded prediction of {self.label} needs the exact function of its process, "
                f"but no installed process plugin provides {self.label.process}/"
                f"{self.label.dimension}d with {' and '.join(sorted(needed))}; install the "
                "process plugin, or "
                "call predict(x, return_uncertainty=True) and decide per point yourself")
        y, sigma = self.model.predict(self.resolution.coord_map(x), f00, return_uncertainty=True)
        k = float(cal.get("vouch_k", K_FLOOR))
        scale = None
        if scale_name == "f00":
            scale = process.function(x, "f00", self.label.helicity)
        exact = ~vouched(y, sigma, r, k, scale=scale)
        y_out = np.array(y, dtype=np.float64, copy=True)
        sig_out = np.array(sigma, dtype=np.float64, copy=True)
        if exact.any():
            y_out[exact] = self._exact_or_refuse(process, x, exact, r)
            sig_out[exact] = 0.0
        return y_out, {"exact": exact, "sigma": sig_out, "sigma_model": sigma, "k": k,
                       "rtol": r, "scale": scale_name, "n_exact": int(exact.sum())}

    def _exact_or_refuse(self, process: Any, x: np.ndarray, exact: np.ndarray,
                         rtol: float) -> np.ndarray:
        """The process's exact values at ``x[exact]``; where it cannot evaluate some of
        them (a degenerate point exactly on a face, e.g. a boson along the beam), a
        :class:`~zoo.errors.NumericalError` naming those rows *of x* (found by halving the
        failed batch) and what to do instead."""
        rows = np.flatnonzero(exact)

        def value(sel: np.ndarray) -> np.ndarray:
            return process.function(x[sel], self.label.term, self.label.helicity)

        try:
            return value(rows)
        except NumericalError as err:
            bad: list[int] = []

            def halve(sel: np.ndarray) -> None:
                if len(bad) >= 3:
                    return
                if sel.size == 1:
                    bad.append(int(sel[0]))
                    return
                for half in (sel[: sel.size // 2], sel[sel.size // 2:]):
                    try:
                        value(half)
                    except NumericalError:
                        halve(half)

            halve(rows)
            first = bad[0] if bad else int(rows[0])
            where = (f"row{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad))}"
                     if bad else f"one of rows {rows[:5].tolist()}...")
            raise NumericalError(
                f"guarded prediction of {self.label} at rtol={rtol:g}: the model cannot vouch "
                f"for {rows.size} of the {x.shape[0]} points, and the exact function of the "
                f"process cannot evaluate x {where} (x[{first}] = {x[first].tolist()}): "
                f"{err}. Move such points off the "
                "face, or take the model's value and its sigma there with "
                "predict(x, return_uncertainty=True) (zoo predict: --uncertainty without --rtol)"
            ) from err

    def compile(self):
        """The compiled single-point path of this amplitude (:mod:`zoo.runtime.single`):
        ``f = amp.compile(); f(x)`` returns the requested label's value (a float) at one
        point ``x`` (D,) of the unit hypercube, equal to ``predict(x[None])[0]`` to float
        rounding, in microseconds (the coordinate map, the transform chain with the exact
        f00 and the regressor, each compiled by its owner). Bad points raise
        :class:`~zoo.errors.InputError`. Built once and cached (a model moved with
        ``model.to`` is rebuilt)."""
        cached = getattr(self, "_one", None)
        if cached is None or cached[0] is not self.model.regressor:
            cached = (self.model.regressor, self.model.compile_one(self.resolution.coord_map))
            self._one = cached
        return cached[1]

    def predict_one(self, x: np.ndarray, f00: float | None = None) -> float:
        """The requested label's value at one point ``x`` (D,): :meth:`compile`'s path."""
        return self.compile()(x, f00)

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

    Looks in ``registry`` if given, else in the local registry and the bundled one, as
    :func:`resolve_across` combines them (``@best`` compares both; no selector, ``@latest``,
    a version or an alias: the local registry first).
    """
    lab = as_label(label)
    res = resolver.resolve(lab)
    canonical = res.canonical.with_selector(lab.selector)
    try:
        reg, stored = resolve_across(search_order(registry), canonical)
    except UnknownLabelError as exc:
        via = "" if res.is_canonical else f" (stored as its canonical label {res.canonical.key})"
        raise UnknownLabelError(
            f"no stored amplitude answers {lab}{via}: {exc.args[0]}. See `zoo list`, or fetch "
            "one with `zoo fetch LABEL --from URL`"
        ) from exc
    return reg, stored, res


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

    A label stored verbatim (in ``registry``, else in the local and bundled registries as
    :func:`resolve_across` combines them) is checked as stored, even when it is not
    canonical (an artifact imported before imports refused such labels); any other label
    is checked through the canonical version that answers it, as :func:`load` would use it.
    """
    lab = as_label(label)
    try:
        reg, stored = resolve_across(search_order(registry), lab)
    except UnknownLabelError:
        return load(lab, registry=registry, verify=True).canonical
    return verify_in(reg, stored)


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
    """Entries of ``registry``, else of the local and bundled registries, matching
    ``pattern``; each ``{"label", "key", "version", "aliases", "card", "registry"}``.

    Local and bundled entries are combined as :func:`resolve_across` resolves labels: per
    label, ``latest`` marks the version that no selector loads (the local registry's latest
    when the label is stored locally) and ``best`` the single best version of both
    registries. Without ``all_versions`` each registry's latest version is listed, plus the
    best one when it is another; a selector in the pattern (``...@best``, ``...@3``) lists
    the one version it resolves to. ``where`` filters (see :meth:`Registry.list`) apply to
    the listed versions. Sorted by label, then local before bundled, then version.
    """
    regs = search_order(registry)
    if len(regs) == 1:
        return [{**e, "registry": regs[0].url}
                for e in regs[0].list(pattern, where=where, all_versions=all_versions)]
    from zoo.registry.registry import BUILTIN_ALIASES, CardFilter, best_key

    filters = [CardFilter.parse(w) for w in ([where] if isinstance(where, str) else where)]
    base, at, text = pattern.partition("@")
    selector = parse_selector(text, pattern) if at else None
    rows: dict[str, list[tuple[int, Any, dict[str, Any]]]] = {}
    for rank, reg in enumerate(regs):
        for e in reg.list(base, all_versions=True):
            rows.setdefault(e["key"], []).append((rank, reg, e))
    out = []
    for key in sorted(rows):
        mine = rows[key]
        first = min(r for r, _, _ in mine)
        latest = max((t for t in mine if t[0] == first), key=lambda t: t[2]["version"])
        best = max(mine, key=lambda t: (best_key(t[2]["card"]), -t[0], t[2]["version"]))
        if selector == "latest":
            chosen = [latest]
        elif selector == "best":
            chosen = [best]
        elif selector is not None:
            chosen = [t for t in mine if t[2]["version"] == selector
                      or (isinstance(selector, str) and selector in t[2]["aliases"])][:1]
        elif all_versions:
            chosen = mine
        else:
            newest = {r: max(e["version"] for q, _, e in mine if q == r) for r, _, _ in mine}
            chosen = [t for t in mine if t[2]["version"] == newest[t[0]] or t is best]
        for t in sorted(chosen, key=lambda t: (t[0], t[2]["version"])):
            rank, reg, e = t
            if not all(f(e["card"]) for f in filters):
                continue
            user = [a for a in e["aliases"] if a not in BUILTIN_ALIASES]
            names = [*(["latest"] if t is latest else []), *(["best"] if t is best else []), *user]
            out.append({**e, "aliases": names, "registry": reg.url})
    return out


_PUBLISH_INSTEAD = ("Train and publish {canonical} instead (map your points with "
                    "zoo.resolve(label).coord_map)")


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
        resolver.require_canonical(model.label, "label", _PUBLISH_INSTEAD)
        if reference_x is None:
            raise LabelSyntaxError("publish(Model) needs reference_x: a few hundred input points")
        with tempfile.TemporaryDirectory(prefix="zoo-publish-") as tmp:
            art = model.save(Path(tmp) / "artifact", reference_x=reference_x, reference_f00=reference_f00)
            return reg.publish(art, model.label, aliases=tuple(aliases))
    from zoo.model import read_card

    card = read_card(Path(model))
    resolver.require_canonical(card["label"], "label", _PUBLISH_INSTEAD)
    return reg.publish(Path(model), card["label"], aliases=tuple(aliases))


def calibrate(label: str | Label, *, n: int = 20_000, faces: float = 0.2, seed: int = 1,
              registry: Any = None, publish: bool = True, aliases: Iterable[str] = ()
              ) -> tuple[Label | None, dict[str, Any]]:
    """Calibrate the uncertainty of the stored model answering ``label`` on ``n`` fresh
    points of its process (``faces``: the fraction near the faces of the domain, see
    :mod:`zoo.training.calibrate`) and, with ``publish``, publish the result as a new
    version (published versions are immutable) in ``registry`` (default: the local one).

    Returns ``(published key@version or None, card["uncertainty"])``; the record names the
    calibrated version in ``calibrated_from``.
    """
    import zarr

    from zoo.training.calibrate import calibrate_model

    reg, stored, _ = locate(label, registry=registry)
    path = reg.open(stored, verify=True)
    model = Model.load(path)
    model.verify(path)
    record = calibrate_model(model, n=n, faces=faces, seed=seed)
    record["calibrated_from"] = f"{stored} ({reg.url})"
    model.card["uncertainty"] = record
    if not publish:
        return None, record
    ref = zarr.open_group(str(path / "reference.zarr"), mode="r")
    ref_f00 = np.asarray(ref["f00"][...]) if "f00" in ref.array_keys() else None
    target = local_registry() if registry is None else _registry(registry)
    with tempfile.TemporaryDirectory(prefix="zoo-calibrate-") as tmp:
        art = model.save(Path(tmp) / "artifact", reference_x=np.asarray(ref["x"][...]),
                         reference_f00=ref_f00)
        new = target.publish(art, model.label, aliases=tuple(aliases))
    return new, record
