"""Plugin module of the XGBoost regressor (``xgboost``): native ``xgb.train`` with hist.

xgboost is imported only when a model is fitted or loaded. The model is stored in
XGBoost's own UBJSON format (``model.ubj``) and read back with ``Booster.load_model``.

Uncertainty: ``n_members`` > 1 trains that many boosters with their own seeds
(:func:`.common.member_seed`; row/column subsampling must be on so that they differ). The
prediction is their mean and the uncertainty their standard deviation (Bessel's
correction); member k > 0 is stored as ``model-member-0k.ubj``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.errors import ConfigError
from zoo.hookspecs import hookimpl
from zoo.progress import get_logger, task
from zoo.regressor import Regressor

from .common import (
    MemberEnsemble,
    check_fitted,
    check_x,
    check_xy,
    mean_and_spread,
    member_file,
    member_seed,
    onnx_mean,
    stored_file,
    validation_split,
)

if TYPE_CHECKING:
    from zoo.runtime.inference import Predictor
    from zoo.runtime.onnx_graph import Graph

MODEL_FILE = "model.ubj"


class XGBoostRegressor(MemberEnsemble, Regressor):
    """Gradient-boosted trees (XGBoost, ``tree_method="hist"``, squared error).

    With ``early_stopping_rounds`` set, training stops once the validation RMSE has not
    improved for that many rounds and only the trees up to the best round are kept (the
    validation set is ``x_val``/``y_val``, else a seeded 10% hold-out). Checkpoints are
    UBJSON models written every ``checkpoint_every`` rounds; a resumed run continues
    boosting from the newest one (exact replay only without row/column subsampling).
    ``n_members``: an ensemble over seeds (module docstring; checkpoints of member k > 0
    in ``checkpoint_dir/member-k``).
    """

    _single = "booster_"
    name = "xgboost"
    version = "1"

    def __init__(
        self,
        n_estimators: int = 500,
        max_depth: int = 8,
        learning_rate: float = 0.1,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        min_child_weight: float = 1.0,
        reg_lambda: float = 1.0,
        max_bin: int = 256,
        early_stopping_rounds: int | None = 50,
        checkpoint_every: int = 50,
        n_jobs: int | None = None,
        seed: int = 0,
        n_members: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.learning_rate = learning_rate
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.min_child_weight = min_child_weight
        self.reg_lambda = reg_lambda
        self.max_bin = max_bin
        self.early_stopping_rounds = early_stopping_rounds
        self.checkpoint_every = checkpoint_every
        self.n_jobs = n_jobs
        self.seed = seed
        self.n_members = n_members

    def _booster_params(self, seed: int | None = None) -> dict[str, Any]:
        params = {
            "objective": "reg:squarederror",
            "eval_metric": "rmse",
            "tree_method": "hist",
            "max_depth": int(self.max_depth),
            "eta": float(self.learning_rate),
            "subsample": float(self.subsample),
            "colsample_bytree": float(self.colsample_bytree),
            "min_child_weight": float(self.min_child_weight),
            "lambda": float(self.reg_lambda),
            "max_bin": int(self.max_bin),
            "seed": int(self.seed if seed is None else seed),
            "verbosity": 0,
        }
        if self.n_jobs:
            params["nthread"] = int(self.n_jobs)
        return params

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        *,
        x_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        checkpoint_dir: str | Path | None = None,
        resume: bool = False,
        progress: bool = False,
    ) -> XGBoostRegressor:
        """Boost ``n_estimators`` rounds, early-stopping on the validation RMSE (each
        member of an ensemble on the same split)."""
        n_members = int(self.n_members)
        if n_members < 1:
            raise ConfigError(f"n_members must be a positive integer, got {self.n_members!r}")
        if n_members > 1 and float(self.subsample) >= 1.0 and float(self.colsample_bytree) >= 1.0:
            raise ConfigError(
                f"n_members={n_members} with subsample=1 and colsample_bytree=1 would train "
                "identical boosters; set subsample < 1 (e.g. 0.8) or colsample_bytree < 1")
        if self.early_stopping_rounds is not None or x_val is not None:
            x, y, x_val, y_val = validation_split(x, y, x_val, y_val, int(self.seed))
        else:
            x, y = check_xy(x, y)
        boosters = []
        for k in range(n_members):
            ckpt = None
            if checkpoint_dir is not None:
                ckpt = Path(checkpoint_dir) if k == 0 else Path(checkpoint_dir) / f"member-{k:02d}"
            boosters.append(self._fit_one(x, y, x_val, y_val, ckpt, resume, progress,
                                          member_seed(int(self.seed), k)))
        self.booster_ = boosters[0]
        if n_members > 1:
            self.members_ = boosters
        self.n_features_ = int(x.shape[1])
        self.best_iteration_ = boosters[0].num_boosted_rounds() - 1
        return self

    def _fit_one(self, x, y, x_val, y_val, ckpt: Path | None, resume: bool, progress: bool,
                 seed: int) -> Any:
        """One booster from ``seed``, cut back to its best round."""
        import xgboost as xgb

        dtrain = xgb.DMatrix(x, label=y, nthread=self.n_jobs or -1)
        evals = [(dtrain, "train")]
        if x_val is not None:
            evals.append((xgb.DMatrix(x_val, label=y_val, nthread=self.n_jobs or -1), "val"))

        callbacks: list[Any] = []
        start_model = None
        if ckpt is not None:
            ckpt.mkdir(parents=True, exist_ok=True)
            existing = sorted(ckpt.glob("ckpt-*.ubj"))
            if resume and existing:
                start_model = xgb.Booster(model_file=str(existing[-1]))
            callbacks.append(_checkpoint_callback(xgb, ckpt, int(self.checkpoint_every)))
        if self.early_stopping_rounds is not None:
            callbacks.append(
                xgb.callback.EarlyStopping(
                    rounds=int(self.early_stopping_rounds), data_name="val", save_best=False
                )
            )
        done = start_model.num_boosted_rounds() if start_model is not None else 0
        rounds = max(0, int(self.n_estimators) - done)
        with task("boosting (xgboost)", total=rounds, unit="rounds",
                  enabled=progress) as advance:
            callbacks.append(_progress_callback(xgb, advance))
            booster = xgb.train(
                self._booster_params(seed),
                dtrain,
                num_boost_round=rounds,
                evals=evals,
                callbacks=callbacks,
                xgb_model=start_model,
                verbose_eval=False,  # per-round metrics go to the debug log (zoo -v)
            )
        best = booster.attr("best_iteration")
        if best is not None and int(best) + 1 < booster.num_boosted_rounds():
            booster = booster[: int(best) + 1]
        return booster

    def _member_predictions(self, x: np.ndarray) -> np.ndarray:
        return np.stack([np.asarray(b.inplace_predict(x), dtype=np.float64).reshape(-1)
                         for b in self._members()])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict (N,) float64 (XGBoost computes in float32)."""
        check_fitted(self, "booster_")
        x = check_x(x, self.n_features_)
        if len(self._members()) > 1:
            return mean_and_spread(self._member_predictions(x))[0]
        return np.asarray(self.booster_.inplace_predict(x), dtype=np.float64).reshape(-1)

    def save(self, directory: Path) -> list[str]:
        """Write ``model.ubj`` (XGBoost's UBJSON model format; one file per member)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for k, booster in enumerate(self._members()):
            name = member_file("model", "ubj", k)
            booster.save_model(str(directory / name))
            written.append(name)
        return written

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> XGBoostRegressor:
        """Read ``model.ubj`` with ``Booster.load_model``."""
        import xgboost as xgb

        reg = cls(**params)
        boosters = []
        for k in range(max(1, int(reg.n_members))):
            path = stored_file(directory, member_file("model", "ubj", k))
            booster = xgb.Booster()
            booster.load_model(str(path))
            if reg.n_jobs:
                booster.set_param({"nthread": int(reg.n_jobs)})
            boosters.append(booster)
        booster = boosters[0]
        reg.booster_ = booster
        if len(boosters) > 1:
            reg.members_ = boosters
        reg.n_features_ = int(booster.num_features())
        reg.best_iteration_ = booster.num_boosted_rounds() - 1
        return reg

    @property
    def n_parameters(self) -> int:
        """Number of tree nodes (splits and leaves)."""
        if getattr(self, "booster_", None) is None:
            return 0
        return sum(
            sum(1 for line in tree.splitlines() if line.strip())
            for booster in self._members() for tree in booster.get_dump()
        )

    @property
    def dtype(self) -> str:
        return "float32"

    # -- ONNX form and fast path -------------------------------------------------------
    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """An ``ai.onnx.ml`` TreeEnsembleRegressor from the booster's JSON dump: (N, 1)
        float32 (:func:`.tree_onnx.xgboost_nodes`)."""
        boosters = self._members()
        if len(boosters) == 1:
            from .tree_onnx import xgboost_nodes

            return xgboost_nodes(graph, self.booster_, graph.cast(x, "float32", "x32"))
        return onnx_mean(graph, self._onnx_members(graph, x))

    def _onnx_members(self, graph: Graph, x: str) -> list[str]:
        from .tree_onnx import member_nodes, xgboost_nodes

        return member_nodes(self, graph, x, lambda g, k, x32: xgboost_nodes(
            g, self._members()[k], x32), len(self._members()))

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None) -> Predictor:
        """The booster's ``inplace_predict`` (no validation copies): backend ``native-xgboost``."""
        if backend not in ("auto", "native"):
            return super().fast_predictor(backend=backend)
        from zoo.runtime.inference import native_predictor

        check_fitted(self, "booster_")
        booster = self.booster_
        if len(self._members()) > 1:
            return native_predictor(self, self._member_mean, "native-xgboost")

        def xgb_predict(x: np.ndarray) -> np.ndarray:
            return booster.inplace_predict(x)

        return native_predictor(self, xgb_predict, "native-xgboost")


    def _member_mean(self, x: np.ndarray) -> np.ndarray:
        return mean_and_spread(self._member_predictions(x))[0]


