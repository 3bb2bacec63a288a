"""Test points on the faces of the unit hypercube, where amplitude models are weakest.

:func:`face_points` draws points of the qqbar -> ZZ -> 4l coordinates (2D, 4D or 8D) in
named regions. In each region the distance ``d`` of the chosen coordinate(s) to their face
is log-uniform in the region's range; every other coordinate is uniform in [0, 1).

Regions (``d`` ranges; "either face": 0 or 1 with equal probability, ``x = d`` or ``1 - d``):

* ``beam-near``: the beam, ``min(x2, 1 - x2)`` in [1e-6, 1e-3], either face;
* ``beam-deep``: the beam, ``min(x2, 1 - x2)`` in [1e-11, 1e-6], either face;
* ``threshold``: ``x1`` in [1e-9, 1e-3] (the ZZ threshold);
* ``threshold-beam``: the corner, ``x1`` in [1e-9, 1e-3] and ``min(x2, 1 - x2)`` in
  [1e-11, 1e-3] (either face), drawn independently;
* ``low-mass`` (4D, 8D): ``x3`` or ``x4`` (equally likely) in [1e-6, 1e-2] (a light boson);
* ``collinear`` (8D): ``x5`` or ``x7`` (equally likely) within [1e-10, 1e-3] of 0 or 1
  (a lepton along or against its boson's flight direction).

``n`` points are split over the regions of the dimension as evenly as possible (the first
regions take the remainder), in the order of :data:`REGIONS`. Pure numpy, deterministic in
``seed``. Note that ``1 - d`` is rounded to float64: the returned ``x`` is the point, and its
distance to the face is ``1 - x`` as stored, not the ``d`` drawn.
"""

from __future__ import annotations

import numpy as np

from zoo.errors import ConfigError

#: (region, dimensions it applies to), in drawing order
REGIONS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("beam-near", (2, 4, 8)),
    ("beam-deep", (2, 4, 8)),
    ("threshold", (2, 4, 8)),
    ("threshold-beam", (2, 4, 8)),
    ("low-mass", (4, 8)),
    ("collinear", (8,)),
)
DIMENSIONS = (2, 4, 8)

_BEAM_NEAR = (1e-6, 1e-3)
_BEAM_DEEP = (1e-11, 1e-6)
_BEAM = (1e-11, 1e-3)
_THRESHOLD = (1e-9, 1e-3)
_LOW_MASS = (1e-6, 1e-2)
_COLLINEAR = (1e-10, 1e-3)


def regions(dim: int) -> tuple[str, ...]:
    """The region names of dimension ``dim`` (2, 4 or 8), in drawing order."""
    _check_dim(dim)
    return tuple(name for name, dims in REGIONS if dim in dims)


def _check_dim(dim: object) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim not in DIMENSIONS:
        raise ConfigError(f"face points exist for dimensions 2, 4 and 8 (the qqbar-zz-4l "
                          f"coordinates), not {dim!r}; pass dim=2, 4 or 8")
    return int(dim)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    """n values log-uniform in [lo, hi)."""
    a, b = np.log10(lo), np.log10(hi)
    return 10.0 ** (a + (b - a) * rng.random(n))


def _either_face(rng: np.random.Generator, d: np.ndarray) -> np.ndarray:
    """``d`` or ``1 - d``, each with probability 1/2."""
    return np.where(rng.random(d.size) < 0.5, d, 1.0 - d)


def _one_of(rng: np.random.Generator, x: np.ndarray, cols: tuple[int, int],
            values: np.ndarray) -> None:
    """Put ``values`` into column ``cols[0]`` or ``cols[1]`` of each row (equally likely)."""
    second = rng.random(len(x)) < 0.5
    x[~second, cols[0]] = values[~second]
    x[second, cols[1]] = values[second]


def _draw(name: str, rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.random((n, dim))
    if name == "beam-near":
        x[:, 1] = _either_face(rng, _log_uniform(rng, *_BEAM_NEAR, n))
    elif name == "beam-deep":
        x[:, 1] = _either_face(rng, _log_uniform(rng, *_BEAM_DEEP, n))
    elif name == "threshold":
        x[:, 0] = _log_uniform(rng, *_THRESHOLD, n)
    elif name == "threshold-beam":
        x[:, 0] = _log_uniform(rng, *_THRESHOLD, n)
        x[:, 1] = _either_face(rng, _log_uniform(rng, *_BEAM, n))
    elif name == "low-mass":
        _one_of(rng, x, (2, 3), _log_uniform(rng, *_LOW_MASS, n))
    elif name == "collinear":
        _one_of(rng, x, (4, 6), _either_face(rng, _log_uniform(rng, *_COLLINEAR, n)))
    else:  # pragma: no cover - REGIONS and this function change together
        raise AssertionError(name)
    return x


def face_points(dim: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, region)``: ``n`` points (n, dim) float64 in [0, 1] near the faces of dimension
    ``dim`` (2, 4 or 8) and the name of each point's region, an (n,) str array (module doc:
    the regions and their ranges). Deterministic in ``seed`` (a non-negative integer).

    Raises :class:`~zoo.errors.ConfigError` for another dimension, ``n`` below the number of
    regions, or a bad seed.
    """
    dim = _check_dim(dim)
    names = regions(dim)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < len(names):
        raise ConfigError(f"n={n!r} face points cannot cover the {len(names)} regions of {dim}D "
                          f"({', '.join(names)}); pass an integer n >= {len(names)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed={seed!r} is invalid; pass a non-negative integer")
    rng = np.random.default_rng([int(seed), dim])
    base, extra = divmod(int(n), len(names))
    xs, labels = [], []
    for i, name in enumerate(names):
        k = base + (1 if i < extra else 0)
        xs.append(_draw(name, rng, k, dim))
        labels.append(np.full(k, name))
    x = np.ascontiguousarray(np.concatenate(xs), dtype=np.float64)
    return x, np.concatenate(labels).astype(str)
