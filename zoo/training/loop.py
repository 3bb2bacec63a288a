"""Training: data -> split -> transform chain -> regressor -> metrics -> card.

A training run is described by a :class:`TrainConfig` (from a TOML file and/or CLI
options). Metrics are computed on the physical quantity of the test split, after every
inverse transform, with ``zoo.training.metrics.precision_table``.
"""

from __future__ import annotations

import os
import time
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo import plugin_manager
from zoo.errors import ConfigError, InputError
from zoo.labels import as_label
from zoo.model import Model, make_context
from zoo.progress import get_logger, task
from zoo.training.data import Dataset, hash_json
from zoo.transform import Batch, Chain

log = get_logger(__name__)


@dataclass
class TrainConfig:
    """Everything that defines a training run (recorded in the card)."""

    label: str
    regressor: str = "skdnn"
    params: dict[str, Any] = field(default_factory=dict)
    transforms: list[dict[str, Any]] = field(default_factory=list)
    data: str | None = None  # a path; None: generate from the label's process
    source: str | None = None  # reader name; None: sniff
    data_options: dict[str, Any] = field(default_factory=dict)
    test_data: str | None = None  # separate test set (e.g. the paper's test/ folder)
    n: int = 100_000  # generated points when data is None
    seed: int = 0  # generation and split seed
    split: tuple[float, float, float] = (0.8, 0.1, 0.1)
    metric_scale: str = "abs"  # "abs": delta relative to |y|; "f00": relative to f00
    checkpoint_dir: str | None = None
    aliases: list[str] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: str | os.PathLike, **overrides: Any) -> TrainConfig:
        try:
            raw = tomllib.loads(Path(path).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from exc
        base = Path(path).resolve().parent
        for key in ("data", "test_data"):
            if raw.get(key) and not os.path.isabs(raw[key]) and "://" not in raw[key]:
                raw[key] = str((base / raw[key]).resolve())
        raw.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ConfigError(
                f"unknown training option(s) {', '.join(unknown)}; valid: {', '.join(sorted(known))}"
            )
        if "label" not in raw:
            raise ConfigError("the training config needs a 'label', e.g. label = 'qqbar-zz-4l/8d/f11/sum'")
        cfg = cls(**raw)
        cfg.split = tuple(cfg.split)  # type: ignore[assignment]
        as_label(cfg.label)
        if cfg.metric_scale not in ("abs", "f00"):
            raise ConfigError(f"metric_scale must be 'abs' or 'f00', not {cfg.metric_scale!r}")
        return cfg


def read_data(path: str, *, source: str | None, label: str, options: dict[str, Any]) -> Dataset:
    """Read a data set with a named reader, or the first whose ``sniff`` accepts the path."""
    readers = plugin_manager.table("sources")
    if not os.path.exists(path):
        raise InputError(f"data path {path} does not exist; check the path (or --data)")
    if source is None:
        for name, reader in readers.items():
            sniff = getattr(reader, "sniff", None)
            if sniff is not None and sniff(path):
                source = name
                break
        else:
            raise InputError(
                f"no data reader recognises {path}; name one with --source "
                f"({', '.join(sorted(readers))})"
            )
    reader = plugin_manager.get("sources", source)
    return reader(path, label=label, **options)


def generate_dataset(label: str, n: int, seed: int, *, progress: bool = False) -> Dataset:
    """Fresh points from the label's process: y = f_term,h(x), f00 = f00_h(x)."""
    from zoo import resolver
    from zoo.training.generate import chunk_points

    lab = as_label(label)
    process = resolver.find_process(lab)
    if process is None:
        raise ConfigError(
            f"no process plugin provides {lab.process}/{lab.dimension}d, so data cannot be "
            "generated; give --data PATH"
        )
    x = chunk_points(seed, 0, n, process.dimension)
    terms = [lab.term] + (["f00"] if lab.term != "f00" and "f00" in process.terms else [])
    parts: list[dict[str, np.ndarray]] = []
    step = 4096
    with task(f"generating {lab.process}/{lab.dimension}d", total=n, enabled=progress) as advance:
        for lo in range(0, n, step):
            parts.append(process.evaluate(x[lo:lo + step], terms))
            advance(min(step, n - lo))
    values = {t: np.concatenate([p[t] for p in parts]) if parts else np.empty((0,))
              for t in terms}

    def pick(term: str) -> np.ndarray:
        v = values[term]
        return v.sum(axis=1) if lab.helicity == "sum" else v[:, process.helicity_index(lab.helicity)]

    f00 = pick("f00") if "f00" in values else None
    prov = hash_json({"process": f"{lab.process}/{lab.dimension}d", "version": process.version,
                      "label": lab.key, "n": n, "seed": seed})
    return Dataset(x, pick(lab.term), f00, label=lab.key, provenance=prov,
                   meta={"source": "generator", "process_version": process.version, "n": n, "seed": seed})


def metric_scale(cfg: TrainConfig, data: Dataset) -> np.ndarray | None:
    if cfg.metric_scale == "abs":
        return None
    if data.f00 is None:
        raise ConfigError("metric_scale='f00' needs f00 in the data (or a process that computes it)")
    return data.f00


def train(cfg: TrainConfig, *, resume: bool = False, progress: bool = False) -> tuple[Model, Dataset]:
    """Run a training; return the fitted model (card filled) and the test split."""
    from zoo.training.metrics import measure_throughput, precision_table

    lab = as_label(cfg.label)
    if cfg.data is None:
        data = generate_dataset(lab.key, cfg.n, cfg.seed, progress=progress)
    else:
        data = read_data(cfg.data, source=cfg.source, label=lab.key, options=dict(cfg.data_options))
    if cfg.test_data:
        test_opts = dict(cfg.data_options)
        if "split" in test_opts:
            test_opts["split"] = "test"
        test = read_data(cfg.test_data, source=cfg.source, label=lab.key, options=test_opts)
        f_train = cfg.split[0] / (cfg.split[0] + cfg.split[1])
        train_set, val_set, _ = data.split((f_train, 1 - f_train, 0.0), seed=cfg.seed)
    else:
        train_set, val_set, test = data.split(cfg.split, seed=cfg.seed)
    if len(train_set) == 0 or len(val_set) == 0 or len(test) == 0:
        raise ConfigError(f"split {cfg.split} of {len(data)} rows leaves an empty part")

    ctx = make_context(lab.key)
    chain = Chain(
        [plugin_manager.get("transforms", t["name"]).from_params(dict(t.get("params", {})))
         for t in cfg.transforms]
    )
    reg_cls = plugin_manager.get("regressors", cfg.regressor)
    regressor = reg_cls.from_params(dict(cfg.params))

    log.info("fitting %s on %d points of %s (%d for validation)", cfg.regressor,
             len(train_set), lab.key, len(val_set))
    t0 = time.perf_counter()
    tb = chain.fit_forward(Batch(train_set.x, train_set.y, train_set.f00), ctx)
    vb = chain.forward(Batch(val_set.x, val_set.y, val_set.f00), ctx)
    regressor.fit(tb.x, tb.y, x_val=vb.x, y_val=vb.y, checkpoint_dir=cfg.checkpoint_dir,
                  resume=resume, progress=progress)
    train_time = time.perf_counter() - t0

    card = {
        "training": {**_jsonable(asdict(cfg)), "training_time_s": round(train_time, 3)},
        "data": {
            "provenance": data.provenance,
            "test_provenance": test.provenance,
            "source": data.meta.get("source"),
            "n_train": len(train_set),
            "n_validation": len(val_set),
            "n_test": len(test),
            "split_seed": cfg.seed,
            "meta": _jsonable(data.meta),
        },
    }
    model = Model(lab.key, regressor, chain, card=card, context=ctx)
    f00_needed = _needs_data_f00(chain)
    log.info("fitted in %.1f s; evaluating on %d test points", train_time, len(test))
    y_pred = model.predict(test.x, test.f00 if f00_needed else None)
    metrics = precision_table(test.y, y_pred, scale=metric_scale(cfg, test))
    log.info("measuring throughput")
    rate = measure_throughput(
        lambda x: model.predict(x, np.ones(len(x)) if f00_needed else None), lab.dimension,
        n=min(100_000, max(10_000, len(test))),
    )
    model.card["metrics"] = {"test": metrics}
    if model.has_uncertainty:
        log.info("calibrating the uncertainty on the %d test points", len(test))
        model.card["uncertainty"] = calibrate_on(
            model, test, scale=cfg.metric_scale, f00_needed=f00_needed,
            source=f"test split of the training data ({test.provenance[:16]})")
    model.card["n_parameters"] = int(regressor.n_parameters)
    model.card["dtype"] = regressor.dtype
    model.card["training_time_s"] = round(train_time, 3)
    model.card["throughput_points_per_s"] = round(rate, 1)
    model.card["throughput_note"] = (
        "Model.predict (transform chain included, e.g. the exact f00 of the process) on "
        "uniform random points in one batch of up to 1e5, on the training machine"
    )
    return model, test


def calibrate_on(model: Model, data: Dataset, *, scale: str = "abs", f00_needed: bool = False,
                 source: str = "") -> dict[str, Any]:
    """``card["uncertainty"]`` of ``model`` from points it never saw in ``fit`` (``data``:
    exact ``y`` and, for ``scale="f00"`` or a chain normalised by data, ``f00``), computed by
    :func:`zoo.runtime.uncertainty.calibrate` in chunks of 65536."""
    from zoo.runtime.uncertainty import calibrate

    if scale == "f00" and data.f00 is None:
        raise ConfigError("calibration on the f00 scale needs f00 in the data")
    n, step = len(data), 65_536
    y = np.empty(n, dtype=np.float64)
    s = np.empty(n, dtype=np.float64)
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        f00 = data.f00[lo:hi] if f00_needed and data.f00 is not None else None
        y[lo:hi], s[lo:hi] = model.predict_uncertainty_raw(data.x[lo:hi], f00)
    return calibrate(data.y, y, s, scale=data.f00 if scale == "f00" else None,
                     scale_name=scale, source=source)


def _needs_data_f00(chain: Chain) -> bool:
    return any(s.name == "f00-normalise" and getattr(s, "source", "") == "data" for s in chain.steps)


def evaluate(model: Model, data: Dataset, *, scale: str = "abs", progress: bool = False
             ) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics of ``model`` on ``data`` (physical quantity); returns (table, predictions)."""
    from zoo.training.metrics import precision_table

    f00 = data.f00 if _needs_data_f00(model.chain) else None
    n, step = len(data.x), 65_536
    y_pred = np.empty(n, dtype=np.float64)
    with task(f"evaluating {model.label}", total=n, enabled=progress) as advance:
        for lo in range(0, n, step):
            hi = min(n, lo + step)
            y_pred[lo:hi] = model.predict(data.x[lo:hi], None if f00 is None else f00[lo:hi])
            advance(hi - lo)
    s = None
    if scale == "f00":
        if data.f00 is None:
            raise ConfigError("scale 'f00' needs f00 in the data")
        s = data.f00
    return precision_table(data.y, y_pred, scale=s), y_pred


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
