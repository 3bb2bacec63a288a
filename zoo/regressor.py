"""The contract every regressor plugin fulfils (scikit-learn style).

* ``__init__`` only stores its keyword hyperparameters, under the same names, so that
  :meth:`Regressor.get_params` recovers them and they are the recorded configuration.
* ``fit(x, y, ...)`` learns; learned state lives in attributes ending in ``_``; it
  returns ``self``.
* ``predict(x)`` returns a float64 array of shape (N,).
* ``save(directory)`` writes the learned state with safe formats only (safetensors for
  tensors, Zarr v3 or the library's own non-executable format for other state) and
  returns the relative paths written; ``load(directory, params)`` rebuilds an equal
  regressor without running code from the files (no pickle).

Inputs and targets here are already transformed (see :mod:`zoo.transform`): x is
(N, D) float64, y is (N,) float64, both finite.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from zoo.params import Params


class Regressor(Params, abc.ABC):
    """Base class of regressor plugins."""

    #: plugin name (also the ``register`` name)
    name: ClassVar[str] = ""
    #: version of the implementation / storage format of this plugin
    version: ClassVar[str] = "1"

    # -- the contract -----------------------------------------------------------------
    @abc.abstractmethod
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
    ) -> Regressor:
        """Fit on (x, y); use (x_val, y_val) for early stopping when given.

        ``checkpoint_dir``: where to write periodic checkpoints (safe formats only);
        with ``resume=True`` continue from the newest checkpoint found there.
        """

    @abc.abstractmethod
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict (N,) float64 values at (N, D) points."""

    @abc.abstractmethod
    def save(self, directory: Path) -> list[str]:
        """Write the fitted state into ``directory``; return the relative paths written."""

    @classmethod
    @abc.abstractmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> Regressor:
        """Rebuild a fitted regressor from ``directory`` and its hyperparameters."""

    @property
    def n_parameters(self) -> int:
        """Number of learned numbers (weights, or tree nodes and leaf values)."""
        return 0

    @property
    def dtype(self) -> str:
        """Precision the model computes in: 'float32' or 'float64'."""
        return "float64"

    @property
    def is_fitted(self) -> bool:
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))
