"""The compiled single-point path (zoo.runtime.single): equal to the batch path's numpy
reference to 1e-12 relative, for one shipped model per family and dimension, through
non-canonical labels; bad points are InputError. Measured on the loaded 2-core VM (load
average ~6): 54 s with numba's cache cold (NUMBA_CACHE_DIR empty: every kernel compiled),
16-20 s warm."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.api import load
from zoo.errors import InputError
from zoo.runtime.inference import native_predictor

# (label, canonical it resolves to): pwcheb 2D (normalised by the summed exact f00, folded),
# qqzz-factorised 2D f01 (closed-form tree), 4D f11, 8D f01 and f11 (decay functions)
LABELS = [
    "qqbar-zz-4l/2d/f11/R+0",
    "qqbar-zz-4l/2d/f11/L--",
    "qqbar-zz-4l/2d/f01/L0+",
    "qqbar-zz-4l/4d/f11/R++",
    "qqbar-zz-4l/8d/f01/RLR",
    "qqbar-zz-4l/8d/f11/LRL",
]
RTOL = 1e-12


def _reference(amp, x: np.ndarray) -> np.ndarray:
    """The batch path with the regressor's plain numpy predict (not its compiled kernels)."""
    model = amp.model
    saved = getattr(model, "_fast", None)
    model._fast = (model.regressor, native_predictor(model.regressor))
    try:
        return amp.predict(x)
    finally:
        model._fast = saved


def _points(d: int) -> np.ndarray:
    """Random points, points on faces, the centre and a corner. In 8D not on the beam faces
    x2 = 0 or 1: there the models divide by a production scale that vanishes (the process
    itself refuses such points), and both paths return rounding noise of different sizes."""
    rng = np.random.default_rng(42)
    x = rng.uniform(0.0, 1.0, size=(48, d))
    faces = rng.uniform(0.0, 1.0, size=(16, d))
    axes = rng.integers(0, d, 16)
    if d == 8:
        axes[axes == 1] = 0
    faces[np.arange(16), axes] = rng.integers(0, 2, 16).astype(float)
    corner = np.full((1, d), 1.0)
    if d == 8:
        corner[0, 1] = 0.75
    return np.concatenate([x, faces, np.full((1, d), 0.5), corner])


@pytest.fixture(scope="module", params=LABELS)
def amp(request):
    return load(request.param, verify=False)


def _scale(amp, x: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """What deviations are relative to: |ref|, floored at 1e-7 max|ref| (near a zero both
    paths return the rounding of a cancelling sum, summed in another order); for the 8D f01
    = 2 Re(conj(A_tree) A_loop), which crosses zero, 2 |A_tree| |A_loop| (the size of the
    product whose real part it is)."""
    floor = 1e-7 * np.max(np.abs(ref[np.isfinite(ref)]))
    scale = np.maximum(np.abs(ref), floor)
    if amp.label.term == "f01" and amp.dimension == 8:
        from zoo.plugins.processes.qqzz import factorisation as fzn
        from zoo.plugins.processes.qqzz import factorised as fz

        reg, x0 = amp.model.regressor, amp.resolution.coord_map(x)
        a_tree = fzn._decay_sum(fz.tree_amplitudes(x0[:, :4], reg.helicity[0]), x0, reg.helicity)
        a_loop = fzn._decay_sum(reg.production_amplitudes(x0[:, :4]), x0, reg.helicity)
        scale = np.maximum(2.0 * np.abs(a_tree) * np.abs(a_loop), floor)
    return scale


def _deviation(amp, x: np.ndarray, got: np.ndarray, ref: np.ndarray) -> float:
    scale = _scale(amp, x, ref)
    ok = np.isfinite(ref)
    assert ok.sum() >= 56
    assert np.array_equal(np.isfinite(got), ok)
    return float(np.max(np.abs(got[ok] - ref[ok]) / np.maximum(scale[ok], 1e-300)))


def test_one_point_and_batch_equal_numpy_reference(amp):
    assert not amp.resolution.is_canonical or amp.label.helicity == "L--"
    x = _points(amp.dimension)
    f = amp.compile()
    refused = {}  # where the leading order vanishes, a normalised model refuses the point
    for i, p in enumerate(x):
        for path, fn in (("batch", lambda p: _reference(amp, p[None])), ("one", f)):
            try:
                fn(p)
            except InputError as exc:
                assert "f00" in str(exc)
                refused.setdefault(i, []).append(path)
    for i, paths in refused.items():  # on a zero line one f00 may round to 0, the other not
        if len(paths) == 1:
            x0 = amp.resolution.coord_map(x[i][None])
            ctx = amp.model.context
            f00 = min(abs(float(ctx.f00(x0)[0])), abs(float(ctx.f00_sum(x0)[0])))
            assert f00 < 1e-30, (x[i], paths)
    x = np.delete(x, list(refused), axis=0)
    ref = _reference(amp, x)
    got = np.array([f(p) for p in x])
    assert _deviation(amp, x, got, ref) <= RTOL, (amp.label, f.stages)
    assert _deviation(amp, x, amp.predict(x), ref) <= RTOL  # the compiled batch kernels
    assert amp.predict_one(list(x[3])) == got[3]
    assert f.stages["regressor"] == "numba"


@pytest.mark.parametrize("bad", [
    [0.5], [0.5, 0.5, 0.5], [0.5, float("nan")], [0.5, 1.5], [-1e-3, 0.5], [[0.5, 0.5]],
    "0.5 0.5", [0.5, float("inf")],
])
def test_bad_points_are_input_errors(bad):
    f = load("qqbar-zz-4l/2d/f11/L--", verify=False).compile()
    with pytest.raises(InputError, match=r"x|point"):
        f(bad)


def test_transform_without_point_form_falls_back_to_batch():
    from zoo.plugins.transforms.coordinates import SqrtCoordinates
    from zoo.transform import Batch, Context

    step = SqrtCoordinates(columns=[1])
    fwd = step.point_forward(Context())
    x = np.array([0.3, 0.49, 0.7])
    assert fwd.zoo_path == "batch"
    assert np.array_equal(fwd(x), step.forward(Batch(x=x[None]), Context()).x[0])
    assert step.point_inverse(Context()) is None
