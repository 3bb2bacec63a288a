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

Sparse layout (:class:`SparsePiecewiseKernel`, for ``basis="total"``): a cell stores only
the multi-indices of a downward-closed set U (with k, every k - e_j with k_j > 0 is in it;
total-degree sets are). The same leading-axis-first contraction then runs on the stored
coefficients alone. Level j contracts axis j of a set U_j of multi-indices over axes
j..D-1 (U_0 = U) into a vector over U_(j+1), the set of their tails (axes j+1..D-1).
The tails are ordered by m(t) = max{k : (k, t) in U_j}, largest first, ties
lexicographically; U_j is stored block by block, k_j = 0, 1, ..., each block in that
tail order. As U_j is downward closed, block k holds exactly the tails with m(t) >= k, a
prefix of the order, so level j is

    dst[r] = sum_k T_j[k] src[off_k + r]   (k = 0, 1, ... while seglen_k > r),

unit-stride multiply-adds over the back-to-back segments of non-increasing lengths
``seglen`` (the first one is the output's length). The coefficient row is U_0 in this
order (``coef`` columns permuted once at packing); level j >= 1 reads the previous level's
vector through ``gather`` (block layout of U_j -> position in the previous output). Each
output is summed over the same k, in the same order, as in the tensor layout, whose other
terms are exact zeros: the result equals the tensor kernel's on the scattered
coefficients bitwise (but for the sign of an exactly zero result), and costs about
P + sum_(j >= 1) |U_j| multiply-adds instead of prod(degrees + 1) (4D, degrees
(12, 12, 8, 8): 865 + 270 against 13689; 8x the points/s on one thread,
``scripts/bench_sparse_kernel.py``; a sum over lexicographic runs of the last axis with
prefix products of the leading ones measured 3.4x slower than this layout).
``seglen`` ((sum of degrees + 1),) int64 holds level j's segment lengths at the T-table
offsets of axis j; ``gather`` the indices of levels 1..D-1, concatenated.

numba is imported when this module is imported; the regressor imports it lazily, on its
first prediction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np

from zoo.runtime.threads import default_threads

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


# inlined in numba's IR: as a plain call (returning a tuple) it cost the tensor kernel
# ~20% (2D, degrees 6) against the same code written out in _point
@numba.njit(inline="always", **_JIT)
def _locate(x: np.ndarray, i: int, edges: np.ndarray, offsets: np.ndarray,
            degrees: np.ndarray, buf: np.ndarray) -> tuple[int, int]:  # pragma: no cover
    """(flat cell index, sum(degrees + 1)) of the point x[i] (x (N, D)); T_0..T_deg of its
    local coordinate on every axis into buf[0:sum(degrees + 1)], axis after axis."""
    flat = 0
    at = 0
    for j in range(x.shape[1]):
        lo, hi = offsets[j], offsets[j + 1]
        v = x[i, j]
        k = _cell(edges, lo, hi, v)
        a, b = edges[lo + k], edges[lo + k + 1]
        _chebyshev((2.0 * v - (a + b)) / (b - a), degrees[j], buf, at)
        at += degrees[j] + 1
        flat = flat * (hi - lo - 1) + k
    return flat, at


@numba.njit(**_JIT)
def _point(x: np.ndarray, i: int, edges: np.ndarray, offsets: np.ndarray,
           degrees: np.ndarray, coef: np.ndarray, n_basis: int,
           buf: np.ndarray) -> float:  # pragma: no cover - compiled
    """Prediction at the point x[i] (x (N, D)); coef is the flat (n_cells * P) table and
    buf the scratch of :func:`_scratch_size` numbers."""
    d = x.shape[1]
    flat, at = _locate(x, i, edges, offsets, degrees, buf)
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


@numba.njit(**_JIT)
def _nested(src: np.ndarray, so: int, tab: np.ndarray, to: int, n: int, seglen: np.ndarray,
            dst: np.ndarray) -> None:  # pragma: no cover - compiled
    """dst[r] = sum_k tab[to + k] src[so + off_k + r] over k = 0..n-1 (in this order) while
    r < seglen[to + k]: segments of non-increasing lengths back to back from ``so``, the
    first as long as the output (one level of the sparse layout)."""
    size = seglen[to]
    out = dst[:size]  # unit-stride multiply-adds over views (vectorised)
    seg = src[so:so + size]
    c = tab[to]
    for r in range(size):
        out[r] = c * seg[r]
    o = so + size
    for k in range(1, n):
        ln = seglen[to + k]
        seg = src[o:o + ln]
        c = tab[to + k]
        for r in range(ln):
            out[r] += c * seg[r]
        o += ln


@numba.njit(**_JIT)
def _nested_gather(src: np.ndarray, gather: np.ndarray, go: int, tab: np.ndarray, to: int,
                   n: int, seglen: np.ndarray, dst: np.ndarray) -> int:  # pragma: no cover
    """:func:`_nested` reading the segments' entry q as src[gather[go + q]]; returns the
    gather offset of the next level."""
    size = seglen[to]
    out = dst[:size]
    g = gather[go:go + size]
    c = tab[to]
    for r in range(size):
        out[r] = c * src[g[r]]
    o = go + size
    for k in range(1, n):
        ln = seglen[to + k]
        g = gather[o:o + ln]
        c = tab[to + k]
        for r in range(ln):
            out[r] += c * src[g[r]]
        o += ln
    return o


@numba.njit(**_JIT)
def _sparse_point(x: np.ndarray, i: int, edges: np.ndarray, offsets: np.ndarray,
                  degrees: np.ndarray, coef: np.ndarray, n_basis: int, seglen: np.ndarray,
                  gather: np.ndarray, buf: np.ndarray) -> float:  # pragma: no cover
    """Prediction at the point x[i] in the sparse layout; coef is the flat (n_cells * P)
    table, buf the scratch of :func:`_sparse_scratch_size` numbers."""
    flat, at = _locate(x, i, edges, offsets, degrees, buf)
    # buf: [T values of all axes (at numbers) | work A | work B], A and B of |U_1|
    size = seglen[0]
    src = buf[at:at + size]
    dst = buf[at + size:at + 2 * size]
    _nested(coef, flat * n_basis, buf, 0, degrees[0] + 1, seglen, src)
    to = degrees[0] + 1
    go = 0
    for j in range(1, x.shape[1]):
        go = _nested_gather(src, gather, go, buf, to, degrees[j] + 1, seglen, dst)
        to += degrees[j] + 1
        src, dst = dst, src
    return src[0]


@numba.njit(**_JIT)
def _sparse_scratch_size(degrees: np.ndarray, seglen: np.ndarray) -> int:  # pragma: no cover
    return int(np.sum(degrees + 1)) + 2 * seglen[0]


@numba.njit(**_JIT)
def predict_sparse_one(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray,
                       degrees: np.ndarray, coef: np.ndarray, seglen: np.ndarray,
                       gather: np.ndarray) -> float:  # pragma: no cover - compiled
    """:func:`predict_one` in the sparse layout."""
    if x.shape[0] != degrees.shape[0]:
        raise ValueError("the point's length differs from the model's dimension")
    buf = np.empty(_sparse_scratch_size(degrees, seglen))
    return _sparse_point(x.reshape((1, x.shape[0])), 0, edges, offsets, degrees,
                         coef.reshape(-1), coef.shape[1], seglen, gather, buf)


@numba.njit(**_JIT)
def predict_sparse_serial(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray,
                          degrees: np.ndarray, coef: np.ndarray, seglen: np.ndarray,
                          gather: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """:func:`predict_serial` in the sparse layout."""
    n_basis = coef.shape[1]
    flat = coef.reshape(-1)
    buf = np.empty(_sparse_scratch_size(degrees, seglen))
    for i in range(x.shape[0]):
        out[i] = _sparse_point(x, i, edges, offsets, degrees, flat, n_basis, seglen, gather,
                               buf)


@numba.njit(parallel=True, **_JIT)
def predict_sparse_parallel(x: np.ndarray, edges: np.ndarray, offsets: np.ndarray,
                            degrees: np.ndarray, coef: np.ndarray, seglen: np.ndarray,
                            gather: np.ndarray, out: np.ndarray,
                            block: int) -> None:  # pragma: no cover - compiled
    """:func:`predict_parallel` in the sparse layout."""
    n, n_basis = x.shape[0], coef.shape[1]
    flat = coef.reshape(-1)
    for b in numba.prange((n + block - 1) // block):
        buf = np.empty(_sparse_scratch_size(degrees, seglen))
        for i in range(b * block, min(n, (b + 1) * block)):
            out[i] = _sparse_point(x, i, edges, offsets, degrees, flat, n_basis, seglen,
                                   gather, buf)


def resolve_threads(n_threads: int | None) -> int:
    """Threads for a batch: n_threads, else $ZOO_NUM_THREADS, else the idle physical cores
    (:func:`zoo.runtime.threads.default_threads`: 1 on a loaded machine); clipped to
    [1, numba.config.NUMBA_NUM_THREADS]."""
    if n_threads is None:
        n_threads = default_threads()
    return max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS))


def _launch(serial: Callable, parallel: Callable, x: np.ndarray, args: tuple,
            n_features: int, n_threads: int | None,
            out: np.ndarray | None = None) -> np.ndarray:
    """(N,) predictions at x (N, D) (or into ``out``, rows per point):
    ``serial(x, *args, out)``, or for batches of at least PARALLEL_MIN points on more than
    one thread ``parallel(x, *args, out, BLOCK)``."""
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(f"x must have shape (N, {n_features}), got {x.shape}")
    out = np.empty(x.shape[0]) if out is None else out
    threads = resolve_threads(n_threads) if x.shape[0] >= PARALLEL_MIN else 1
    if threads > 1 and _PARALLEL_LOCK.acquire(blocking=False):
        previous = numba.get_num_threads()
        try:
            numba.set_num_threads(threads)
            parallel(x, *args, out, BLOCK)
        finally:
            numba.set_num_threads(previous)
            _PARALLEL_LOCK.release()
    else:
        serial(x, *args, out)
    return out


def _pack_edges(edges: Sequence[np.ndarray], degrees: np.ndarray) -> tuple[np.ndarray, ...]:
    """(concatenated edges, offsets, degrees int64) checked: ValueError if an axis has fewer
    than two edges, edges that do not increase, or a negative degree."""
    parts = [np.asarray(e, dtype=np.float64).ravel() for e in edges]
    deg = np.ascontiguousarray(degrees, dtype=np.int64).ravel()
    if (not parts or len(parts) != deg.size or np.any(deg < 0)
            or any(len(e) < 2 or np.any(np.diff(e) <= 0) for e in parts)):
        raise ValueError("edges, degrees and coefficients do not fit together")
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in parts])]).astype(np.int64)
    return np.concatenate(parts), offsets, deg


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
        flat_edges, offsets, deg = _pack_edges(edges, degrees)
        c = np.ascontiguousarray(coef, dtype=np.float64)
        if c.shape != (int(np.prod(np.diff(offsets) - 1)), int(np.prod(deg + 1))):
            raise ValueError("edges, degrees and coefficients do not fit together")
        return cls(flat_edges, offsets, deg, c)

    @property
    def n_features(self) -> int:
        return int(self.degrees.size)

    def predict(self, x: np.ndarray, n_threads: int | None = None) -> np.ndarray:
        """(N,) predictions at x, a C-contiguous (N, D) float64 array of finite values
        (``check_x``); ``n_threads`` as in :func:`resolve_threads`."""
        return _launch(predict_serial, predict_parallel, x,
                       (self.edges, self.offsets, self.degrees, self.coef), self.n_features,
                       n_threads)

    def one(self, x: np.ndarray) -> float:
        """Prediction at one point x, a contiguous (D,) float64 array: one compiled call
        (no finiteness check: NaN or inf in x gives NaN or inf)."""
        return predict_one(x, self.edges, self.offsets, self.degrees, self.coef)


