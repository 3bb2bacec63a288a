"""Per-point uncertainty: propagation to physical units, calibration, the guard's rule.

Pure functions (numpy in, numpy or JSON-able dicts out, float64 throughout); the core
(:class:`zoo.model.Model`, :class:`zoo.api.Amplitude`, :func:`zoo.training.loop.train`)
calls them. Conventions:

* A regressor returns ``(y_raw, s_raw)`` in its output space (after the transform chain):
  ``s_raw >= 0`` estimates one standard deviation of ``|y_raw - target|``.
* :func:`propagate` maps it to the physical quantity through the inverse chain ``g``::

      y = g(y_raw),   sigma = |g(y_raw + s_raw) - g(y_raw - s_raw)| / 2

  exact for affine steps (``standardise``, ``f00-normalise``: ``g`` linear in ``y_raw``),
  right to first order in ``s_raw`` for curved ones (``log``: ``exp(y) sinh(s)``, i.e.
  ``exp(y) s`` for small ``s``; ``asinh``), symmetric by construction.
* Calibration (:func:`calibrate`) on held-out points with exact values ``y_true``: the raw
  pulls ``p = (y - y_true) / sigma`` fix one scale factor ``c`` such that the calibrated
  ``sigma_c = c * sigma`` covers ``|y - y_true|`` at 2 sigma on the Gaussian fraction
  :data:`COVERAGE_2SIGMA` (95.45%) of the calibration points: ``c = q_0.9545(|p|) / 2``.
  Chosen over a robust-width-1 rule because the guard and the acceptance tests read the
  tails (2-sigma coverage), not the core of the pull distribution.
* The guard's vouching rule (:func:`vouched`): the model vouches for a relative error
  ``<= rtol`` at a point when ``k * sigma_c`` stays below it:

      scale "abs" (relative to the value itself, e.g. f11):
          k * sigma_c * (1 + rtol) <= rtol * |y|
          (if |y - y_true| <= k sigma_c then |y_true| >= |y| - k sigma_c, so this bound
          gives |y - y_true| <= rtol * |y_true|)
      scale "f00" (relative to the exact f00 of the same label, e.g. f01):
          k * sigma_c <= rtol * f00

  ``k`` is measured on the calibration points (:func:`needed_k`): the smallest ``k`` for
  which every calibration point the rule would trust is within ``rtol`` of its exact value,
  for every rtol in :data:`K_RTOL_RANGE` (1e-4..1e-2), times :data:`K_MARGIN`, and never
  below :data:`K_FLOOR`. It is stored in the card as ``uncertainty.vouch_k``; for an rtol
  outside that range it was not measured. Heavy pull tails among points with small sigma
  make it large (and send more points to the exact code): that is the price of the bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from zoo.errors import InputError

#: two-sided Gaussian coverage of +-2 sigma, the calibration target (erf(sqrt 2))
COVERAGE_2SIGMA = 0.9544997361036416
#: two-sided Gaussian coverage of +-1 sigma (erf(1 / sqrt 2)), for reference in docs
COVERAGE_1SIGMA = 0.6826894921370859
#: tolerances at which cards report the fraction sent to the exact code
RTOLS = (1e-2, 1e-3, 1e-4)
#: the rtols for which the stored k is measured (every rtol in between, not a sample)
K_RTOL_RANGE = (1e-4, 1e-2)
#: smallest vouching factor k, whatever the calibration points say
K_FLOOR = 3.0
#: safety factor on the k measured on the calibration points
K_MARGIN = 1.25
#: largest k stored (a point with sigma 0 but an error would need an infinite one)
K_MAX = 1e6
SCALES = ("abs", "f00")
#: the fields of card["uncertainty"] (the interface), plus the rule's own
CARD_FIELDS = ("calibration_scale", "n_calibration", "calibration_source", "coverage_1sigma",
               "coverage_2sigma", "pull_mean", "pull_width", "sharpness", "exact_fraction")


def rtol_key(rtol: float) -> str:
    """``1e-3 -> "1e-3"``: the keys of ``exact_fraction``."""
    return f"{rtol:.0e}".replace("e-0", "e-")


def propagate(inverse: Callable[[np.ndarray], np.ndarray], y_raw: np.ndarray,
              s_raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(g(y_raw), |g(y_raw + s_raw) - g(y_raw - s_raw)| / 2)`` for the inverse chain ``g``
    (a function of the (N,) raw values at fixed points); both (N,) float64.

    Overflow (``exp`` of a large ``y + s``) gives ``sigma = inf``: never trusted."""
    y_raw = np.asarray(y_raw, dtype=np.float64).reshape(-1)
    s_raw = np.asarray(s_raw, dtype=np.float64).reshape(-1)
    if s_raw.shape != y_raw.shape:
        raise InputError(f"the uncertainty has shape {s_raw.shape} for {y_raw.shape} values; "
                         "a regressor's predict_uncertainty must return two (N,) arrays")
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.asarray(inverse(y_raw), dtype=np.float64)
        up = np.asarray(inverse(y_raw + s_raw), dtype=np.float64)
        down = np.asarray(inverse(y_raw - s_raw), dtype=np.float64)
        sigma = 0.5 * np.abs(up - down)
    sigma[np.isnan(sigma) & ~np.isnan(s_raw)] = np.inf
    return y, sigma


