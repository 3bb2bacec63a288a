"""The fast path of the torch regressors (``skdnn``, ``dnn``), at any batch size.

The weights are extracted once (:func:`.network.network_spec`) and, by default, the
forward pass runs in ONNX Runtime on an in-memory graph built from them
(:func:`.network.network_model`), in chunks of :data:`zoo.runtime.inference.CHUNK` rows so that
the intermediate activations stay in cache and memory stays flat for any N; batches of
:data:`LARGE_BATCH` rows or more go to chunked torch (:class:`BySize`). A single point goes
through the numba kernel (:class:`NumbaOne`) when numba is installed. Backends
``"numpy"`` (cached weights, preallocated buffers, ``out=`` matmuls) and ``"torch"``
(chunked ``inference_mode``; the one used on a CUDA device) are kept for comparison and as
fall-backs. Everything is float32 or float64 as trained; results are float64.

An ensemble (``n_members`` > 1) runs its members and returns their mean (ONNX Runtime: one
graph of all members, :func:`.network.ensemble_model`; numpy and numba: member by member);
a gaussian head's log sigma^2 column is dropped from the value's networks.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.errors import ConfigError, UnsupportedModelError
from zoo.runtime.inference import CHUNK, Predictor, native_predictor
from zoo.runtime.threads import default_threads

from .network import Dense, NetSpec, ensemble_model, network_model, network_specs

#: rows per host->GPU transfer and forward pass on CUDA (measured on an H100, float32:
#: 29 M points/s with 65,536-row chunks, 44 M with 2^20; docs/bench_gpu.md)
CUDA_CHUNK = 1 << 20
#: batches of at least this many rows go to chunked torch in the ``auto`` backend
LARGE_BATCH = 32_768
BACKENDS = ("auto", "onnxruntime", "numpy", "torch", "native")

__all__ = ["BACKENDS", "CUDA_CHUNK", "LARGE_BATCH", "BySize", "MeanOf", "MeanOne", "NumbaOne",
           "NumpyNet", "OrtNet",
           "TorchNet", "fast_predictor", "rational_erf"]


# -- backends -------------------------------------------------------------------------------
class NumpyNet:
    """The forward pass in numpy with cached weights and preallocated chunk buffers."""

    def __init__(self, spec: NetSpec, chunk: int = CHUNK):
        self.spec = spec
        self.dtype = np.dtype(spec.dtype)
        self.chunk = int(chunk)
        self._bufs: dict[int, tuple[np.ndarray, ...]] = {}

    def _buffers(self, rows: int) -> tuple[np.ndarray, ...]:
        bufs = self._bufs.get(rows)
        if bufs is None:
            w = self.spec.width
            bufs = tuple(np.empty((rows, w), dtype=self.dtype) for _ in range(4))
            self._bufs[rows] = bufs
        return bufs

    def _act(self, h: np.ndarray, tmp: np.ndarray) -> None:
        name = self.spec.activation
        if name == "relu":
            np.maximum(h, 0, out=h)
        elif name == "tanh":
            np.tanh(h, out=h)
        elif name == "silu":
            np.negative(h, out=tmp)
            np.exp(tmp, out=tmp)
            tmp += 1
            np.divide(h, tmp, out=h)
        else:  # exact gelu: 0.5 x (1 + erf(x / sqrt 2))
            from scipy.special import erf

            np.multiply(h, 1.0 / math.sqrt(2.0), out=tmp)
            erf(tmp, out=tmp)
            tmp += 1
            h *= tmp
            h *= 0.5

    def _dense(self, d: Dense, x: np.ndarray, out: np.ndarray, tmp: np.ndarray) -> np.ndarray:
        o = out[:, : d.weight_t.shape[1]]
        np.matmul(x, d.weight_t, out=o)
        if d.bias is not None:
            o += d.bias
        if d.act:
            self._act(o, tmp[:, : o.shape[1]])
        return o

    def _forward(self, x: np.ndarray) -> np.ndarray:
        bufs = self._buffers(x.shape[0])
        tmp = bufs[3]
        cur, k = x, -1  # k: index of the buffer holding cur (-1: the input)
        for item in self.spec.items:
            free = [i for i in range(3) if i != k]
            if isinstance(item, Dense):
                cur, k = self._dense(item, cur, bufs[free[0]], tmp), free[0]
                continue
            h = self._dense(item.layers[0], cur, bufs[free[0]], tmp)
            h = self._dense(item.layers[1], h, bufs[free[1]], tmp)
            h = self._dense(item.layers[2], h, bufs[free[0]], tmp)
            if item.skip_t is None:
                h += cur
            else:
                s = bufs[free[1]][:, : item.skip_t.shape[1]]
                np.matmul(cur, item.skip_t, out=s)
                h += s
            self._act(h, tmp[:, : h.shape[1]])
            cur, k = h, free[0]
        return cur[:, 0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        out = np.empty(x.shape[0], dtype=np.float64)
        for s in range(0, x.shape[0], self.chunk):
            xb = np.ascontiguousarray(x[s : s + self.chunk], dtype=self.dtype)
            out[s : s + xb.shape[0]] = self._forward(xb)
        return out


_ACT_CODE = {"relu": 0, "gelu": 1, "silu": 2, "tanh": 3}
_KERNEL: Any = None


# erf(u) ~ u P(u^2) / Q(u^2) on |u| <= 4 (clamped beyond: erf(4) = 1 - 1.5e-8): a rational
# least-squares fit made for this module (Sanathanan-Koerner iteration against
# scipy.special.erf on 20,001 points of [0, 4], weighted to the error of erf itself); max
# |error| 3.2e-9 in float64 arithmetic, far below float32 resolution (6e-8 near 1). Unlike
# libm's erf it has no calls or branches, so the single-point kernel's gelu loop vectorises
# (float32 networks only; float64 networks keep math.erf). Checked by
# tests/zoo/test_inference.py.
_EP0, _EP1, _EP2, _EP3 = (1.1283791828530303, 0.18464218087380396, 0.054329578828141836,
                          0.003837558269876046)
_EP4, _EP5, _EP6 = 0.0003828986325061355, 4.787317653509499e-06, -1.3695023260598837e-08
_EQ1, _EQ2, _EQ3 = 0.4969684267039532, 0.11380346548415177, 0.015450254738404445
_EQ4, _EQ5 = 0.0013094628385723528, 6.407477197848909e-05


def rational_erf(u: np.ndarray) -> np.ndarray:
    """The single-point kernel's erf for float32 networks, in numpy (float64)."""
    u = np.clip(np.asarray(u, dtype=np.float64), -4.0, 4.0)
    t = u * u
    num = ((((((_EP6 * t + _EP5) * t + _EP4) * t + _EP3) * t + _EP2) * t + _EP1) * t + _EP0)
    den = (((((_EQ5 * t + _EQ4) * t + _EQ3) * t + _EQ2) * t + _EQ1) * t + 1.0)
    return u * num / den