def _progress_callback(xgb: Any, advance: Any, every: int = 50) -> Any:
    """A callback advancing the progress by one per round and logging the evaluation
    metrics every ``every`` rounds at debug level (never to stdout)."""
    log = get_logger("zoo.plugins.xgboost")

    class _Progress(xgb.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            advance(1)
            if epoch % every == 0 and log.isEnabledFor(logging.DEBUG):
                last = {f"{d}-{m}": v[-1] for d, ms in evals_log.items() for m, v in ms.items()}
                log.debug("xgboost round %d: %s", epoch, last)
            return False

    return _Progress()


def _checkpoint_callback(xgb: Any, directory: Path, every: int) -> Any:
    """A callback writing ``ckpt-<rounds>.ubj`` every ``every`` rounds (newest kept)."""

    def write(model: Any) -> None:
        name = f"ckpt-{model.num_boosted_rounds():06d}.ubj"
        tmp = directory / f"{name}.tmp"
        model.save_model(str(tmp))
        os.replace(tmp, directory / name)
        for old in directory.glob("ckpt-*.ubj"):
            if old.name != name:
                old.unlink(missing_ok=True)

    class _Checkpoint(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log) -> bool:
            if model.num_boosted_rounds() % every == 0:
                write(model)
            return False

        def after_training(self, model):
            write(model)
            return model

    return _Checkpoint()


@hookimpl
def zoo_register_regressors(register):
    register("xgboost", XGBoostRegressor)
