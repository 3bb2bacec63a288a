"""Helpers shared by the built-in regressor plugins (no heavy imports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ArtifactError, ArtifactNotFoundError, InputError, NotFittedError

__all__ = ["NotFittedError", "check_fitted", "check_x", "check_xy", "stored_file"]


def stored_file(directory: str | Path, name: str) -> Path:
    """The path of a model file of an artifact, or ArtifactNotFoundError if it is missing."""
    path = Path(directory) / name
    if not path.is_file():
        raise ArtifactNotFoundError(
            f"{path} is missing; the artifact is incomplete: re-fetch or re-publish it"
        )
    return path


def check_fitted(regressor: object, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``regressor`` has the learned ``attribute``."""
    if getattr(regressor, attribute, None) is None:
        raise NotFittedError(
            f"{type(regressor).__name__} is not fitted yet: call fit(x, y) or load it "
            "from an artifact before predicting or saving"
        )


def check_x(x: np.ndarray, n_features: int | None = None, *, name: str = "x") -> np.ndarray:
    """Return ``x`` as a C-contiguous (N, D) float64 array; raise InputError if invalid."""
    arr = np.ascontiguousarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array (N, D), got shape {arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise InputError(
            f"{name} has {arr.shape[1]} columns but the regressor was fitted on "
            f"{n_features}; pass points of dimension {n_features}"
        )
    if not np.isfinite(arr).all():
        raise InputError(f"{name} contains NaN or inf; remove or fix those rows")
    return arr


def check_xy(x: np.ndarray, y: np.ndarray, *, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate a training pair: x (N, D), y (N,), both finite; return float64 copies."""
    xa = check_x(x, name=f"x{name}")
    ya = np.ascontiguousarray(y, dtype=np.float64)
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1 or ya.shape[0] != xa.shape[0]:
        raise InputError(
            f"y{name} must have shape ({xa.shape[0]},) to match x{name}, got {ya.shape}"
        )
    if xa.shape[0] == 0:
        raise InputError(f"x{name} has no rows")
    if not np.isfinite(ya).all():
        raise InputError(f"y{name} contains NaN or inf; remove or fix those rows")
    return xa, ya


def validation_split(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    seed: int,
    fraction: float = 0.1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate inputs and return (x, y, x_val, y_val).

    Without a validation set, hold out a seeded ``fraction`` of the rows (at least one).
    """
    x, y = check_xy(x, y)
    if (x_val is None) != (y_val is None):
        raise InputError("give both x_val and y_val, or neither")
    if x_val is not None:
        x_val, y_val = check_xy(x_val, y_val, name="_val")
        if x_val.shape[1] != x.shape[1]:
            raise InputError(f"x_val has {x_val.shape[1]} columns but x has {x.shape[1]}")
        return x, y, x_val, y_val
    n = x.shape[0]
    if n < 2:
        raise InputError("need at least 2 training rows to hold out a validation set")
    n_val = max(1, int(round(fraction * n)))
    perm = np.random.default_rng(seed).permutation(n)
    val, train = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return x[train], y[train], x[val], y[val]


class CoefficientCount:
    """``n_parameters`` of a regressor whose learned numbers are its ``coef_`` array."""

    @property
    def n_parameters(self) -> int:
        coef = getattr(self, "coef_", None)
        return 0 if coef is None else int(coef.size)


def save_arrays(regressor, directory: str | Path, name: str, arrays: dict[str, np.ndarray],
                **meta: str) -> list[str]:
    """Write ``arrays`` to ``directory/name`` as safetensors (data only, no pickle), with
    the regressor's name and version (and ``meta``) as metadata; returns ``[name]``."""
    from safetensors.numpy import save_file

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(directory / name),
              metadata={"regressor": regressor.name, "version": regressor.version, **meta})
    return [name]


def load_arrays(directory: str | Path, name: str) -> tuple[dict[str, np.ndarray], dict[str, str], Path]:
    """``(arrays, metadata, path)`` of a file written by :func:`save_arrays`; a missing file
    is ArtifactNotFoundError, an unreadable one ArtifactError naming it."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = stored_file(directory, name)
    try:
        with safe_open(str(path), framework="np") as f:
            meta = dict(f.metadata() or {})
        return load_file(str(path)), meta, path
    except (ValueError, OSError) as exc:
        raise ArtifactError(f"cannot read {path}: {exc}") from exc


# -- ensembles over seeds (the uncertainty of issue 16) ---------------------------------
def member_seed(seed: int, k: int) -> int:
    """The seed of ensemble member ``k``: member 0 uses ``seed`` itself (so that a
    one-member ensemble is the plain model), the others a SeedSequence of (seed, k)."""
    if k == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), int(k)]).generate_state(1)[0] & 0x7FFFFFFF)


def member_file(stem: str, suffix: str, k: int) -> str:
    """The file of ensemble member ``k``: ``stem.suffix`` for member 0 (the single-model
    file), ``stem-member-01.suffix`` ... for the others."""
    return f"{stem}.{suffix}" if k == 0 else f"{stem}-member-{k:02d}.{suffix}"


def mean_and_spread(outs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, s)`` over axis 0 of the members' (K, N) float64 predictions, ``s`` the
    standard deviation with Bessel's correction (divisor K - 1), K >= 2."""
    mean = outs.mean(axis=0)
    return mean, np.sqrt(((outs - mean) ** 2).sum(axis=0) / (outs.shape[0] - 1))


class MemberEnsemble:
    """Mixin of the seed ensembles of the tree plugins (``n_members``): ``_members()`` lists
    the fitted library models (the one model of a plain fit, in ``_single``, first),
    ``_member_predictions(x)`` (defined by the plugin) their (K, N) float64 predictions; the
    value is their mean and the uncertainty their spread (:func:`mean_and_spread`)."""

    #: the attribute holding the (first) fitted library model
    _single: str = ""

    def _members(self) -> list[Any]:
        check_fitted(self, self._single)
        return getattr(self, "members_", None) or [getattr(self, self._single)]

    @property
    def has_uncertainty(self) -> bool:
        """True for a fitted ensemble (``n_members`` > 1)."""
        return getattr(self, self._single, None) is not None and len(self._members()) > 1

    def predict_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(x), s)``: the members' mean and standard deviation (Bessel)."""
        if not self.has_uncertainty:
            return super().predict_uncertainty(x)
        x = check_x(x, self.n_features_)
        return mean_and_spread(self._member_predictions(x))

    def onnx_uncertainty_nodes(self, graph: Any, x: str) -> str:
        """The members' standard deviation, (N, 1) float64, from the members' own ONNX
        subgraphs (``_onnx_members``, defined by the plugin)."""
        if not self.has_uncertainty:
            return super().onnx_uncertainty_nodes(graph, x)
        outs = self._onnx_members(graph, x)
        return graph.op("Sqrt", [onnx_variance(graph, outs, onnx_mean(graph, outs))], "sigma")


def onnx_mean(g, outs: list[str]) -> str:
    """ONNX nodes of the mean of same-shaped float64 outputs (Sum, then / K)."""
    if len(outs) == 1:
        return outs[0]
    total = g.op("Sum", outs, "member_sum")
    return g.op("Div", [total, g.const(np.array(float(len(outs))), "n_members")], "member_mean")


def onnx_variance(g, outs: list[str], mean: str) -> str:
    """ONNX nodes of the members' variance with Bessel's correction (float64, K >= 2)."""
    sq = []
    for v in outs:
        d = g.op("Sub", [v, mean], "dev")
        sq.append(g.op("Mul", [d, d], "dev2"))
    total = g.op("Sum", sq, "dev2_sum")
    return g.op("Div", [total, g.const(np.array(float(len(outs) - 1)), "bessel")], "var_members")