def _numba_kernel() -> Any:
    """The compiled single-point interpreter (numba), or None when numba is absent."""
    global _KERNEL
    if _KERNEL is not None:
        return _KERNEL or None
    try:
        import numba
    except ImportError:
        _KERNEL = False
        return None

    # error_model="numpy": no ZeroDivisionError check per division, which would keep the
    # activation loops from vectorising (the rational erf divides)
    @numba.njit(cache=True, nogil=True, fastmath=True, error_model="numpy")
    def kernel(x, w, b, ops, bufs, act):  # pragma: no cover - compiled
        # ops rows: kind (0 dense, 1 add src into dst then act), w_off, b_off (-1: none),
        # n_in, n_out, apply act, src, dst
        bufs[0, : x.shape[0]] = x
        for r in range(ops.shape[0]):
            kind, wo, bo, n_in, n_out, a, src, dst = ops[r]
            out = bufs[dst]
            inp = bufs[src]
            if kind == 0:
                # the matrix-vector product through BLAS (scipy's, as numba calls it):
                # 2.5x faster than a compiled loop for the 50x50 layers of the benchmark
                wt = w[wo : wo + n_in * n_out].reshape(n_in, n_out)
                h = np.dot(inp[:n_in], wt)
                if bo >= 0:
                    for j in range(n_out):
                        out[j] = h[j] + b[bo + j]
                else:
                    for j in range(n_out):
                        out[j] = h[j]
            else:
                for j in range(n_out):
                    out[j] += inp[j]
            if a:
                if act == 0:
                    for j in range(n_out):
                        out[j] = max(out[j], 0.0)
                elif act == 1:
                    for j in range(n_out):
                        v = out[j]
                        out[j] = 0.5 * v * (1.0 + math.erf(v * 0.7071067811865476))
                elif act == 4:  # gelu of a float32 network: the rational erf, vectorised
                    for j in range(n_out):
                        v = np.float64(out[j])
                        u = min(max(v * 0.7071067811865476, -4.0), 4.0)
                        t = u * u
                        num = ((((((_EP6 * t + _EP5) * t + _EP4) * t + _EP3) * t + _EP2) * t
                                + _EP1) * t + _EP0)
                        den = (((((_EQ5 * t + _EQ4) * t + _EQ3) * t + _EQ2) * t + _EQ1) * t
                               + 1.0)
                        out[j] = 0.5 * v * (1.0 + u * num / den)
                elif act == 2:
                    for j in range(n_out):
                        v = out[j]
                        out[j] = v / (1.0 + math.exp(-v))
                else:
                    for j in range(n_out):
                        out[j] = math.tanh(out[j])
        return bufs[ops[ops.shape[0] - 1, 7], 0]

    _KERNEL = kernel
    return kernel


