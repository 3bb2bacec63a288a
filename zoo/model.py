"""A trained model of one canonical function, and its artifact directory.

Artifact layout (the registry adds ``manifest.json`` and publishing fields)::

    card.json          label, plugins and versions, hyperparameters, transform chain,
                       data provenance, metrics, parameter count, dtype, reference info
    model/             the regressor's own files (safetensors, Zarr, xgboost UBJSON, ...)
    transforms.zarr/   one group per chain step ("0", "1", ...) holding its state arrays
    reference.zarr/    x, y (and f00 when the data supplied it): predictions at save time

Loading never runs code from the files: JSON, safetensors, Zarr and the tree
libraries' own model formats only.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from zoo import __version__, plugin_manager
from zoo.errors import (
    ArtifactError,
    ArtifactNotFoundError,
    InputError,
    NoUncertaintyError,
    UnknownPluginError,
    VerificationError,
    ZooError,
)
from zoo.labels import as_label
from zoo.process import as_real_array, validate_points
from zoo.regressor import Regressor
from zoo.transform import Batch, Chain, Context

CARD = "card.json"
SCHEMA_VERSION = 1
N_REFERENCE = 256
#: verification tolerances (relative to max(|y|, 1e-3 max|y_ref|)) per computing dtype
REFERENCE_RTOL = {"float32": 1e-5, "float64": 1e-10}


def _plugin_meta(kind: str, name: str) -> dict[str, str]:
    info = plugin_manager.owner(kind, name)
    if info is None:
        return {"plugin": "?", "distribution": "?", "distribution_version": "?"}
    return {
        "plugin": info.name,
        "distribution": info.distribution,
        "distribution_version": info.version,
    }


def make_context(label: str, *, f00_source: str = "process") -> Context:
    """Context for a canonical label: its process, exact f00, and invariances."""
    from zoo import resolver

    lab = as_label(label)
    process = resolver.find_process(lab)
    if process is None:
        return Context(label=lab.key)
    res = resolver.resolver_for(lab)
    invariances = [(el.name, el.coord_map) for el in res.invariances(lab)] if res else []
    term_f00 = "f00" if "f00" in process.terms else None

    def f00(x: np.ndarray) -> np.ndarray:
        return process.function(x, term_f00, lab.helicity)

    def f00_sum(x: np.ndarray) -> np.ndarray:
        values = np.asarray(process.evaluate(x, [term_f00])[term_f00], dtype=np.float64)
        return values.reshape(values.shape[0], -1).sum(axis=1)

    return Context(
        label=lab.key,
        process=process,
        f00=f00 if term_f00 else None,
        f00_sum=f00_sum if term_f00 else None,
        invariances=invariances,
    )


class Model:
    """A fitted regressor and transform chain for one canonical label.

    ``predict(x, f00=None)`` maps canonical points through the chain, predicts, and
    inverts the chain to the physical quantity (f00 must be passed only when the chain
    normalises by an f00 taken from data rather than from the process).
    """

    def __init__(
        self,
        label: str,
        regressor: Regressor,
        chain: Chain,
        card: dict[str, Any] | None = None,
        context: Context | None = None,
    ):
        self.label = as_label(label).key
        self.regressor = regressor
        self.chain = chain
        self.card = dict(card or {})
        self.context = context if context is not None else make_context(self.label)
        self.dimension = int(as_label(self.label).dimension)

    def predict(self, x: np.ndarray, f00: np.ndarray | None = None, *,
                return_uncertainty: bool = False
                ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """The physical value at canonical points ``x`` (N, D); with ``return_uncertainty``
        ``(y, sigma)``, ``sigma`` the calibrated one-standard-deviation estimate of
        ``|y - exact|`` in the same units (:meth:`predict_uncertainty`)."""
        if return_uncertainty:
            return self.predict_uncertainty(x, f00)
        x = validate_points(x, self.dimension)
        f00 = self._check_f00(x, f00)
        batch, inputs = self.chain.forward_with_inputs(Batch(x=x, f00=f00), self.context)
        y = np.asarray(self._predictor()(batch.x), dtype=np.float64).reshape(-1)
        return self.chain.inverse(y, inputs, self.context)

    def _check_f00(self, x: np.ndarray, f00: np.ndarray | None) -> np.ndarray | None:
        if f00 is None:
            return None
        f00 = as_real_array(f00, "f00", f"({x.shape[0]},) leading-order values")
        if f00.ndim > 1 and f00.size != f00.shape[0]:
            raise InputError(
                f"f00 has shape {f00.shape}; expected ({x.shape[0]},): one leading-order "
                "value per point"
            )
        f00 = f00.reshape(-1)
        if f00.shape[0] != x.shape[0]:
            raise InputError(f"f00 has {f00.shape[0]} values for {x.shape[0]} points; "
                             "pass one leading-order value per point")
        if not np.isfinite(f00).all():
            row = int(np.flatnonzero(~np.isfinite(f00))[0])
            raise InputError(f"f00 contains NaN or inf (first at row {row}); fix those "
                             "values or let the process compute f00 (omit f00)")
        return f00

    # -- uncertainty (zoo.runtime.uncertainty) ----------------------------------------------
    @property
    def has_uncertainty(self) -> bool:
        """Whether the regressor estimates its error per point (calibrated or not)."""
        return bool(getattr(self.regressor, "has_uncertainty", False))

    @property
    def calibration(self) -> dict[str, Any] | None:
        """``card["uncertainty"]`` when the model's uncertainty has been calibrated."""
        unc = self.card.get("uncertainty")
        return unc if isinstance(unc, dict) and "calibration_scale" in unc else None

    def require_uncertainty(self) -> dict[str, Any]:
        """The calibration record, or :class:`~zoo.errors.NoUncertaintyError` naming the fix."""
        name = getattr(self.regressor, "name", type(self.regressor).__name__)
        if not self.has_uncertainty:
            raise NoUncertaintyError(
                f"{self.label}: its {name} regressor has no per-point uncertainty (an artifact "
                "saved without one, or a regressor family that has none); retrain it with an "
                "uncertainty-capable configuration (zoo train ... --publish), or load another "
                "version of the label (zoo list LABEL --where 'coverage_2sigma>=0')")
        cal = self.calibration
        if cal is None:
            raise NoUncertaintyError(
                f"{self.label}: its {name} regressor has an uncertainty but the artifact was "
                "never calibrated (no card['uncertainty']); run `zoo calibrate LABEL` "
                "(zoo.api.calibrate) to publish a calibrated version")
        return cal

    def predict_uncertainty_raw(self, x: np.ndarray, f00: np.ndarray | None = None
                                ) -> tuple[np.ndarray, np.ndarray]:
        """``(y, sigma_raw)`` at canonical points: the regressor's own ``predict_uncertainty``
        propagated through the inverse chain to physical units, *uncalibrated*
        (:func:`zoo.runtime.uncertainty.propagate`; the exact f00 a chain step takes from the
        process is computed once per call, not once per propagated branch)."""
        from zoo.runtime.uncertainty import propagate

        if not self.has_uncertainty:
            self.require_uncertainty()
        x = validate_points(x, self.dimension)
        f00 = self._check_f00(x, f00)
        ctx = _memo_context(self.context)
        batch, inputs = self.chain.forward_with_inputs(Batch(x=x, f00=f00), ctx)
        y_raw, s_raw = self.regressor.predict_uncertainty(batch.x)
        return propagate(lambda v: self.chain.inverse(v, inputs, ctx), y_raw, s_raw)

    def predict_uncertainty(self, x: np.ndarray, f00: np.ndarray | None = None
                            ) -> tuple[np.ndarray, np.ndarray]:
        """``(y, sigma)``: sigma calibrated (``card["uncertainty"]["calibration_scale"]``
        times the propagated raw sigma), physical units, one standard deviation of
        ``|y - exact|``; ``y`` comes from the regressor's ``predict_uncertainty`` (equal to
        :meth:`predict` to float rounding: the fast path may sum in another order). Refuses with :class:`~zoo.errors.NoUncertaintyError` when the model
        has no calibrated uncertainty."""
        cal = self.require_uncertainty()
        y, s = self.predict_uncertainty_raw(x, f00)
        return y, s * float(cal["calibration_scale"])

    def predict_on_cpu(self, x: np.ndarray, f00: np.ndarray | None = None) -> np.ndarray:
        """``predict`` with the regressor on the CPU, then back where it was: reference
        points are recorded and re-predicted there (a GPU sums in another order)."""
        device = getattr(self.regressor, "device_", "cpu")
        if device == "cpu":
            return self.predict(x, f00)
        self.to("cpu")
        try:
            return self.predict(x, f00)
        finally:
            self.to(device)

    def to(self, device: str) -> Model:
        """Run the regressor on ``device`` ('cpu', 'cuda', 'cuda:N', or 'auto': CUDA when
        torch sees one and the regressor can move there); returns self.

        Only regressors with a ``to_device`` method move (the torch networks); the others
        stay on the CPU for 'auto' and raise for an explicit GPU device.
        """
        move = getattr(self.regressor, "to_device", None)
        if device == "auto":
            if move is None:
                return self
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        if move is None:
            if device == "cpu":
                return self
            from zoo.errors import ConfigError

            name = getattr(self.regressor, "name", type(self.regressor).__name__)
            raise ConfigError(f"the {name} regressor of {self.label} runs on the CPU only; "
                              "load it with device='cpu' or 'auto'")
        move(device)
        self._fast = None
        return self

    def _predictor(self):
        """The fastest path for the current regressor (:mod:`zoo.runtime.inference`: the plugin's
        :meth:`~zoo.regressor.Regressor.fast_predictor`), cached; its own ``predict`` when
        that is refused (a :class:`~zoo.errors.ConfigError`)."""
        cached = getattr(self, "_fast", None)
        if cached is not None and cached[0] is self.regressor:
            return cached[1]
        from zoo.errors import ConfigError
        from zoo.runtime.inference import fast_predictor

        try:
            fn = fast_predictor(self.regressor)
        except ConfigError:
            fn = self.regressor.predict
        self._fast = (self.regressor, fn)
        return fn

    # -- artifact I/O -------------------------------------------------------------------
    def save(
        self,
        directory: str | os.PathLike,
        *,
        reference_x: np.ndarray,
        reference_f00: np.ndarray | None = None,
    ) -> Path:
        """Write the artifact (without manifest) into a new or empty ``directory``."""
        import zarr

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        if any(out.iterdir()):
            raise ArtifactError(f"{out} is not empty; save artifacts into a new directory")
        (out / "model").mkdir()
        model_files = self.regressor.save(out / "model")
        tgroup = zarr.open_group(str(out / "transforms.zarr"), mode="w")
        for i, step in enumerate(self.chain.steps):
            sg = tgroup.create_group(str(i))
            sg.attrs["name"] = step.name
            for key, arr in step.get_state().items():
                sg.create_array(key, data=np.asarray(arr, dtype=np.float64))
        ref_x = validate_points(reference_x[:N_REFERENCE], self.dimension)
        ref_f00 = None if reference_f00 is None else np.asarray(reference_f00)[:N_REFERENCE]
        ref_y = self.predict_on_cpu(ref_x, ref_f00)
        rgroup = zarr.open_group(str(out / "reference.zarr"), mode="w")
        rgroup.create_array("x", data=ref_x)
        rgroup.create_array("y", data=ref_y)
        if ref_f00 is not None:
            rgroup.create_array("f00", data=np.asarray(ref_f00, dtype=np.float64))
        card = self.build_card(model_files, len(ref_x))
        _write_json(out / CARD, card)
        self.card = card
        return out

    def build_card(self, model_files: list[str], n_reference: int) -> dict[str, Any]:
        reg = self.regressor
        card = dict(self.card)
        lab = as_label(self.label)
        proc = self.context.process
        card.update(
            {
                "schema_version": SCHEMA_VERSION,
                "label": self.label,
                "process": None
                if proc is None
                else {"name": proc.name, "dimension": proc.dimension, "version": proc.version},
                "term": lab.term,
                "helicity": lab.helicity,
                "regressor": {
                    "name": reg.name,
                    "version": reg.version,
                    "params": reg.get_params(),
                    "files": sorted(f"model/{f}" for f in model_files),
                    **_plugin_meta("regressors", reg.name),
                },
                "transforms": [
                    {**d, **_plugin_meta("transforms", d["name"])} for d in self.chain.describe()
                ],
                "n_parameters": int(reg.n_parameters),
                "dtype": reg.dtype,
                "reference": {
                    "path": "reference.zarr",
                    "n": int(n_reference),
                    "rtol": REFERENCE_RTOL.get(reg.dtype, 1e-5),
                    "tolerance_rule": "|y - y_ref| <= rtol * max(|y_ref|, 1e-3 * max|y_ref|)",
                },
                "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "zoo_version": __version__,
            }
        )
        return card

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Model:
        """Rebuild a model from an artifact directory (hashes are checked by the registry)."""
        import zarr

        path = Path(directory)
        _check_regular_tree(path)
        card = read_card(path)
        try:
            reg_info = card["regressor"]
            reg_cls = plugin_manager.get("regressors", reg_info["name"])
            regressor = reg_cls.load(path / "model", dict(reg_info.get("params", {})))
            steps = []
            tgroup = zarr.open_group(str(path / "transforms.zarr"), mode="r")
            for i, tinfo in enumerate(card.get("transforms", [])):
                tcls = plugin_manager.get("transforms", tinfo["name"])
                step = tcls.from_params(dict(tinfo.get("params", {})))
                sg = tgroup[str(i)]
                step.set_state({k: np.asarray(sg[k][...]) for k in sg.array_keys()})
                steps.append(step)
        except UnknownPluginError:
            raise
        except KeyError as exc:
            raise ArtifactError(
                f"artifact {path} is malformed: missing {exc} in card.json or transforms.zarr; "
                "re-publish or re-fetch it"
            ) from exc
        except ZooError:
            raise
        except Exception as exc:  # a plugin's or a format library's own error: name the fix
            raise ArtifactError(
                f"artifact {path} ({card.get('label', '?')}) cannot be loaded: "
                f"{type(exc).__name__}: {str(exc)[:300]}. Its files are malformed although "
                "their hashes may match (a corrupted publish or a hand-made artifact); "
                "re-publish or re-fetch it"
            ) from exc
        return cls(card["label"], regressor, Chain(steps), card=card)

    def verify(self, directory: str | os.PathLike) -> dict[str, float]:
        """Re-predict the stored reference points; raise VerificationError beyond tolerance."""
        import zarr

        try:
            ref = zarr.open_group(str(Path(directory) / "reference.zarr"), mode="r")
            x = np.asarray(ref["x"][...], dtype=np.float64)
            y_ref = np.asarray(ref["y"][...], dtype=np.float64)
            f00 = (np.asarray(ref["f00"][...], dtype=np.float64)
                   if "f00" in ref.array_keys() else None)
            y = self.predict_on_cpu(x, f00)
        except ZooError:
            raise
        except Exception as exc:
            raise ArtifactError(
                f"the reference points of {directory} cannot be read or re-predicted: "
                f"{type(exc).__name__}: {str(exc)[:300]}; re-publish or re-fetch the artifact"
            ) from exc
        rtol = float(self.card.get("reference", {}).get("rtol", 1e-5))
        scale = np.maximum(np.abs(y_ref), 1e-3 * np.max(np.abs(y_ref)))
        worst = float(np.max(np.abs(y - y_ref) / scale)) if len(y) else 0.0
        if not np.isfinite(worst) or worst > rtol:
            raise VerificationError(
                f"{self.label}: re-predicted reference points differ from those stored at save "
                f"time by up to {worst:.3g} (relative), above the tolerance {rtol:g}. The model "
                "files or the installed plugin versions changed; re-fetch the artifact or "
                "retrain with the installed versions"
            )
        return {"n": len(y), "max_rel_dev": worst, "rtol": rtol}


