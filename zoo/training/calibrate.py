"""Calibration of a stored model's uncertainty on fresh points of its process.

The points (canonical coordinates, float64): a fraction ``1 - faces`` uniform in [0,1]^D and
a fraction ``faces`` within 1e-6..1e-3 (log-uniform) of a face of the domain, spread evenly
over the process's faces: ``process.faces`` when it declares them (pairs ``(axis, value)``,
0-based), else :data:`DEFAULT_FACES`, the beam ``x2 in {0, 1}`` and the threshold ``x1 = 0``
of the unit-hypercube maps the zoo's processes use (x1 the invariant-mass variable, x2 the
cosine of the scattering angle). The exact values come from one ``Process.evaluate`` per
chunk, with the label's column picked as in :func:`zoo.training.loop.generate_dataset`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo.errors import ConfigError
from zoo.labels import as_label
from zoo.model import Model
from zoo.training.data import Dataset, hash_json

#: (axis, value) of the faces sampled when a process declares none (0-based axes)
DEFAULT_FACES: tuple[tuple[int, float], ...] = ((1, 0.0), (1, 1.0), (0, 0.0))
#: distances from a face: log-uniform between these
FACE_DISTANCE = (1e-6, 1e-3)


def process_faces(process: Any) -> list[tuple[int, float]]:
    """The faces to sample for ``process`` (its ``faces`` attribute, else the defaults)."""
    faces = getattr(process, "faces", None) or DEFAULT_FACES
    out = [(int(a), float(v)) for a, v in faces if 0 <= int(a) < process.dimension]
    if not out or any(v not in (0.0, 1.0) for _, v in out):
        raise ConfigError(f"process {process.name}: faces {faces!r} must be (axis, 0 or 1) pairs "
                          f"with axes in 0..{process.dimension - 1}")
    return out


def fresh_points(dimension: int, n: int, faces: float, seed: int,
                 face_list: Sequence[tuple[int, float]] = DEFAULT_FACES) -> np.ndarray:
    """``n`` points of [0,1]^D: ``round(faces * n)`` near the faces of ``face_list`` (rows
    cycle through them), the rest uniform; deterministic in ``seed`` (float64)."""
    if not 0.0 <= faces <= 1.0:
        raise ConfigError(f"faces={faces!r}: give the fraction of points near the faces, in [0, 1]")
    if n <= 0:
        raise ConfigError(f"n={n}: calibrate on a positive number of points")
    rng = np.random.default_rng([int(seed), 0xCA1B])  # apart from the training streams
    x = rng.random((n, dimension))
    n_face = int(round(faces * n))
    lo, hi = np.log10(FACE_DISTANCE[0]), np.log10(FACE_DISTANCE[1])
    d = 10.0 ** rng.uniform(lo, hi, n_face)
    which = np.arange(n_face) % len(face_list)
    for j, (axis, value) in enumerate(face_list):
        m = which == j
        x[:n_face][m, axis] = d[m] if value == 0.0 else 1.0 - d[m]
    return x


def calibration_data(label: str, n: int, faces: float, seed: int) -> Dataset:
    """Fresh points and exact values of the canonical ``label`` (plus f00 when the process has
    it), evaluated in chunks of 4096."""
    from zoo import resolver

    lab = as_label(label)
    process = resolver.find_process(lab)
    if process is None:
        raise ConfigError(f"no process plugin provides {lab.process}/{lab.dimension}d, so fresh "
                          "points cannot be evaluated; calibration needs the exact function")
    x = fresh_points(process.dimension, n, faces, seed, process_faces(process))
    terms = [lab.term] + (["f00"] if lab.term != "f00" and "f00" in process.terms else [])
    parts = [process.evaluate(x[lo:lo + 4096], terms) for lo in range(0, n, 4096)]

    def pick(term: str) -> np.ndarray:
        v = np.concatenate([p[term] for p in parts])
        return v.sum(axis=1) if lab.helicity == "sum" else v[:, process.helicity_index(lab.helicity)]

    return Dataset(x, pick(lab.term), pick("f00") if "f00" in terms else None, label=lab.key,
                   provenance=hash_json({"calibration": lab.key, "n": n, "faces": faces,
                                         "seed": seed, "version": process.version}),
                   meta={"source": "calibration", "n": n, "faces": faces, "seed": seed})


def calibrate_model(model: Model, *, n: int = 20_000, faces: float = 0.2, seed: int = 1
                    ) -> dict[str, Any]:
    """``card["uncertainty"]`` of ``model`` measured on fresh points (module docstring)."""
    from zoo.runtime.uncertainty import card_scale
    from zoo.training.loop import _needs_data_f00, calibrate_on

    if not model.has_uncertainty:
        model.require_uncertainty()  # raises, naming the fix
    data = calibration_data(model.label, n, faces, seed)
    return calibrate_on(model, data, scale=card_scale(model.card),
                        f00_needed=_needs_data_f00(model.chain),
                        source=f"zoo calibrate: {n} fresh points, {faces:g} within "
                               f"{FACE_DISTANCE[0]:g}..{FACE_DISTANCE[1]:g} of the faces, "
                               f"seed {seed}")