class NumbaOne:
    """Single-point forward pass compiled with numba: one call, ~10 us for a 55k sk-DNN.

    The network is packed into one flat weight array and a table of operations run by a
    small compiled interpreter (so any skdnn/dnn shape shares one compiled kernel).
    """

    def __init__(self, spec: NetSpec):
        kernel = _numba_kernel()
        if kernel is None:
            raise UnsupportedModelError("numba is not installed")
        dtype = np.dtype(spec.dtype)
        ws: list[np.ndarray] = []
        bs: list[np.ndarray] = []
        ops: list[tuple[int, ...]] = []
        n_w = n_b = 0

        def dense(d: Dense | np.ndarray, src: int, dst: int, act: bool) -> None:
            nonlocal n_w, n_b
            wt = d if isinstance(d, np.ndarray) else d.weight_t
            bias = None if isinstance(d, np.ndarray) else d.bias
            ws.append(wt.astype(dtype).ravel())
            bo = -1
            if bias is not None:
                bs.append(bias.astype(dtype))
                bo, n_b = n_b, n_b + bias.size
            ops.append((0, n_w, bo, wt.shape[0], wt.shape[1], int(act), src, dst))
            n_w += wt.size

        cur = 0
        for item in spec.items:
            free = [i for i in range(3) if i != cur]
            if isinstance(item, Dense):
                dense(item, cur, free[0], item.act)
                cur = free[0]
                continue
            l1, l2, l3 = item.layers
            dense(l1, cur, free[0], True)
            dense(l2, free[0], free[1], True)
            dense(l3, free[1], free[0], False)
            if item.skip_t is None:
                ops.append((1, 0, -1, 0, l3.weight_t.shape[1], 1, cur, free[0]))
            else:
                dense(item.skip_t, cur, free[1], False)
                ops.append((1, 0, -1, 0, l3.weight_t.shape[1], 1, free[1], free[0]))
            cur = free[0]
        self._kernel = kernel
        self._w = np.ascontiguousarray(np.concatenate(ws), dtype=dtype)
        self._b = np.ascontiguousarray(
            np.concatenate(bs) if bs else np.zeros(1), dtype=dtype)
        self._ops = np.array(ops, dtype=np.int64)
        width = max(spec.width, spec.n_features)
        self._bufs = np.zeros((3, width), dtype=dtype)
        self._x = np.zeros(spec.n_features, dtype=dtype)
        self._act = _ACT_CODE[spec.activation]
        if spec.activation == "gelu" and dtype == np.float32:
            self._act = 4  # the vectorised rational erf (see rational_erf)
        self(np.zeros(spec.n_features))  # compile (or load from cache) now, not on first use

    def __call__(self, x: np.ndarray) -> float:
        self._x[:] = x
        return float(self._kernel(self._x, self._w, self._b, self._ops, self._bufs, self._act))


