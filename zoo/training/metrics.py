"""Precision metrics on the physical quantity, in the layout of the paper's Table 1.

The relative error of a prediction is

    delta = (y_pred - y_true) / denom,      denom = |y_true|   (default)

always on the physical quantity (after every inverse transform), never on a
standardised target. For terms that cross zero (e.g. the interference f01) |y_true|
can vanish; pass ``scale`` instead, e.g. ``scale = sqrt(f00 * f11)`` (the natural size
of f01 by Cauchy-Schwarz, |f01| <= 2 sqrt(f00 f11)) or ``scale = f00``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import InputError

KEYS = (
    "n",
    "frac_lt_1pct",
    "frac_lt_0p1pct",
    "mean_delta_pct",
    "std_delta_pct",
    "p50_abs_delta_pct",
    "p90_abs_delta_pct",
    "p99_abs_delta_pct",
    "max_abs_delta_pct",
    "delta_denominator",
)


def relative_delta(
    y_true: np.ndarray, y_pred: np.ndarray, *, scale: np.ndarray | float | None = None
) -> np.ndarray:
    """``delta = (y_pred - y_true) / denom`` (a fraction, not %), validated.

    ``denom = |y_true|``, or ``|scale|`` when given (a positive scalar or one value per
    point). Raises :class:`InputError` for shape mismatches, NaN/inf, empty input or a
    zero denominator.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.ndim != 1 or t.shape != p.shape:
        raise InputError(
            f"y_true {t.shape} and y_pred {p.shape} must be 1-D arrays of the same length"
        )
    if t.size == 0:
        raise InputError("no points to compare: y_true is empty")
    for name, arr in (("y_true", t), ("y_pred", p)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise InputError(
                f"{name} contains NaN or inf (first at index {int(np.flatnonzero(bad)[0])})"
            )
    if scale is None:
        denom = np.abs(t)
        what = "the true value"
    else:
        denom = np.abs(np.broadcast_to(np.asarray(scale, dtype=np.float64), t.shape))
        what = "scale"
        if not np.isfinite(denom).all():
            raise InputError("scale contains NaN or inf")
    zero = denom == 0.0
    if zero.any():
        i = int(np.flatnonzero(zero)[0])
        hint = (
            ""
            if scale is not None
            else "; for terms that cross zero pass scale= (e.g. sqrt(f00*f11))"
        )
        raise InputError(f"{what} is zero at index {i}, so delta is undefined there{hint}")
    return (p - t) / denom


def precision_table(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    scale: np.ndarray | float | None = None,
    scale_name: str | None = None,
) -> dict[str, Any]:
    """The paper's precision metrics of ``y_pred`` against ``y_true``.

    ``delta = (y_pred - y_true) / denom`` with ``denom = |y_true|``, or ``|scale|`` when
    given: use ``scale = sqrt(f00 * f11)`` or ``scale = f00`` for terms that cross zero
    such as f01 (``scale_name`` names it in ``"delta_denominator"``). Returns JSON-able
    values: ``n``; ``frac_lt_1pct`` and ``frac_lt_0p1pct``, the fractions in [0, 1] of
    points with ``|delta| < 1e-2`` and ``< 1e-3``; ``mean_delta_pct`` and
    ``std_delta_pct`` (population std) of delta in %; the 50/90/99th percentiles
    (linear interpolation) and the maximum of ``|delta|`` in %; ``delta_denominator``.
    """
    delta = relative_delta(y_true, y_pred, scale=scale)
    a = np.abs(delta)
    p50, p90, p99 = np.percentile(a, [50.0, 90.0, 99.0])
    if scale is None:
        denominator = "|y_true|"
    else:
        denominator = f"|{scale_name}|" if scale_name else "|scale| (given by the caller)"
    return {
        "n": int(delta.size),
        "frac_lt_1pct": float(np.mean(a < 1e-2)),
        "frac_lt_0p1pct": float(np.mean(a < 1e-3)),
        "mean_delta_pct": float(100.0 * delta.mean()),
        "std_delta_pct": float(100.0 * delta.std()),
        "p50_abs_delta_pct": float(100.0 * p50),
        "p90_abs_delta_pct": float(100.0 * p90),
        "p99_abs_delta_pct": float(100.0 * p99),
        "max_abs_delta_pct": float(100.0 * a.max()),
        "delta_denominator": denominator,
    }


_ROWS = (
    ("|δ| < 1%", "frac_lt_1pct", "frac"),
    ("|δ| < 0.1%", "frac_lt_0p1pct", "frac"),
    ("mean δ", "mean_delta_pct", "pct"),
    ("std δ", "std_delta_pct", "pct"),
    ("median |δ|", "p50_abs_delta_pct", "pct"),
    ("90th pct |δ|", "p90_abs_delta_pct", "pct"),
    ("99th pct |δ|", "p99_abs_delta_pct", "pct"),
    ("max |δ|", "max_abs_delta_pct", "pct"),
    ("points", "n", "int"),
)

_EXTRA_NAMES = {
    "parameters": "parameters",
    "n_parameters": "parameters",
    "disk_size": "disk size",
    "disk_size_bytes": "disk size",
    "training_time": "training time",
    "training_time_s": "training time",
    "throughput": "points/s",
    "points_per_s": "points/s",
}


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "frac":
        return f"{100.0 * float(value):.3f}%"  # 99.995% must not print as 100.00%
    if kind == "pct":
        return f"{float(value):.4g}%"
    if kind == "int":
        return f"{int(value):,}"
    return str(value)


def _fmt_extra(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if key.startswith("disk_size"):
        size = float(value)
        for unit in ("B", "kB", "MB", "GB"):
            if size < 1000.0 or unit == "GB":
                return f"{size:.3g} {unit}" if unit != "B" else f"{int(size)} B"
            size /= 1000.0
    if key.startswith("training_time"):
        return f"{float(value):.1f} s"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if key in ("throughput", "points_per_s"):
        return f"{float(value):.3g}"
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


def format_table(
    metrics: Mapping[str, Any], extra: Mapping[str, Any] | None = None, *, title: str | None = None
):
    """A :class:`rich.table.Table` in the layout of the paper's Table 1.

    One row per quantity (within 1%, within 0.1%, mean, std, percentiles, max, then the
    ``extra`` entries: parameters, disk size, training time, points/s, ...). ``metrics``
    is one :func:`precision_table` dict (one value column), or a mapping ``{model name:
    dict}`` to compare models side by side; ``extra`` is then ``{key: value}`` for one
    model or ``{key: {model: value}}``.
    """
    from rich.table import Table

    multi = bool(metrics) and all(isinstance(v, Mapping) for v in metrics.values())
    columns: dict[str, Mapping[str, Any]] = dict(metrics) if multi else {"value": metrics}
    table = Table(title=title, show_lines=False)
    table.add_column("", style="bold")
    for name in columns:
        table.add_column(str(name), justify="right")
    denominators = {str(m.get("delta_denominator", "|y_true|")) for m in columns.values()}
    for text, key, kind in _ROWS:
        table.add_row(text, *(_fmt(m.get(key), kind) for m in columns.values()))
    for key, value in (extra or {}).items():
        label = _EXTRA_NAMES.get(key, key.replace("_", " "))
        if multi and isinstance(value, Mapping):
            cells = [_fmt_extra(key, value.get(name)) for name in columns]
        else:
            cells = [_fmt_extra(key, value)] * len(columns)
        table.add_row(label, *cells)
    table.caption = "δ = (y_pred − y_true) / " + " or ".join(sorted(denominators))
    return table


def delta_histogram_png(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    path: str | Path,
    *,
    scale: np.ndarray | float | None = None,
    title: str = "",
    pulls: np.ndarray | None = None,
) -> Path:
    """Write a PNG with two panels: signed delta in %, and log10 |delta|; with ``pulls``
    ((y_pred - y_true) / sigma, calibrated) a third: their distribution against the unit
    Gaussian, with the 1- and 2-sigma coverage in its title.

    Dashed lines mark ±1% and ±0.1% (and -2, -3 on the log panel). Uses matplotlib's
    Agg canvas directly (no pyplot state, no display). Returns the path.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    delta = relative_delta(y_true, y_pred, scale=scale)
    pct = 100.0 * delta
    fig = Figure(figsize=(15 if pulls is not None else 10, 4), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3 if pulls is not None else 2)
    left, right = axes[0], axes[1]
    if pulls is not None:
        _pull_panel(axes[2], np.asarray(pulls, dtype=np.float64))
    lim = max(2.0, float(np.percentile(np.abs(pct), 99.5)) * 1.1)
    left.hist(np.clip(pct, -lim, lim), bins=200, range=(-lim, lim), color="tab:blue")
    for v, c in ((1.0, "tab:red"), (0.1, "tab:green")):
        for s in (-v, v):
            left.axvline(s, color=c, ls="--", lw=1)
    left.set_xlabel("δ [%]  (clipped to the range shown)")
    left.set_ylabel("points")
    left.set_yscale("log")
    logd = np.log10(np.maximum(np.abs(delta), 1e-17))
    right.hist(logd, bins=200, color="tab:orange")
    right.axvline(-2.0, color="tab:red", ls="--", lw=1, label="1%")
    right.axvline(-3.0, color="tab:green", ls="--", lw=1, label="0.1%")
    right.set_xlabel("log10 |δ|")
    right.legend()
    within = np.mean(np.abs(delta) < 1e-2)
    fig.suptitle(f"{title}  (n={delta.size:,}, {100 * within:.1f}% within 1%)".strip())
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def _pull_panel(ax, pulls: np.ndarray) -> None:
    """Histogram of the pulls (clipped to ±6) with the unit-Gaussian density."""
    a = np.abs(pulls)
    ax.hist(np.clip(pulls[~np.isnan(pulls)], -6.0, 6.0), bins=120, range=(-6.0, 6.0),
            density=True, color="tab:purple", label="pulls")
    t = np.linspace(-6.0, 6.0, 401)
    ax.plot(t, np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi), color="black", lw=1,
            label="N(0, 1)")
    ax.set_xlabel("pull = (y_pred − y_true) / σ  (clipped to ±6)")
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 1.0)
    ax.legend()
    ax.set_title(f"within 1σ {100 * np.mean(a <= 1):.1f}%, 2σ {100 * np.mean(a <= 2):.1f}%")


def measure_throughput(
    predict: Callable[[np.ndarray], np.ndarray],
    dimension: int,
    *,
    n: int = 100_000,
    repeats: int = 3,
    seed: int = 0,
) -> float:
    """Points per second of ``predict`` on ``n`` uniform random points (best of ``repeats``).

    One call of ``predict`` on all ``n`` points per repeat, timed with
    ``time.perf_counter``; the best (fastest) repeat counts.
    """
    if int(dimension) < 1 or int(n) < 1 or int(repeats) < 1:
        raise InputError(f"dimension, n and repeats must be >= 1 (got {dimension}, {n}, {repeats})")
    x = np.random.default_rng(seed).random((int(n), int(dimension)))
    best = float("inf")
    for _ in range(int(repeats)):
        t0 = time.perf_counter()
        out = predict(x)
        elapsed = time.perf_counter() - t0
        if np.shape(out)[0] != n:
            raise InputError(f"predict returned {np.shape(out)[0]} values for {n} points")
        best = min(best, elapsed)
    return float(n / max(best, 1e-12))
