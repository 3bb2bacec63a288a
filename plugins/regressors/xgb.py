"""Plugin module of the XGBoost regressor (``xgboost``): native ``xgb.train`` with hist.

xgboost is imported only when a model is fitted or loaded. The model is stored in
XGBoost's own UBJSON format (``model.ubj``) and read back with ``Booster.load_model``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.hookspecs import hookimpl
from zoo.progress import get_logger, task
from zoo.regressor import Regressor

from .common import check_fitted, check_x, check_xy, stored_file, validation_split

if TYPE_CHECKING:
    from zoo.runtime.inference import Predictor
    from zoo.runtime.onnx_graph import Graph

MODEL_FILE = "model.ubj"


class XGBoostRegressor(Regressor):
    """Gradient-boosted trees (XGBoost, ``tree_method="hist"``, squared error).

    With ``early_stopping_rounds`` set, training stops once the validation RMSE has not
    improved for that many rounds and only the trees up to the best round are kept (the
    validation set is ``x_val``/``y_val``, else a seeded 10% hold-out). Checkpoints are
    UBJSON models written every ``checkpoint_every`` rounds; a resumed run continues
    boosting from the newest one (exact replay only without row/column subsampling).
    """

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

    def _booster_params(self) -> dict[str, Any]:
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
            "seed": int(self.seed),
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
        """Boost ``n_estimators`` rounds, early-stopping on the validation RMSE."""
        import xgboost as xgb

        if self.early_stopping_rounds is not None or x_val is not None:
            x, y, x_val, y_val = validation_split(x, y, x_val, y_val, int(self.seed))
        else:
            x, y = check_xy(x, y)
        dtrain = xgb.DMatrix(x, label=y, nthread=self.n_jobs or -1)
        evals = [(dtrain, "train")]
        if x_val is not None:
            evals.append((xgb.DMatrix(x_val, label=y_val, nthread=self.n_jobs or -1), "val"))

        callbacks: list[Any] = []
        start_model = None
        if checkpoint_dir is not None:
            ckpt = Path(checkpoint_dir)
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
                self._booster_params(),
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
        self.booster_ = booster
        self.n_features_ = int(x.shape[1])
        self.best_iteration_ = booster.num_boosted_rounds() - 1
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict (N,) float64 (XGBoost computes in float32)."""
        check_fitted(self, "booster_")
        x = check_x(x, self.n_features_)
        return np.asarray(self.booster_.inplace_predict(x), dtype=np.float64).reshape(-1)

    def save(self, directory: Path) -> list[str]:
        """Write ``model.ubj`` (XGBoost's UBJSON model format)."""
        check_fitted(self, "booster_")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.booster_.save_model(str(directory / MODEL_FILE))
        return [MODEL_FILE]

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> XGBoostRegressor:
        """Read ``model.ubj`` with ``Booster.load_model``."""
        import xgboost as xgb

        path = stored_file(directory, MODEL_FILE)
        reg = cls(**params)
        booster = xgb.Booster()
        booster.load_model(str(path))
        if reg.n_jobs:
            booster.set_param({"nthread": int(reg.n_jobs)})
        reg.booster_ = booster
        reg.n_features_ = int(booster.num_features())
        reg.best_iteration_ = booster.num_boosted_rounds() - 1
        return reg

    @property
    def n_parameters(self) -> int:
        """Number of tree nodes (splits and leaves)."""
        booster = getattr(self, "booster_", None)
        if booster is None:
            return 0
        return sum(
            sum(1 for line in tree.splitlines() if line.strip()) for tree in booster.get_dump()
        )

    @property
    def dtype(self) -> str:
        return "float32"

    # -- ONNX form and fast path -------------------------------------------------------
    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """An ``ai.onnx.ml`` TreeEnsembleRegressor from the booster's JSON dump: (N, 1)
        float32 (:func:`.tree_onnx.xgboost_nodes`)."""
        from .tree_onnx import xgboost_nodes

        check_fitted(self, "booster_")
        return xgboost_nodes(graph, self.booster_, graph.cast(x, "float32", "x32"))

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None) -> Predictor:
        """The booster's ``inplace_predict`` (no validation copies): backend ``native-xgboost``."""
        if backend not in ("auto", "native"):
            return super().fast_predictor(backend=backend)
        from zoo.runtime.inference import native_predictor

        check_fitted(self, "booster_")
        booster = self.booster_

        def xgb_predict(x: np.ndarray) -> np.ndarray:
            return booster.inplace_predict(x)

        return native_predictor(self, xgb_predict, "native-xgboost")


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