class OrtNet:
    """ONNX Runtime session of a network graph: chunked batches; a 1-thread session for one point."""

    def __init__(self, model_bytes: bytes, dtype: str, n_features: int, *,
                 n_threads: int | None = None, chunk: int = CHUNK):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = int(n_threads or default_threads())
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        self._sess = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
        # a single-threaded session for one point: no thread-pool wake-up per call
        opts1 = ort.SessionOptions()
        opts1.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts1.intra_op_num_threads = 1
        opts1.inter_op_num_threads = 1
        opts1.log_severity_level = 3
        self._sess1 = ort.InferenceSession(model_bytes, opts1, providers=["CPUExecutionProvider"])
        self.dtype = np.dtype(dtype)
        self.chunk = int(chunk)
        self._in = self._sess.get_inputs()[0].name
        self._out = self._sess.get_outputs()[0].name
        self._x1 = np.zeros((1, n_features), dtype=self.dtype)

    def one(self, x: np.ndarray) -> float:
        """The prediction at one point ``x`` (D,) on the single-threaded session.

        (Plain ``run`` measured faster than a pre-bound ``io_binding`` here: 22 vs 54 us.)
        """
        self._x1[0] = x
        return float(self._sess1.run([self._out], {self._in: self._x1})[0][0, 0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        if n == 1:
            return np.array([self.one(x[0])], dtype=np.float64)
        out = np.empty(n, dtype=np.float64)
        run = self._sess.run
        for s in range(0, n, self.chunk):
            xb = np.ascontiguousarray(x[s : s + self.chunk], dtype=self.dtype)
            out[s : s + xb.shape[0]] = run([self._out], {self._in: xb})[0][:, 0]
        return out


class TorchNet:
    """Chunked ``inference_mode`` forward of the torch module (the CUDA path)."""

    def __init__(self, regressor: Any, *, chunk: int | None = None, n_threads: int | None = None):
        import torch

        self._torch = torch
        self.module = regressor.model_.eval()
        param = next(self.module.parameters())
        self.device, self.tdtype = param.device, param.dtype
        self.chunk = int(chunk or (CUDA_CHUNK if self.device.type == "cuda" else CHUNK))
        self.n_threads = n_threads

    def __call__(self, x: np.ndarray) -> np.ndarray:
        torch = self._torch
        n = x.shape[0]
        out = np.empty(n, dtype=np.float64)
        prev = torch.get_num_threads()
        torch.set_num_threads(int(self.n_threads or default_threads()))
        try:
            with torch.inference_mode():
                for s in range(0, n, self.chunk):
                    xb = torch.from_numpy(np.ascontiguousarray(x[s : s + self.chunk]))
                    xb = xb.to(device=self.device, dtype=self.tdtype, non_blocking=True)
                    out[s : s + xb.shape[0]] = (
                        self.module(xb)[:, 0].to("cpu", torch.float64).numpy())
        finally:
            torch.set_num_threads(prev)
        return out


class MeanOf:
    """The mean of the members' batch predictors (float64, as the regressor's predict)."""

    def __init__(self, members: list[Callable[[np.ndarray], np.ndarray]]):
        self.members = members

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.stack([m(x) for m in self.members]).mean(axis=0)


class MeanOne:
    """The mean of the members' single-point predictors."""

    def __init__(self, members: list[Callable[[np.ndarray], float]]):
        self.members = members

    def __call__(self, x: np.ndarray) -> float:
        return float(np.mean([m(x) for m in self.members]))


class BySize:
    """ONNX Runtime for small batches, chunked torch for large ones.

    Measured on the 2-core CPU (BENCHMARKS.md, float32 sk-DNN 50x7): ONNX Runtime leads up
    to ~10^4 rows (0.70 vs 0.67 M points/s at 10^3), chunked torch from ~10^5 rows on
    (0.97 vs 0.83 M points/s at 10^6).
    """

    def __init__(self, small: Callable[[np.ndarray], np.ndarray],
                 large: Callable[[np.ndarray], np.ndarray], threshold: int = LARGE_BATCH):
        self.small, self.large, self.threshold = small, large, int(threshold)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (self.small if x.shape[0] < self.threshold else self.large)(x)


# -- the fast path --------------------------------------------------------------------------
def _torch_device_type(regressor: Any) -> str:
    module = getattr(regressor, "model_", None)
    try:
        return next(module.parameters()).device.type
    except (AttributeError, StopIteration):
        return "cpu"


def fast_predictor(regressor: Any, *, backend: str = "auto", n_threads: int | None = None,
                   chunk: int = CHUNK) -> Predictor:
    """The fastest prediction path of a fitted torch regressor.

    ``backend``: ``auto`` (ONNX Runtime for small batches and chunked torch for large ones
    on the CPU, torch on CUDA), ``onnxruntime``, ``numpy``, ``torch`` or ``native`` (the
    regressor's own predict). ``n_threads``: CPU threads (None:
    :func:`zoo.runtime.threads.default_threads`, the idle physical cores).
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    n_features = int(regressor.n_features_)
    if backend == "auto" and _torch_device_type(regressor) != "cpu":
        backend = "torch"  # CUDA: the torch module on its device, chunks of CUDA_CHUNK rows
    if backend == "native":
        return native_predictor(regressor)
    specs = network_specs(regressor)
    spec = specs[0]
    one = _single_point(specs)
    auto = backend == "auto"
    if backend == "auto":
        # ONNX Runtime has no float64 Erf: float64 gelu networks run in torch
        ort_ok = not (spec.dtype == "float64" and spec.activation == "gelu")
        backend = "onnxruntime" if ort_ok else "torch"
    if backend == "torch":
        return Predictor(TorchNet(regressor, n_threads=n_threads), n_features, "torch", one)
    if backend == "numpy":
        nets = [NumpyNet(sp, chunk) for sp in specs]
        return Predictor(nets[0] if len(nets) == 1 else MeanOf(nets), n_features, "numpy", one)
    model = network_model(spec) if len(specs) == 1 else ensemble_model(specs)
    net = OrtNet(model.SerializeToString(), spec.dtype, n_features,
                 n_threads=n_threads, chunk=chunk)
    if auto:
        both = BySize(net, TorchNet(regressor, n_threads=n_threads))
        return Predictor(both, n_features, "onnxruntime+torch", one or net.one)
    return Predictor(net, n_features, "onnxruntime", one or net.one)


def _single_point(specs: list[NetSpec]) -> Callable[[np.ndarray], float] | None:
    """The numba single-point kernel (the members' mean for an ensemble) when numba is
    installed, else None."""
    try:
        ones = [NumbaOne(spec) for spec in specs]
    except UnsupportedModelError:
        return None
    return ones[0] if len(ones) == 1 else MeanOne(ones)
