"""Per-point uncertainty of ``qqzz-factorised`` models, propagated from their ``pwcheb`` parts.

Each part (a real or imaginary part of ``c M_rep / a`` for a representative amplitude, ``c``
the production scale and ``a`` the angular factor of :mod:`.factorised`) has one scale per
cell (:class:`~zoo.plugins.regressors.piecewise.PiecewiseChebyshevRegressor`, ``cell_scale_``).
Propagation, first order in the errors, parts and columns taken as independent:

* amplitude of column ``col`` (``M_col(x) = sign M_rep(g x)``)::

      sigma_M = |a(g x) / c(g x)| sqrt(s_re(g x)^2 + s_im(g x)^2)

  (``s_re`` only for a 4D f01 model, which learns ``Re M`` alone);
* 8D: ``A = sum_{l1,l2} M D1 D2`` with exact decay functions ``D``, so
  ``sigma_A^2 = sum |D1 D2|^2 sigma_M^2``; 4D: ``A = M_col``, ``sigma_A = sigma_M``;
* ``f11 = |A|^2``: ``sigma = 2 |A| sigma_A + sigma_A^2`` (the second term keeps sigma
  non-zero at a zero of the amplitude, where the first-order term vanishes);
* ``f01 = 2 Re(conj(A_tree) A_loop)`` with the exact tree: ``sigma = 2 |A_tree| sigma_A``
  (4D: ``2 |M_tree| sigma_Re M``).

The sum in quadrature over independent errors and the magnitude ``|A|`` (instead of the
projection of the error on ``A``, which is ~1/sqrt(2) of it for a complex error of random
phase) are approximations; the calibration scale of the card absorbs such constant
factors. Without the tree/loop phase the f01 estimate is an upper bound of the projected
error, not its size: it can be pessimistic where ``A_loop`` and ``A_tree`` are nearly
orthogonal in the complex plane.
"""

from __future__ import annotations

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.plugins.regressors.common import check_fitted, check_x

from .factorisation import (
    _SIGMA,
    ACTION,
    MAPS,
    ORBIT,
    angular_factor,
    f01_from_production,
    f11_from_production,
    fit_scale,
    production_scale,
    tree_amplitudes,
)
from .production import decay_functions


def _part_with_scale(part, u: np.ndarray, idx_cache: dict) -> tuple[np.ndarray, np.ndarray]:
    """A part's prediction (as its ``predict``; u already validated) and per-cell scale; the
    cell index on the part's scale grid shared through ``idx_cache`` by parts with the same
    grid (the shipped models: all parts)."""
    edges = part.scale_edges()
    key = tuple(e.tobytes() for e in edges)
    idx = idx_cache.get(key)
    if idx is None:
        idx = idx_cache[key] = part.cell_index(u, edges)
    return part._kernel().predict(u), np.asarray(part.cell_scale_, dtype=np.float64)[idx]


def amplitude_with_sigma(model, x4: np.ndarray, col: int, cache: dict | None = None
                         ) -> tuple[np.ndarray, np.ndarray]:
    """``(M, sigma_M)``: the learned M_loop (N,) complex of column ``col`` (imaginary part NaN
    for a 4D f01 model) and its uncertainty (N,) float64 at production points ``x4`` (N, 4).
    ``cache``: a dict shared by the calls on the same points (mapped points, scales and cell
    indices are computed once per group element)."""
    rep, g, sign = ORBIT[col]
    reps = model._reps()
    k = reps.index(rep)
    cache = {} if cache is None else cache
    if g not in cache:
        gx = MAPS[g](x4)
        cache[g] = (gx, model._coords(gx), production_scale(gx), {})
    gx, u, c, idx_cache = cache[g]
    f = sign * angular_factor(gx, rep, model._cos_zero_code(), model._endpoint_quark()) / c
    re, s_re = _part_with_scale(model.parts_[k], u, idx_cache)
    out = np.empty(len(u), dtype=np.complex128)
    out.real = re * f
    if model._real_only():
        out.imag = np.nan
        return out, np.abs(f) * s_re
    im, s_im = _part_with_scale(model.parts_[len(reps) + k], u, idx_cache)
    out.imag = im * f
    return out, np.abs(f) * np.sqrt(s_re * s_re + s_im * s_im)


def _compiled_8d(model):
    """The compiled 8D kernel of ``model`` when its parts share one layout (every shipped
    8D model), else None; kept on the model for its current parts."""
    held = getattr(model, "_compiled_8d", None)
    if held is not None and held[0] is model.parts_:
        return held[1]
    from .factorised_fast import compiled

    fast = compiled(model)
    fast = fast if fast is not None and fast.has_batch else None
    model._compiled_8d = (model.parts_, fast)
    return fast


