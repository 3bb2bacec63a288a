"""Compiled (numba) kernels of the single-point path (:mod:`zoo.runtime.single`).

Shared toolkit for the core and the plugins: the check of one point and the signed
permutations of the unit hypercube (axis permutation, reflections ``x -> 1 - x``, half
turns ``x -> x + 1/2 (mod 1)``: :func:`zoo.runtime.onnx_graph.signed_permutation`) that the
processes' symmetry maps are made of, applied to one point and folded (lexicographic
minimum over a group's images). numba is imported with this module; the core imports it
lazily, when a single-point path is built.

Conventions: a point is a contiguous (D,) float64 array; a set of G maps is ``perm``
(G, D) int64, ``reflect`` and ``shift`` (G, D) uint8 (1 where the map reflects, resp.
shifts by 1/2, that output axis), applied in that order (permute, reflect, shift; a shifted
value reaching 1 wraps to ``v - 1``), exactly as the processes' numpy maps compute them.
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def first_bad(x: np.ndarray) -> int:  # pragma: no cover - compiled
    """Index of the first coordinate of ``x`` (D,) that is NaN or outside [0, 1]; -1 if none."""
    for i in range(x.shape[0]):
        v = x[i]
        if not (v >= 0.0 and v <= 1.0):
            return i
    return -1


@numba.njit(**_JIT)
def _image(x: np.ndarray, perm: np.ndarray, reflect: np.ndarray, shift: np.ndarray, g: int,
           out: np.ndarray) -> None:  # pragma: no cover - compiled
    for i in range(x.shape[0]):
        v = x[perm[g, i]]
        if reflect[g, i]:
            v = 1.0 - v
        if shift[g, i]:
            v = v + 0.5
            if v >= 1.0:
                v = v - 1.0
        out[i] = v


@numba.njit(**_JIT)
def apply_map(x: np.ndarray, perm: np.ndarray, reflect: np.ndarray,
              shift: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The image of ``x`` (D,) under the single map ``perm[0], reflect[0], shift[0]``."""
    out = np.empty(x.shape[0])
    _image(x, perm, reflect, shift, 0, out)
    return out


@numba.njit(**_JIT)
def lexmin(x: np.ndarray, perm: np.ndarray, reflect: np.ndarray, shift: np.ndarray,
           order: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """The lexicographically smallest of ``x`` and its G images, comparing the coordinates in
    the order ``order`` (D,) int64; images are taken in map order and replace the current
    best only when strictly smaller (as :func:`zoo.plugins.transforms.symmetry.lexmin_fold`)."""
    d = x.shape[0]
    best = x.copy()
    gx = np.empty(d)
    for g in range(perm.shape[0]):
        _image(x, perm, reflect, shift, g, gx)
        for k in range(d):
            j = order[k]
            if gx[j] != best[j]:
                if gx[j] < best[j]:
                    for i in range(d):
                        best[i] = gx[i]
                break
    return best
