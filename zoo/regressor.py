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

Two optional parts of the contract, with defaults (everything regressor-specific lives in
the plugin; the core never names a regressor):

* ``onnx_nodes(graph, x)`` appends the regressor's ONNX subgraph to a
  :class:`zoo.runtime.onnx_graph.Graph` and returns the name of its output. The default refuses
  with :class:`~zoo.errors.UnsupportedModelError` (``zoo export --format onnx`` then says
  that the regressor has no ONNX export).
* ``fast_predictor(backend=, n_threads=, chunk=)`` returns a :class:`zoo.runtime.inference.Predictor`.
  The default wraps the regressor's own ``predict`` (backend ``"native"``). A plugin passes
  ``one=`` (a compiled function of one contiguous (D,) float64 point, e.g. a numba kernel) for
  the single-point path of :meth:`zoo.api.Amplitude.compile` (:mod:`zoo.runtime.single`). A fast path
  needs ``n_features_`` (the D seen by ``fit``, restored by ``load``); a regressor
  without it is evaluated by its plain ``predict``.
* ``predict_uncertainty(x) -> (y, s)``: the prediction and a one-standard-deviation
  estimate ``s >= 0`` of ``|y - target|`` in the same (transformed) space, with
  ``has_uncertainty`` saying whether this fitted regressor has one and
  ``onnx_uncertainty_nodes(graph, x)`` its ONNX form. The defaults refuse with
  :class:`~zoo.errors.UnsupportedModelError` (and ``has_uncertainty`` is False); the core
  propagates ``s`` through the inverse transform chain and calibrates it
  (:mod:`zoo.runtime.uncertainty`). The state behind ``s`` is saved with the regressor's own
  files; an artifact saved without it loads and reports ``has_uncertainty`` False.

Inputs and targets here are already transformed (see :mod:`zoo.transform`): x is
(N, D) float64, y is (N,) float64, both finite.
"""

from __future__ import annotations

import abc
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from zoo.errors import UnsupportedModelError
from zoo.params import Params

if TYPE_CHECKING:
    from zoo.runtime.inference import Predictor
    from zoo.runtime.onnx_graph import Graph


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

    # -- optional: ONNX form and fast path (defaults: refuse, resp. the plain predict) ------
    def onnx_nodes(self, graph: Graph, x: str) -> str:
        """Append this fitted regressor's ONNX nodes to ``graph``; return the output's name.

        ``x`` names the (N, D) float64 points the regressor sees (after the transform
        chain); cast them when the model computes in float32 (``graph.cast(x, "float32")``).
        The output is (N,) or (N, 1), float32 or float64: the core casts it to float64 and
        applies the inverse transforms. Build the nodes with :class:`zoo.runtime.onnx_graph.Graph`
        (``op``, ``const``, ``embed`` for a library's own ONNX export; the domains used, e.g.
        ``ai.onnx.ml``, are recorded). The graph must be data only: ONNX Runtime's standard
        operators, no custom ops.

        The default raises :class:`~zoo.errors.UnsupportedModelError`: a plugin gives its
        regressor an ONNX form by overriding this method.
        """
        name = self.name or type(self).__name__
        raise UnsupportedModelError(
            f"regressor {name!r} has no ONNX export (its plugin does not implement "
            "Regressor.onnx_nodes); evaluate it with zoo.load(...).predict, or export another "
            "version of the label (zoo list LABEL shows them: zoo export LABEL@N)")

    def onnx_max_rows(self) -> int | None:
        """The most rows the exported graph should evaluate in one pass, or None (no limit,
        the default). A plugin whose ONNX nodes hold large per-row intermediates (e.g. the
        gathered coefficients of a piecewise basis, ~100 KB per row) returns the rows that
        keep them to ~100 MB; the core export then runs the graph on chunks of that many rows
        (:func:`zoo.runtime.onnx_chunks.in_chunks`: one ``If`` and, above the limit, a
        ``Loop``; every output row depends on its input row alone, as in ``predict``), so that
        no batch size exhausts memory and one point costs about the same."""
        return None

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None) -> Predictor:
        """The fastest prediction path of this fitted regressor, as a
        :class:`zoo.runtime.inference.Predictor` (``predict(x) -> (N,) float64`` plus ``one(x)``
        for a single point) equal to :meth:`predict` to float rounding.

        ``backend``: ``"auto"`` (the plugin's best choice) or ``"native"`` (the plain
        ``predict``) must be accepted; a plugin may offer more names (the torch networks:
        ``onnxruntime``, ``numpy``, ``torch``) and raises :class:`~zoo.errors.ConfigError`
        for names it does not know. ``n_threads``: CPU threads (None: the plugin's default;
        :func:`zoo.runtime.inference.fast_predictor` fills it from ``$ZOO_NUM_THREADS``).
        ``chunk``: rows per pass, a hint. Call it through :func:`zoo.runtime.inference.fast_predictor`,
        which checks the result; :meth:`zoo.model.Model.predict` uses it, cached.

        The default is the plain ``predict`` (backend ``"native"``) and refuses other
        backends with :class:`~zoo.errors.UnsupportedModelError`.
        """
        from zoo.runtime.inference import NATIVE_BACKENDS, native_predictor

        if backend not in NATIVE_BACKENDS:
            name = self.name or type(self).__name__
            raise UnsupportedModelError(
                f"backend {backend!r}: regressor {name!r} has no fast path of that kind "
                f"(choose one of {', '.join(NATIVE_BACKENDS)})")
        return native_predictor(self)

    # -- optional: a per-point uncertainty (defaults: none) ---------------------------------
    @property
    def has_uncertainty(self) -> bool:
        """Whether this fitted regressor can estimate its own error per point
        (:meth:`predict_uncertainty`). The default: False."""
        return False

    def predict_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(y, s)``: ``y`` exactly :meth:`predict`'s (N,) float64 values and ``s`` (N,)
        float64, ``s >= 0``, a one-standard-deviation estimate of ``|y - target|`` in the same
        space (the regressor's output, after the transform chain), uncalibrated: the core
        scales it on points the model never saw.

        The default raises :class:`~zoo.errors.UnsupportedModelError`: a plugin gives its
        regressor an uncertainty by overriding this method and :attr:`has_uncertainty`.
        """
        name = self.name or type(self).__name__
        raise UnsupportedModelError(
            f"regressor {name!r} has no per-point uncertainty (its plugin does not implement "
            "Regressor.predict_uncertainty, or this artifact was saved without it); retrain "
            "with an uncertainty-capable configuration or use another version of the label")

    def onnx_uncertainty_nodes(self, graph: Graph, x: str) -> str:
        """Append the ONNX nodes of :meth:`predict_uncertainty`'s ``s`` to ``graph`` (same
        input and output conventions as :meth:`onnx_nodes`); return the output's name. The
        default raises :class:`~zoo.errors.UnsupportedModelError`."""
        name = self.name or type(self).__name__
        raise UnsupportedModelError(
            f"regressor {name!r} has no ONNX form of its uncertainty (its plugin does not "
            "implement Regressor.onnx_uncertainty_nodes); export without the sigma output")

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