def predict_uncertainty(model, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(y, sigma)`` (N,) float64 of a fitted ``qqzz-factorised`` model (module docstring):
    ``y`` equals ``model.predict(x)``."""
    check_fitted(model, "parts_")
    q = model.helicity[0]
    if model._is_4d():
        x4 = model._production(check_x(x, model._n_inputs()))
        m, s = amplitude_with_sigma(model, x4, model._column())
        if model.term == "f01":
            tree = tree_amplitudes(x4, q)[:, model._column()]
            return 2.0 * tree * m.real, 2.0 * np.abs(tree) * s
        a = np.abs(m)
        return m.real * m.real + m.imag * m.imag, 2.0 * a * s + s * s
    x = check_x(x, 8)
    x4 = x[:, :4]
    sm = np.empty((x.shape[0], 9))
    cache: dict = {}
    fast = _compiled_8d(model)
    if fast is not None:
        from .factorised_fast import scale_args

        scales = scale_args(model.parts_)
        if scales is not None:  # y and sigma in one compiled pass (y: predict's bits)
            return fast.predict_sigma8(x, scales)
    # parts without one shared scale grid: numpy, part by part
    m = np.empty((x.shape[0], 9), dtype=np.complex128)
    for col in range(9):
        m[:, col], sm[:, col] = amplitude_with_sigma(model, x4, col, cache)
    d1 = decay_functions(2.0 * x[:, 4] - 1.0, 2.0 * np.pi * x[:, 5], _SIGMA[model.helicity[1]])
    d2 = decay_functions(2.0 * x[:, 6] - 1.0, 2.0 * np.pi * x[:, 7], _SIGMA[model.helicity[2]])
    dd = np.einsum("na,nb->nab", d1, d2).reshape(-1, 9)
    s_a = np.sqrt(np.einsum("nc,nc->n", np.abs(dd) ** 2, sm * sm))
    if model.term == "f01":  # y through the same function as predict: bit for bit
        tree = tree_amplitudes(x4, q)
        at = np.einsum("nc,nc->n", tree, dd)
        return (f01_from_production(tree, m, x, model.helicity), 2.0 * np.abs(at) * s_a)
    a = np.abs(np.einsum("nc,nc->n", m, dd))
    return f11_from_production(m, x, model.helicity), 2.0 * a * s_a + s_a * s_a


def part_targets(model, x4: np.ndarray, m_loop: np.ndarray
                 ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """For each fitted representative: (part coordinates, complex target ``c M / a``) of
    exact loop amplitudes ``m_loop`` (N, 9) complex (the model's quark helicity) at
    production points ``x4`` (N, 4), every column and group element mapped onto it (as
    ``fit`` does: 4 values per point and representative)."""
    reps = model._reps()
    xs: dict[int, list] = {r: [] for r in reps}
    ys: dict[int, list] = {r: [] for r in reps}
    for g, (act, sign) in ACTION.items():
        gx = MAPS[g](x4)
        for col in range(9):
            rep = act(col)
            if rep in xs:
                xs[rep].append(model._coords(gx))
                ys[rep].append(sign * m_loop[:, col] * fit_scale(gx, rep, model._cos_zero_code(), model._endpoint_quark()))
    return {r: (np.concatenate(xs[r]), np.concatenate(ys[r])) for r in reps}


def set_part_scales(model, x: np.ndarray, m_loop: np.ndarray, *, min_points: int = 8,
                    refine: int | list[int] = 1, statistic: str = "rms",
                    cuts: dict[int, list[float]] | None = None) -> list[np.ndarray]:
    """Give every part of a fitted symmetric model per-cell scales from held-out exact
    amplitudes: ``x`` the model's production points (N, 4), or 2D points (N, 2) on shell,
    ``m_loop`` (N, 9) (one quark helicity) or (N, 18) (both; the model's is taken) complex
    exact loop production amplitudes there; ``refine``: the scale grid (per axis of the
    parts' coordinates, see ``PiecewiseChebyshevRegressor.set_cell_scale``; ``cuts``: its
    slabs with pooled factors, e.g. ``{2: [0.02, 0.98], 3: [0.02, 0.98]}`` for light and
    heavy bosons). Returns the per-cell value counts of each representative's parts."""
    check_fitted(model, "parts_")
    if not model.symmetric:
        raise ConfigError("set_part_scales needs a symmetric qqzz-factorised model (the "
                          "shipped ones are); refit with symmetric=True")
    x4 = model._production(check_x(x, model._n_production(), name="x (production points)"))
    m = np.asarray(m_loop)
    if m.ndim != 2 or m.shape[0] != x4.shape[0] or m.shape[1] not in (9, 18):
        raise InputError(f"m_loop must have shape ({x4.shape[0]}, 9) or ({x4.shape[0]}, 18) "
                         f"(exact loop production amplitudes), got {m.shape}")
    if m.shape[1] == 18:
        q = 0 if model.helicity[0] == "L" else 1
        m = m[:, 9 * q: 9 * q + 9]
    if not np.isfinite(m).all():
        raise InputError("m_loop contains NaN or inf; regenerate those points")
    reps = model._reps()
    targets = part_targets(model, x4, m)
    counts = []
    for k, r in enumerate(reps):
        u, v = targets[r]
        counts.append(model.parts_[k].set_cell_scale(u, v.real, min_points=min_points,
                                                     refine=refine, statistic=statistic,
                                                     cuts=cuts))
        if not model._real_only():
            model.parts_[len(reps) + k].set_cell_scale(u, v.imag, min_points=min_points,
                                                       refine=refine, statistic=statistic,
                                                       cuts=cuts)
    return counts
