"""Fast prediction: the core's side of the regressors' fast paths.

:func:`fast_predictor` turns a fitted regressor into a :class:`Predictor`, a callable
``predict(x) -> (N,) float64`` that gives the same values as ``regressor.predict`` (to float
rounding) at the best throughput the regressor's plugin offers for every batch size. The
core only validates and dispatches: each regressor provides its own path through
:meth:`zoo.regressor.Regressor.fast_predictor` (default: its own ``predict``, backend
``"native"``). The built-in networks run in ONNX Runtime, numba and chunked torch
(:mod:`zoo.plugins.regressors.network_fast`), the tree ensembles call their library's
predict directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from zoo.errors import ConfigError, InputError, PluginSpecError, UnsupportedModelError
from zoo.runtime.threads import THREADS_ENV, default_threads

#: rows per forward pass: activations of a 50-wide network (4096 x 50 x 8 B = 1.6 MB)
#: stay in the L2/L3 caches; measured best on a 2-core CPU (docs/bench_inference.md)
CHUNK = 4096
#: the backends every regressor offers (its own predict)
NATIVE_BACKENDS = ("auto", "native")


class Predictor:
    """``predict(x) -> (N,) float64`` for one fitted regressor; ``backend`` says which path."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray], n_features: int, backend: str,
                 one: Callable[[np.ndarray], float] | None = None):
        self._fn = fn
        self._one = one
        self.n_features = int(n_features)
        self.backend = backend

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.ndim == 2 and x.shape[0] == 1 and self._one is not None and x.shape[1] == self.n_features:
            return np.array([self._one(x[0])], dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise InputError(
                f"x has shape {x.shape}; the regressor needs (N, {self.n_features}) points")
        if x.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return self._fn(x)

    def one(self, x: np.ndarray) -> float:
        """One point ``x`` (D,) -> float: the lowest-latency path (no validation)."""
        if self._one is not None:
            return self._one(x)
        return float(self._fn(np.asarray(x).reshape(1, -1))[0])

    def __repr__(self) -> str:
        return f"<Predictor {self.backend} D={self.n_features}>"


def fitted_n_features(regressor: Any) -> int:
    """``regressor.n_features_``, or :class:`ConfigError` when it is not fitted."""
    n_features = getattr(regressor, "n_features_", None)
    if n_features is None:
        name = getattr(regressor, "name", "") or type(regressor).__name__
        raise ConfigError(f"{name} is not fitted (no n_features_); fit or load it first")
    return int(n_features)


def native_predictor(regressor: Any, fn: Callable[[np.ndarray], np.ndarray] | None = None,
                     backend: str = "native") -> Predictor:
    """A :class:`Predictor` calling ``fn`` (default: ``regressor.predict``) as float64 (N,)."""
    predict = regressor.predict if fn is None else fn

    def native(x: np.ndarray) -> np.ndarray:
        return np.asarray(predict(x), dtype=np.float64).reshape(-1)

    return Predictor(native, fitted_n_features(regressor), backend)


def fast_predictor(regressor: Any, *, backend: str = "auto", n_threads: int | None = None,
                   chunk: int = CHUNK) -> Predictor:
    """The fastest prediction path for a fitted regressor, from its plugin.

    ``backend``: ``auto`` (the plugin's choice) or ``native`` (the regressor's own
    ``predict``), which every regressor offers, or a backend its plugin names (the torch
    networks: ``onnxruntime``, ``numpy``, ``torch``). ``n_threads``: CPU threads (None:
    ``$ZOO_NUM_THREADS`` when set, else the plugin's default, which should be
    :func:`zoo.runtime.threads.default_threads`: the idle physical cores). ``chunk``: rows per pass.
    Unknown backends are :class:`ConfigError`; a backend the regressor does not offer is
    :class:`~zoo.errors.UnsupportedModelError`.
    """
    if not isinstance(backend, str) or not backend:
        raise ConfigError(f"backend must be a name such as 'auto' or 'native', got {backend!r}")
    if n_threads is None:
        from zoo.runtime.threads import env_threads

        n_threads = env_threads()
    fitted_n_features(regressor)
    method = getattr(regressor, "fast_predictor", None)
    if method is None:  # not a zoo.Regressor: its own predict
        if backend not in NATIVE_BACKENDS:
            raise UnsupportedModelError(
                f"backend {backend!r}: {type(regressor).__name__} offers only 'native'")
        return native_predictor(regressor)
    pred = method(backend=backend, n_threads=n_threads, chunk=chunk)
    if not isinstance(pred, Predictor):
        raise PluginSpecError(
            f"{type(regressor).__name__}.fast_predictor returned {type(pred).__name__}, not a "
            "zoo.runtime.inference.Predictor")
    return pred


def predict_chunks(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   chunk: int = 1 << 20) -> np.ndarray:
    """Apply ``fn`` over row chunks of ``x`` (bounded temporary memory)."""
    out = np.empty(x.shape[0], dtype=np.float64)
    for s in range(0, x.shape[0], chunk):
        out[s : s + chunk] = fn(x[s : s + chunk])
    return out


__all__: Sequence[str] = (
    "CHUNK", "NATIVE_BACKENDS", "THREADS_ENV", "Predictor", "default_threads", "UnsupportedModelError",
    "fast_predictor", "fitted_n_features", "native_predictor", "predict_chunks",
)
