"""Fresh exact points of q qbar -> ZZ for the scales, calibration and acceptance of the
shipped defaults (scripts/calibrate_defaults.py, scripts/trust_acceptance.py).

Three kinds of sets, each from its own seed so that no point is shared:

* ``stratified``: K points uniform in every cell of a pwcheb grid given by its edges in the
  part's coordinates (x1, x2 or the angle ``(2/pi) arcsin sqrt(x2)``, further axes with one
  cell uniform), mapped back to x; every cell gets K points whatever its width;
* ``faces``: points within 1e-11..1e-3 (log-uniform) of the beam faces x2 = 0 and x2 = 1,
  and with x1 within 1e-9..1e-3 of threshold, the other coordinates uniform;
* ``uniform``: uniform points of the unit box.

Exact values: the 4D (2D) production amplitudes (N, 18) complex of ``QQZZ4D``
(``QQZZ2D``) -- one set gives every column's loop and tree amplitudes -- and the 8D
f00/f01/f11 of the 8D process.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def angle_to_x2(a: np.ndarray) -> np.ndarray:
    """Inverse of ``angle_coordinate``: ``x2 = sin(pi a / 2)^2`` (float64)."""
    return np.sin(0.5 * np.pi * np.asarray(a, dtype=np.float64)) ** 2


def stratified(edges: list[np.ndarray], k: int, angle: bool, dim: int,
               rng: np.random.Generator) -> np.ndarray:
    """K points per cell of the grid ``edges`` (part coordinates) as (N, dim) points x."""
    grids = [np.asarray(e, dtype=np.float64) for e in edges]
    lo = np.stack(np.meshgrid(*[g[:-1] for g in grids], indexing="ij"), -1).reshape(-1, len(grids))
    hi = np.stack(np.meshgrid(*[g[1:] for g in grids], indexing="ij"), -1).reshape(-1, len(grids))
    lo, hi = np.repeat(lo, k, axis=0), np.repeat(hi, k, axis=0)
    u = lo + (hi - lo) * rng.random(lo.shape)
    x = np.empty((u.shape[0], dim))
    x[:, : u.shape[1]] = np.clip(u, 0.0, 1.0)
    if u.shape[1] < dim:
        x[:, u.shape[1]:] = rng.random((u.shape[0], dim - u.shape[1]))
    if angle:
        x[:, 1] = angle_to_x2(x[:, 1])
    return np.clip(x, 1e-9, 1.0 - 1e-9)


def faces(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """n points near the faces: a third at x2 = d, a third at 1 - d (d log-uniform in
    [1e-11, 1e-3]: the generator is exact up to the beam), a third at x1 = d (d in
    [1e-9, 1e-3])."""
    x = rng.random((n, dim))
    d = 10.0 ** rng.uniform(-11.0, -3.0, n)
    part = np.arange(n) % 3
    x[part == 0, 1] = d[part == 0]
    x[part == 1, 1] = 1.0 - d[part == 1]
    x[part == 2, 0] = 10.0 ** rng.uniform(-9.0, -3.0, int(np.sum(part == 2)))
    return x


def production_amplitudes(x: np.ndarray, dim: int, exact: bool = True
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(M_tree, M_loop) (N, 18) complex of the 4D (dim 4) or 2D (dim 2) process; ``exact``
    False: the float64 projection everywhere (~1e-7 relative near the faces instead of the
    extended-precision projection there, ~0.25 s per point on the loaded 2-core machine)."""
    from zoo.plugins.processes.qqzz.production import QQZZ2D, QQZZ4D

    proc = QQZZ4D(exact=exact) if dim == 4 else QQZZ2D(exact=exact)
    return proc.amplitudes(x, loop=True)


def exact_8d(x: np.ndarray) -> dict[str, np.ndarray]:
    """Exact 8D ``{f00, f01, f11}`` (N, 8) of the 8D process (columns
    ``amplitudes.HELICITIES``)."""
    from zoo.plugins.processes.qqzz.process import QQZZ8D

    return QQZZ8D().evaluate(x)


def cached(path: Path, make, x: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Load the npz ``path`` or make (a dict of arrays), save and return it. With ``x``
    the cached file serves only if it holds exactly these points (else it is made again)."""
    path = Path(path)
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            out = {k: f[k] for k in f.files}
        if x is None or ("x" in out and np.array_equal(out["x"], x)):
            return out
        print(f"  {path} holds other points: evaluating again", flush=True)
    t0 = time.perf_counter()
    out = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    print(f"  wrote {path} ({len(next(iter(out.values())))} points, "
          f"{time.perf_counter() - t0:.1f} s)", flush=True)
    return out


def production_set(path: Path, x: np.ndarray, dim: int, exact: bool = True
                   ) -> dict[str, np.ndarray]:
    """Cached production amplitudes at x (N, dim) (``exact``: :func:`production_amplitudes`)."""
    def make():
        tree, loop = production_amplitudes(x, dim, exact)
        return {"x": x, "tree": tree, "loop": loop}
    return cached(path, make, x)
