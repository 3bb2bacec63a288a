"""Compiled (numba) prediction of the ``pwcheb`` regressor, without a design matrix.

Conventions (those of :class:`~zoo.plugins.regressors.piecewise.PiecewiseChebyshevRegressor`):

* ``edges``: the cell edges of all D axes concatenated into one float64 array;
  ``offsets`` (D + 1,) int64: axis ``j`` owns ``edges[offsets[j]:offsets[j + 1]]``
  (strictly increasing, at least two entries).
* A point's cell on axis j is ``searchsorted(e, x_j, side="right") - 1`` clipped to
  ``[0, n_j - 1]`` (so the upper box boundary belongs to the last cell and points outside
  the box extrapolate the polynomial of the nearest cell); its local coordinate is
  ``u_j = (2 x_j - (a + b)) / (b - a)`` on the cell [a, b]. Flat cell index row-major
  over axes (last axis fastest).
* ``coef`` (n_cells, P) float64, C order; P = prod(degrees + 1); basis index row-major
  over axes (last axis fastest), i.e. ``itertools.product(*(range(k + 1) ...))`` order.
  A NaN row (a cell without training data) predicts NaN.

Per point: D binary searches, T_0..T_deg per axis by the three-term recurrence, then the
coefficient row, a row-major (deg_0 + 1, ..., deg_(D-1) + 1) tensor, is contracted axis
by axis (about P multiply-adds, no design matrix), leading axis first: each step is then a
sum of unit-stride rows, which vectorises, where a last-axis-first order makes short
strided dot products (measured 2x slower for P = 900). Two work vectors of
P / (degrees[0] + 1) numbers take the partial results. Every point is computed by the
same serial code whatever the batch and thread count, so batch, parallel batch and
single-point results are bitwise equal; against the numpy design-matrix path they differ
by summation order only (~1e-16 relative to the sum of |terms|).

numba is imported when this module is imported; the regressor imports it lazily, on its
first prediction.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from zoo.inference import THREADS_ENV

#: batches smaller than this run on one thread: a parallel region waits for its slowest
#: thread, and on cores busy with other work a thread can wait a scheduler tick to start
#: (measured on the shared 2-core VM: 8 ms per call for 10^4 points, 16 ms for 10^5,
#: where one thread takes 1.4 and 13 ms; 2 threads win from ~10^6 points there)
PARALLEL_MIN = 100_000
#: contraction rows at least this long run as vectorised multiply-adds (same sums)
VECTOR_MIN = 16
#: points per parallel task (each task allocates its own small buffers once)
BLOCK = 1024

#: one parallel launch at a time; a caller finding it taken runs serially (numba's
#: workqueue threading layer aborts the process on concurrent parallel launches)
_PARALLEL_LOCK = threading.Lock()

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def _cell(e: np.ndarray, lo: int, hi: int, v: float) -> int:  # pragma: no cover - compiled
    """Index of v's cell among edges e[lo:hi]: searchsorted(side="right") - 1, clipped."""
    a, b = lo, hi
    while a < b:
        mid = (a + b) >> 1
        if e[mid] <= v:
            a = mid + 1
        else:
            b = mid
    return min(max(a - 1 - lo, 0), hi - lo - 2)


@numba.njit(**_JIT)
def _chebyshev(u: float, degree: int, tab: np.ndarray, at: int) -> None:  # pragma: no cover
    """tab[at + k] = T_k(u), k = 0..degree, by T_k = 2u T_(k-1) - T_(k-2)."""
    tab[at] = 1.0
    if degree >= 1:
        tab[at + 1] = u
    two_u = 2.0 * u
    for k in range(2, degree + 1):
        tab[at + k] = two_u * tab[at + k - 1] - tab[at + k - 2]


@numba.njit(**_JIT)
def _contract(src: np.ndarray, so: int, tab: np.ndarray, to: int, n: int, size: int,
              dst: np.ndarray, do: int) -> None:  # pragma: no cover - compiled
    """dst[do + r] = sum_k tab[to + k] src[so + k size + r] (k = 0..n-1 in this order,
    r < size): the leading axis of a row-major (n, size) block contracted with T values."""
    if size < VECTOR_MIN:  # short rows: accumulate each output in a register
        for r in range(size):
            s = tab[to] * src[so + r]
            for k in range(1, n):
                s += tab[to + k] * src[so + k * size + r]
            dst[do + r] = s
        return
    out = dst[do:do + size]  # long rows: unit-stride multiply-adds over views (vectorised)
    seg = src[so:so + size]
    c = tab[to]
    for r in range(size):
        out[r] = c * seg[r]
    for k in range(1, n):
        seg = src[so + k * size:so + (k + 1) * size]
        c = tab[to + k]
        for r in range(size):
            out[r] += c * seg[r]


@numba.njit(**_JIT)
def _point(x: np.ndarray, i: int, edges: np.ndarray, offsets: np.ndarray,
           degrees: np.ndarray, coef: np.ndarray, n_basis: int,
           buf: np.ndarray) -> float:  # pragma: no cover - compiled
    """Prediction at the point x[i] (x (N, D)); coef is the flat (n_cells * P) table and
    buf the scratch of :func:`_scratch_size` numbers."""
    d = x.shape[1]
    flat = 0
    at = 0
    for j in range(d):
        lo, hi = offsets[j], offsets[j + 1]
        v = x[i, j]
        k = _cell(edges, lo, hi, v)
        a, b = edges[lo + k], edges[lo + k + 1]
        _chebyshev((2.0 * v - (a + b)) / (b - a), degrees[j], buf, at)
        at += degrees[j] + 1
        flat = flat * (hi - lo - 1) + k
    # buf: [T values of all axes (at numbers) | work A | work B], A and B of P/(deg0 + 1)
    size = n_basis // (degrees[0] + 1)
    src = at
    dst = at + size
    _contract(coef, flat * n_basis, buf, 0, degrees[0] + 1, size, buf, src)
    to = degrees[0] + 1
    for j in range(1, d):
        n = degrees[j] + 1
        size //= n
        _contract(buf, src, buf, to, n, size, buf, dst)
        to += n
        src, dst = dst, src
    return buf[src]