def downward_closed(index: np.ndarray) -> bool:
    """Whether the multi-indices (P, D) >= 0 are distinct and hold, with every k, each k - e_j
    with k_j > 0 (tensor and total-degree sets do)."""
    idx = np.asarray(index, dtype=np.int64)
    if idx.ndim != 2 or idx.shape[0] == 0 or idx.min() < 0:
        return False
    shape = tuple(int(m) + 1 for m in idx.max(axis=0))
    flat = np.ravel_multi_index(tuple(idx.T), shape)
    present = np.zeros(int(np.prod(shape)), dtype=bool)
    present[flat] = True
    if np.count_nonzero(present) != idx.shape[0]:
        return False
    strides = np.cumprod((1,) + shape[:0:-1])[::-1]  # row-major strides
    return all(present[flat[idx[:, j] > 0] - strides[j]].all() for j in range(idx.shape[1]))


def nested_layout(index: np.ndarray, degrees: np.ndarray) -> tuple[np.ndarray, ...]:
    """(columns (P,), seglen (sum(degrees + 1),), gather) of the sparse layout (module
    docstring) of a downward-closed set of multi-indices ``index`` (P, D), each
    ``k_j <= degrees[j]``: the coefficient row in sparse order is ``coef[:, columns]``.
    ValueError for any other index."""
    idx = np.asarray(index, dtype=np.int64)
    deg = np.asarray(degrees, dtype=np.int64).ravel()
    if (idx.ndim != 2 or idx.shape[1] != deg.size or not downward_closed(idx)
            or np.any(idx > deg)):
        raise ValueError("the basis multi-indices are not a downward-closed set within the "
                         "degrees")
    rows = np.arange(idx.shape[0])  # U_j: idx[rows, j:], rows in the order of U_j
    seglens, gathers, columns = [], [], None
    position = None  # where each row of U_j sits in the previous level's output
    for j in range(deg.size):
        u = idx[rows, j:]
        # U_(j+1): the distinct tails, lexicographic; row first[t] of u holds tail t
        _, first, inverse = np.unique(u[:, 1:], axis=0, return_index=True,
                                      return_inverse=True)
        inverse = inverse.ravel()
        reach = np.full(first.size, -1)
        np.maximum.at(reach, inverse, u[:, 0])
        rank = np.empty(first.size, dtype=np.int64)  # largest reach first, then lexicographic
        rank[np.lexsort((np.arange(first.size), -reach))] = np.arange(first.size)
        order = np.lexsort((rank[inverse], u[:, 0]))  # blocks k_j = 0, 1, ..., in tail rank
        seglens.append(np.bincount(u[order, 0], minlength=deg[j] + 1))
        if j == 0:
            columns = order
        else:
            gathers.append(position[order])
        position = rank  # tail t sits at rank[t] in this level's output
        rows = rows[first]
    gather = np.concatenate(gathers) if gathers else np.zeros(0, dtype=np.int64)
    return columns, np.concatenate(seglens).astype(np.int64), gather.astype(np.int64)