def _check_regular_tree(root: Path) -> None:
    """Refuse an artifact holding anything but directories and regular files (a FIFO would
    hang a reader, a symlink could point anywhere)."""
    if not root.is_dir():
        raise ArtifactNotFoundError(f"{root} is not an artifact directory; re-fetch or re-publish it")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            mode = os.lstat(os.path.join(dirpath, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise ArtifactError(
                    f"{os.path.join(dirpath, name)} is not a regular file (a link, FIFO or "
                    "device); the zoo loads only regular files. Re-fetch or re-publish the "
                    "artifact"
                )


def read_card(directory: Path) -> dict[str, Any]:
    path = Path(directory) / CARD
    if not path.is_file():
        raise ArtifactNotFoundError(
            f"{path} is missing: {directory} is not an artifact directory (re-fetch or re-publish it)"
        )
    try:
        card = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} is unreadable ({exc}); re-fetch the artifact") from exc
    if not isinstance(card, dict) or "label" not in card:
        raise ArtifactError(f"{path} is not a model card (no 'label'); re-fetch the artifact")
    return card


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".tmp-{path.name}")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default))
    os.replace(tmp, path)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _memo_context(ctx: Context) -> Context:
    """A copy of ``ctx`` whose ``f00`` and ``f00_sum`` remember their last answer for the
    same array object (a transform's forward and inverse see the same batch), so that
    propagating an uncertainty through the inverse chain evaluates the exact f00 once."""
    import dataclasses

    def memo(fn):
        if fn is None:
            return None
        last: list[Any] = [None, None]

        def cached(x: np.ndarray) -> np.ndarray:
            if last[0] is not x:
                last[0], last[1] = x, fn(x)
            return last[1]

        return cached

    return dataclasses.replace(ctx, f00=memo(ctx.f00), f00_sum=memo(ctx.f00_sum))