@numba.njit(**_JIT)
def _scratch_size(degrees: np.ndarray, n_basis: int) -> int:  # pragma: no cover
    return int(np.sum(degrees + 1)) + 2 * (n_basis // (degrees[0] + 1))


@numba.njit(**_JIT)
def predict_one(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                coef: np.ndarray) -> float:  # pragma: no cover - compiled
    """Prediction at one point x (D,) (callable from other numba code too). Non-finite
    input gives NaN or inf, not an error (no check, for speed)."""
    if x.shape[0] != degrees.shape[0]:
        raise ValueError("the point's length differs from the model's dimension")
    n_basis = coef.shape[1]
    buf = np.empty(_scratch_size(degrees, n_basis))
    return _point(x.reshape((1, x.shape[0])), 0, edges, offsets, degrees, coef.reshape(-1),
                  n_basis, buf)


@numba.njit(**_JIT)
def predict_serial(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray, degrees: np.ndarray,
                   coef: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover - compiled
    """Predictions at x (N, D) into out (N,), on the calling thread."""
    n_basis = coef.shape[1]
    flat = coef.reshape(-1)
    buf = np.empty(_scratch_size(degrees, n_basis))
    for i in range(x.shape[0]):
        out[i] = _point(x, i, edges, offsets, degrees, flat, n_basis, buf)


@numba.njit(parallel=True, **_JIT)
def predict_parallel(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray,
                     degrees: np.ndarray, coef: np.ndarray, out: np.ndarray,
                     block: int) -> None:  # pragma: no cover - compiled
    """Predictions at x (N, D) into out (N,), blocks of ``block`` points over numba's
    threads (as many as ``numba.set_num_threads`` allows)."""
    n, n_basis = x.shape[0], coef.shape[1]
    flat = coef.reshape(-1)
    for b in numba.prange((n + block - 1) // block):
        buf = np.empty(_scratch_size(degrees, n_basis))
        for i in range(b * block, min(n, (b + 1) * block)):
            out[i] = _point(x, i, edges, offsets, degrees, flat, n_basis, buf)


def resolve_threads(n_threads: int | None) -> int:
    """Threads for a batch: n_threads, else $ZOO_NUM_THREADS, else all of numba's;
    clipped to [1, numba.config.NUMBA_NUM_THREADS]."""
    if n_threads is None:
        env = os.environ.get(THREADS_ENV)
        n_threads = int(env) if env else numba.config.NUMBA_NUM_THREADS
    return max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))


@dataclass(frozen=True, eq=False)
class PiecewiseKernel:
    """A fitted ``pwcheb`` model packed for the compiled kernels (see the module docstring)."""

    edges: np.ndarray  # (sum of n_j + 1,) float64
    offsets: np.ndarray  # (D + 1,) int64
    degrees: np.ndarray  # (D,) int64
    coef: np.ndarray  # (n_cells, P) float64, C order

    @classmethod
    def build(cls, edges: Sequence[np.ndarray], degrees: np.ndarray,
              coef: np.ndarray) -> PiecewiseKernel:
        """Pack per-axis edges, degrees and coefficients; ValueError if inconsistent.
        ``coef`` is used without a copy when it is already float64 and C-contiguous."""
        parts = [np.asarray(e, dtype=np.float64).ravel() for e in edges]
        deg = np.ascontiguousarray(degrees, dtype=np.int64).ravel()
        c = np.ascontiguousarray(coef, dtype=np.float64)
        shape = (int(np.prod([len(e) - 1 for e in parts])), int(np.prod(deg + 1)))
        if (not parts or len(parts) != deg.size or np.any(deg < 0) or c.shape != shape
                or any(len(e) < 2 or np.any(np.diff(e) <= 0) for e in parts)):
            raise ValueError("edges, degrees and coefficients do not fit together")
        offsets = np.concatenate([[0], np.cumsum([len(e) for e in parts])]).astype(np.int64)
        return cls(np.concatenate(parts), offsets, deg, c)

    @property
    def n_features(self) -> int:
        return int(self.degrees.size)

    def predict(self, x: np.ndarray, n_threads: int | None = None) -> np.ndarray:
        """(N,) predictions at x, a C-contiguous (N, D) float64 array of finite values
        (``check_x``); ``n_threads`` as in :func:`resolve_threads`."""
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"x must have shape (N, {self.n_features}), got {x.shape}")
        out = np.empty(x.shape[0])
        args = (x, self.edges, self.offsets, self.degrees, self.coef, out)
        threads = resolve_threads(n_threads) if x.shape[0] >= PARALLEL_MIN else 1
        if threads > 1 and _PARALLEL_LOCK.acquire(blocking=False):
            previous = numba.get_num_threads()
            try:
                numba.set_num_threads(threads)
                predict_parallel(*args, BLOCK)
            finally:
                numba.set_num_threads(previous)
                _PARALLEL_LOCK.release()
        else:
            predict_serial(*args)
        return out

    def one(self, x: np.ndarray) -> float:
        """Prediction at one point x, a contiguous (D,) float64 array: one compiled call
        (no finiteness check: NaN or inf in x gives NaN or inf)."""
        return predict_one(x, self.edges, self.offsets, self.degrees, self.coef)