@dataclass(frozen=True, eq=False)
class SparsePiecewiseKernel:
    """A fitted ``pwcheb`` model on a downward-closed basis (``basis="total"``) packed in
    the sparse layout of the module docstring; the interface of :class:`PiecewiseKernel`."""

    edges: np.ndarray  # (sum of n_j + 1,) float64
    offsets: np.ndarray  # (D + 1,) int64
    degrees: np.ndarray  # (D,) int64
    coef: np.ndarray  # (n_cells, P) float64, C order, columns in the sparse order
    seglen: np.ndarray  # (sum of degrees + 1,) int64
    gather: np.ndarray  # (sum_(j >= 1) |U_j|,) int64

    @classmethod
    def build(cls, edges: Sequence[np.ndarray], degrees: np.ndarray, index: np.ndarray,
              coef: np.ndarray) -> SparsePiecewiseKernel:
        """Pack per-axis edges, degrees, the basis multi-indices (P, D) and coefficients
        (n_cells, P) (always copied, columns reordered); ValueError if inconsistent."""
        flat_edges, offsets, deg = _pack_edges(edges, degrees)
        columns, seglen, gather = nested_layout(index, deg)
        c = np.asarray(coef)
        if c.shape != (int(np.prod(np.diff(offsets) - 1)), columns.size):
            raise ValueError("edges, degrees and coefficients do not fit together")
        c = np.ascontiguousarray(c[:, columns], dtype=np.float64)
        return cls(flat_edges, offsets, deg, c, seglen, gather)

    @property
    def n_features(self) -> int:
        return int(self.degrees.size)

    def predict(self, x: np.ndarray, n_threads: int | None = None) -> np.ndarray:
        """As :meth:`PiecewiseKernel.predict`."""
        return _launch(predict_sparse_serial, predict_sparse_parallel, x,
                       (self.edges, self.offsets, self.degrees, self.coef, self.seglen,
                        self.gather), self.n_features, n_threads)

    def one(self, x: np.ndarray) -> float:
        """As :meth:`PiecewiseKernel.one`."""
        return predict_sparse_one(x, self.edges, self.offsets, self.degrees, self.coef,
                                  self.seglen, self.gather)
