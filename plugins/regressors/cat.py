"""Plugin module of the CatBoost regressor (``catboost``): native CatBoost trainer.

catboost is imported only when a model is fitted or loaded. The model is stored in
CatBoost's own binary format (``model.cbm``, not pickle) and read with ``load_model``.

Uncertainty: ``n_members`` > 1 trains that many models with their own ``random_seed``
(:func:`.common.member_seed`; CatBoost's default bootstrap and random split strength make
them differ). The prediction is their mean and the uncertainty their standard deviation
(Bessel's correction); member k > 0 is stored as ``model-member-0k.cbm``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from zoo.errors import ConfigError
from zoo.hookspecs import hookimpl
from zoo.progress import get_logger
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

MODEL_FILE = "model.cbm"
SNAPSHOT_FILE = "catboost.snapshot"


class CatBoostRegressor(MemberEnsemble, Regressor):
    """Oblivious (symmetric) boosted trees with CatBoost, RMSE loss.

    With ``early_stopping_rounds`` set, the model is cut back to the best iteration on
    the validation set (``x_val``/``y_val``, else a seeded 10% hold-out). With a
    ``checkpoint_dir``, CatBoost's own snapshot file is written every
    ``snapshot_interval`` seconds and ``resume=True`` continues from it.
    ``n_members``: an ensemble over seeds (module docstring; the snapshot of member k > 0
    in ``checkpoint_dir/member-k``).
    """

    _single = "model_"
    name = "catboost"
    version = "1"

    def __init__(
        self,
        iterations: int = 1000,
        depth: int = 8,
        learning_rate: float = 0.1,
        l2_leaf_reg: float = 3.0,
        loss_function: str = "RMSE",
        border_count: int = 254,
        early_stopping_rounds: int | None = 50,
        snapshot_interval: int = 60,
        thread_count: int | None = None,
        random_seed: int = 0,
        n_members: int = 1,
    ) -> None:
        self.iterations = iterations
        self.depth = depth
        self.learning_rate = learning_rate
        self.l2_leaf_reg = l2_leaf_reg
        self.loss_function = loss_function
        self.border_count = border_count
        self.early_stopping_rounds = early_stopping_rounds
        self.snapshot_interval = snapshot_interval
        self.thread_count = thread_count
        self.random_seed = random_seed
        self.n_members = n_members

    def _threads(self) -> int:
        return int(self.thread_count) if self.thread_count else -1

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
    ) -> CatBoostRegressor:
        """Train ``iterations`` trees, early-stopping on the validation loss (each member
        of an ensemble on the same split)."""
        if int(self.n_members) < 1:
            raise ConfigError(f"n_members must be a positive integer, got {self.n_members!r}")
        if self.early_stopping_rounds is not None or x_val is not None:
            x, y, x_val, y_val = validation_split(x, y, x_val, y_val, int(self.random_seed))
        else:
            x, y = check_xy(x, y)
        models = []
        for k in range(int(self.n_members)):
            ckpt = None
            if checkpoint_dir is not None:
                ckpt = Path(checkpoint_dir) if k == 0 else Path(checkpoint_dir) / f"member-{k:02d}"
            models.append(self._fit_one(x, y, x_val, y_val, ckpt, resume, progress,
                                        member_seed(int(self.random_seed), k)))
        self.model_ = models[0]
        if len(models) > 1:
            self.members_ = models
        self.n_features_ = int(x.shape[1])
        self.best_iteration_ = models[0].get_best_iteration()
        return self

    def _fit_one(self, x, y, x_val, y_val, ckpt: Path | None, resume: bool, progress: bool,
                 seed: int) -> Any:
        from catboost import CatBoost, Pool

        options: dict[str, Any] = {
            "iterations": int(self.iterations),
            "depth": int(self.depth),
            "learning_rate": float(self.learning_rate),
            "l2_leaf_reg": float(self.l2_leaf_reg),
            "loss_function": self.loss_function,
            "border_count": int(self.border_count),
            "thread_count": self._threads(),
            "random_seed": int(seed),
            "verbose": 100 if progress else False,
            "allow_writing_files": False,
        }
        if x_val is not None and self.early_stopping_rounds is not None:
            options["early_stopping_rounds"] = int(self.early_stopping_rounds)
            options["use_best_model"] = True
        if ckpt is not None:
            ckpt.mkdir(parents=True, exist_ok=True)
            snapshot = ckpt / SNAPSHOT_FILE
            if not resume:
                snapshot.unlink(missing_ok=True)
            options.update(
                allow_writing_files=True,
                train_dir=str(ckpt),
                save_snapshot=True,
                snapshot_file=str(snapshot),
                snapshot_interval=int(self.snapshot_interval),
            )
        model = CatBoost(options)
        eval_set = Pool(x_val, y_val) if x_val is not None else None
        log = _LogLines(get_logger("zoo.plugins.catboost"))  # never CatBoost's stdout
        model.fit(Pool(x, y), eval_set=eval_set, log_cout=log, log_cerr=log)
        return model

    def _member_predictions(self, x: np.ndarray) -> np.ndarray:
        threads = self._threads()
        return np.stack([np.asarray(m.predict(x, thread_count=threads), dtype=np.float64)
                         .reshape(-1) for m in self._members()])

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict (N,) float64."""
        check_fitted(self, "model_")
        x = check_x(x, self.n_features_)
        if len(self._members()) > 1:
            return mean_and_spread(self._member_predictions(x))[0]
        pred = self.model_.predict(x, thread_count=self._threads())
        return np.asarray(pred, dtype=np.float64).reshape(-1)

    def save(self, directory: Path) -> list[str]:
        """Write ``model.cbm`` (CatBoost's binary model format; one file per member)."""
        models = self._members()
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for k, model in enumerate(models):
            name = member_file("model", "cbm", k)
            model.save_model(str(directory / name), format="cbm")
            written.append(name)
        return written

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> CatBoostRegressor:
        """Read ``model.cbm`` with ``load_model``."""
        from catboost import CatBoost

        reg = cls(**params)
        models = []
        for k in range(max(1, int(reg.n_members))):
            path = stored_file(directory, member_file("model", "cbm", k))
            member = CatBoost()
            member.load_model(str(path), format="cbm")
            models.append(member)
        model = reg.model_ = models[0]
        if len(models) > 1:
            reg.members_ = models
        reg.n_features_ = len(model.feature_names_)
        reg.best_iteration_ = model.get_best_iteration()
        return reg

    @property
    def n_parameters(self) -> int:
        """Leaf values plus split nodes (one split per level of each symmetric tree)."""
        if getattr(self, "model_", None) is None:
            return 0
        total = 0
        for model in self._members():
            leaves = np.asarray(model.get_tree_leaf_counts(), dtype=np.int64)
            splits = np.log2(np.maximum(leaves, 1)).round().astype(np.int64)
            total += int(leaves.sum() + splits.sum())
        return total

    # -- ONNX form and fast path -------------------------------------------------------
    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """CatBoost's own ONNX export embedded in the graph: (N, 1) float32
        (:func:`.tree_onnx.catboost_nodes`)."""
        models = self._members()
        if len(models) == 1:
            from .tree_onnx import catboost_nodes

            return catboost_nodes(graph, self.model_, graph.cast(x, "float32", "x32"))
        return onnx_mean(graph, self._onnx_members(graph, x))

    def _onnx_members(self, graph: Graph, x: str) -> list[str]:
        from .tree_onnx import catboost_nodes, member_nodes

        models = self._members()
        return member_nodes(self, graph, x, lambda g, k, x32: catboost_nodes(
            g, models[k], x32), len(models))

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None) -> Predictor:
        """CatBoost's own predict on the configured threads: backend ``native-catboost``."""
        if backend not in ("auto", "native"):
            return super().fast_predictor(backend=backend)
        from zoo.runtime.inference import native_predictor

        check_fitted(self, "model_")
        model, threads = self.model_, self._threads()
        if len(self._members()) > 1:
            return native_predictor(
                self, lambda x: mean_and_spread(self._member_predictions(x))[0],
                "native-catboost")

        def cat_predict(x: np.ndarray) -> np.ndarray:
            return model.predict(x, thread_count=threads)

        return native_predictor(self, cat_predict, "native-catboost")


@hookimpl
def zoo_register_regressors(register):
    register("catboost", CatBoostRegressor)


class _LogLines:
    """A text stream forwarding CatBoost's training messages to the zoo's debug log."""

    def __init__(self, log: logging.Logger) -> None:
        self._log, self._buf = log, ""

    def write(self, text: str) -> int:
        self._buf += text
        *lines, self._buf = self._buf.split("\n")
        for line in lines:
            if line.strip():
                self._log.debug("catboost: %s", line.strip())
        return len(text)

    def flush(self) -> None:
        pass