def pulls(y_true: np.ndarray, y_pred: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """``(y_pred - y_true) / sigma``; 0 where both error and sigma vanish, +-inf where only
    sigma does."""
    err = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = err / sigma
    p[(err == 0.0) & (sigma == 0.0)] = 0.0
    return p


def vouched(y: np.ndarray, sigma: np.ndarray, rtol: float, k: float, *,
            scale: np.ndarray | None = None) -> np.ndarray:
    """Bool (N,): where the model vouches for a relative error ``<= rtol`` (module docstring).

    ``scale=None``: relative to ``|y|`` (``k sigma (1 + rtol) <= rtol |y|``); else relative
    to ``|scale|`` (``k sigma <= rtol |scale|``, e.g. the exact f00 for f01). NaN never
    vouches."""
    y = np.asarray(y, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if scale is None:
        return k * sigma * (1.0 + rtol) <= rtol * np.abs(y)
    return k * sigma <= rtol * np.abs(np.asarray(scale, dtype=np.float64))


def needed_k(y_true: np.ndarray, y_pred: np.ndarray, sigma: np.ndarray, *,
             scale: np.ndarray | None = None,
             rtol_range: tuple[float, float] = K_RTOL_RANGE) -> float:
    """The smallest ``k`` for which :func:`vouched` trusts no point whose relative error
    exceeds the rtol asked for, for *every* rtol in ``rtol_range`` (0 when no point can
    fail there; at most :data:`K_MAX`).

    A point with relative error ``e`` fails at every ``rtol < e``; the rule trusts it while
    ``k <= T(rtol)``, ``T(r) = r |y| / (sigma (1 + r))`` (``r |scale| / sigma`` on the f00
    scale), increasing in r: so it needs ``k > T(min(e, rtol_max))`` when ``e > rtol_min``.
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    lo, hi = float(rtol_range[0]), float(rtol_range[1])
    denom = np.abs(y_true) if scale is None else np.abs(np.asarray(scale, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.abs(y_pred - y_true) / denom
        fails = e > lo
        r = np.minimum(e[fails], hi)
        limit = r * (np.abs(y_pred[fails]) / (1.0 + r) if scale is None else denom[fails])
        per = sigma[fails]
        need = np.where(per > 0, limit / per, np.where(limit > 0, np.inf, 0.0))
    if need.size == 0:
        return 0.0
    return float(min(np.nanmax(need), K_MAX))


def calibration_scale(raw_pulls: np.ndarray) -> float:
    """``c = q_0.9545(|p|) / 2``: ``c * sigma`` covers 95.45% of the points at 2 sigma.

    Falls back to half the largest finite ``|p|`` when that quantile is 0, and to 1 when
    every pull is 0 (a model exact at every calibration point)."""
    a = np.abs(np.asarray(raw_pulls, dtype=np.float64))
    a = a[~np.isnan(a)]
    if a.size == 0:
        raise InputError("no calibration points: calibrate on at least one held-out point")
    c = float(np.quantile(a, COVERAGE_2SIGMA)) / 2.0
    if c == 0.0 or not np.isfinite(c):
        finite = a[np.isfinite(a)]
        c = float(finite.max()) / 2.0 if finite.size and finite.max() > 0 else 1.0
    return c


def calibrate(y_true: np.ndarray, y_pred: np.ndarray, sigma_raw: np.ndarray, *,
              scale: np.ndarray | None = None, scale_name: str = "abs",
              source: str = "") -> dict[str, Any]:
    """``card["uncertainty"]`` from held-out points: exact ``y_true``, the model's
    ``y_pred`` and uncalibrated physical ``sigma_raw`` (all (N,)); ``scale`` (N,) is the
    denominator of relative errors for ``scale_name="f00"`` (None: ``|y_true|``).

    Fields: ``calibration_scale`` c; ``n_calibration``; ``calibration_source``;
    ``coverage_1sigma``/``coverage_2sigma``: fractions with ``|y - y_true| <= 1 (2) c sigma``;
    ``pull_mean``: mean of the finite calibrated pulls; ``pull_width``: half their
    15.87..84.13 percentile range (the standard deviation for Gaussian pulls, robust to
    tails); ``sharpness``: median of ``c sigma / |y_true|`` (or ``/ |scale|``);
    ``exact_fraction``: per rtol of :data:`RTOLS`, the fraction :func:`vouched` refuses with
    ``k = vouch_k``; ``vouch_k`` and ``k_needed`` (see the module docstring); ``scale``.
    """
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    sigma_raw = np.asarray(sigma_raw, dtype=np.float64).reshape(-1)
    if not (y_true.shape == y_pred.shape == sigma_raw.shape) or y_true.size == 0:
        raise InputError(f"calibration needs three (N,) arrays with N > 0, got {y_true.shape}, "
                         f"{y_pred.shape}, {sigma_raw.shape}")
    if scale_name not in SCALES:
        raise InputError(f"scale_name must be one of {SCALES}, not {scale_name!r}")
    if scale_name == "f00":
        if scale is None:
            raise InputError("scale_name='f00' needs scale= (the exact f00 at the points)")
        scale = np.asarray(scale, dtype=np.float64).reshape(-1)
    else:
        scale = None
    c = calibration_scale(pulls(y_true, y_pred, sigma_raw))
    sigma = c * sigma_raw
    k_need = needed_k(y_true, y_pred, sigma, scale=scale)
    k = float(min(K_MAX, max(K_FLOOR, K_MARGIN * k_need)))
    return {
        "calibration_scale": c,
        "n_calibration": int(y_true.size),
        "calibration_source": source,
        **assess(y_true, y_pred, sigma, k=k, scale=scale),
        "vouch_k": k,
        "k_needed": k_need,
        "scale": scale_name,
        "rule": "c = q_0.9545(|pull|)/2; trusted where k*sigma*(1+rtol) <= rtol*|y| (abs) or "
                "k*sigma <= rtol*f00 (f00); k = max(3, 1.25 * k_needed), k_needed: no "
                "calibration point trusted beyond its rtol for any rtol in 1e-4..1e-2",
    }


def assess(y_true: np.ndarray, y_pred: np.ndarray, sigma: np.ndarray, *, k: float,
           scale: np.ndarray | None = None) -> dict[str, Any]:
    """Statistics of a *calibrated* ``sigma`` against exact values (the fields of
    :func:`calibrate` from ``coverage_1sigma`` to ``exact_fraction``, same definitions)."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(-1)
    y_pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    sigma = np.asarray(sigma, dtype=np.float64).reshape(-1)
    p = pulls(y_true, y_pred, sigma)
    a = np.abs(p)
    finite = p[np.isfinite(p)]
    lo, hi = (np.percentile(finite, [15.865525393145708, 84.13447460685429])
              if finite.size else (np.nan, np.nan))
    denom = np.abs(y_true) if scale is None else np.abs(np.asarray(scale, dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        sharp = float(np.nanmedian(np.where(denom > 0, sigma / denom, np.inf)))
    return {
        "coverage_1sigma": float(np.mean(a <= 1.0)),
        "coverage_2sigma": float(np.mean(a <= 2.0)),
        "pull_mean": float(finite.mean()) if finite.size else float("nan"),
        "pull_width": float((hi - lo) / 2.0),
        "sharpness": sharp,
        "exact_fraction": {rtol_key(r): float(np.mean(~vouched(y_pred, sigma, r, k, scale=scale)))
                           for r in RTOLS},
    }


def card_scale(card: Mapping[str, Any]) -> str:
    """The relative-error scale of a card: its calibration's, else its training metric's."""
    unc = card.get("uncertainty") or {}
    scale = unc.get("scale") or (card.get("training") or {}).get("metric_scale") or "abs"
    return scale if scale in SCALES else "abs"
