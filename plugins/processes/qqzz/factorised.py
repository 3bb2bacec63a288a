"""``qqzz-factorised``: the 8D one-loop square of q qbar -> ZZ -> 4l from learned production
amplitudes and exact decays.

Physics. At fixed production kinematics ``(x1..x4)`` the 8D amplitude is *exactly* a finite
sum over the helicities ``l1, l2`` of the two bosons (:mod:`.production`, checked there to
1e-10)::

    omega A_8D(x) = sum_{l1,l2} M(q; l1, l2)(x1..x4) D_{l1,s1}(d1) D_{l2,s2}(d2),   |omega| = 1,

with the spin-1 decay functions ``D`` of the lepton directions ``d1 = (x5, x6)``,
``d2 = (x7, x8)`` (:func:`.production.decay_functions`) and ``s = -1`` (+1) for a left- (right-)
handed lepton line. So ``f11 = |A_loop|^2`` of an 8D helicity column is fixed by 9 complex
functions of 4 variables; the 4 decay variables enter through known functions. This model
learns only those 9 loop amplitudes of the column's quark helicity (18 real functions of
``x1..x4``, one :class:`~zoo.plugins.regressors.piecewise.PiecewiseChebyshevRegressor` each)
and evaluates the decay part exactly. It is what a generic 8D regressor has to discover.

Learned quantity: ``c(x) M_loop(q; l1, l2)``, real and imaginary parts, with the smooth scale

    c = m1^2 m2^2 sqrt(t u) / s   (GeV^4),

``t = m1^2 - sqrt(s) (E1 - p cos theta)``, ``u = m2^2 - sqrt(s) (E2 + p cos theta)`` the
Mandelstam invariants of q(+z) qbar -> Z(m1) Z(m2) (boson 1 at angle theta to the quark; ``E_i``,
``p`` its c.m. energies and momentum; t, u < 0 everywhere in the domain). It removes the boson
propagators ``1 / (m1^2 m2^2)`` of M and the forward peaks of the t- and u-channel quark
exchange: over the domain ``|c M_loop|`` varies by ~40 instead of ~10^4. Coordinates,
phases (the quark-line spinor phase is a constant: the tree M is real) and the
renormalisation scale are those of :mod:`.production` (``mu = 91.1876`` GeV, finite part).

Not a generic regressor: ``fit`` takes production points ``x`` (N, 4) and the targets of
:func:`production_targets` (N, 18); ``predict`` takes 8D points (N, 8) and returns f11 of
the column ``helicity`` (e.g. ``"LLL"``). Stored as 18 ``pwcheb`` files, ``part00`` ..
``part17`` (real parts of ``(l1, l2) = (-,-), (-,0), ..., (+,+)``, then imaginary parts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ArtifactError, ConfigError, InputError
from zoo.plugins.processes.qqzz.kinematics import M_MIN, M_RANGE, SQRT_S_MAX
from zoo.plugins.processes.qqzz.production import decay_functions
from zoo.plugins.regressors.common import check_fitted, check_x, stored_file
from zoo.plugins.regressors.piecewise import WEIGHTS_FILE, PiecewiseChebyshevRegressor
from zoo.regressor import Regressor

#: real + imaginary parts of the 3 x 3 boson-helicity amplitudes of one quark helicity
N_PARTS = 18
_SIGMA = {"L": -1, "R": 1}


def production_scale(x4: np.ndarray) -> np.ndarray:
    """``c = m1^2 m2^2 sqrt(t u) / s`` (N,) float64 in GeV^4 at 4D production points (see the
    module docstring; coordinates of :mod:`.kinematics`)."""
    x4 = np.asarray(x4, dtype=np.float64)
    m1 = M_MIN + M_RANGE * x4[:, 2]
    m2 = M_MIN + M_RANGE * x4[:, 3]
    rs = m1 + m2 + (SQRT_S_MAX - m1 - m2) * x4[:, 0]
    s = rs * rs
    cos_t = 2.0 * x4[:, 1] - 1.0
    lam = (s - (m1 + m2) ** 2) * (s - (m1 - m2) ** 2)
    p = np.sqrt(np.clip(lam, 0.0, None)) / (2.0 * rs)
    e1 = (s + m1 * m1 - m2 * m2) / (2.0 * rs)
    t = m1 * m1 - rs * (e1 - p * cos_t)
    u = m2 * m2 - rs * (rs - e1 + p * cos_t)
    return (m1 * m2) ** 2 * np.sqrt(t * u) / s


def production_targets(m_loop: np.ndarray, x4: np.ndarray, quark: str = "L") -> np.ndarray:
    """Fit targets (N, 18): real then imaginary parts of ``c(x) M_loop(q; l1, l2)`` from the
    production loop amplitudes ``m_loop`` (N, 18) complex of the 4D process (columns
    :data:`.production.HELICITIES`) at points ``x4`` (N, 4), for quark helicity ``quark``."""
    if quark not in _SIGMA:
        raise ConfigError(f"quark helicity must be 'L' or 'R', got {quark!r}")
    q = 0 if quark == "L" else 1
    m = np.asarray(m_loop)[:, 9 * q: 9 * q + 9] * production_scale(x4)[:, None]
    return np.concatenate([m.real, m.imag], axis=1)


def f11_from_production(m: np.ndarray, x8: np.ndarray, helicity: str) -> np.ndarray:
    """``|sum_{l1,l2} M(l1, l2) D_{l1,s1}(d1) D_{l2,s2}(d2)|^2`` (N,) at 8D points ``x8`` from
    the 9 production amplitudes ``m`` (N, 9) complex of the column's quark helicity (order
    ``(l1, l2) = (-,-), (-,0), ..., (+,+)``); ``helicity`` is the 8D column, e.g. ``"LLL"``."""
    x8 = np.asarray(x8, dtype=np.float64)
    d1 = decay_functions(2.0 * x8[:, 4] - 1.0, 2.0 * np.pi * x8[:, 5], _SIGMA[helicity[1]])
    d2 = decay_functions(2.0 * x8[:, 6] - 1.0, 2.0 * np.pi * x8[:, 7], _SIGMA[helicity[2]])
    a = np.einsum("nab,na,nb->n", np.asarray(m).reshape(-1, 3, 3), d1, d2)
    return a.real * a.real + a.imag * a.imag


class FactorisedLoopRegressor(Regressor):
    """f11 of one 8D column from 18 learned functions of the production variables.

    Parameters: ``helicity`` (8D column, e.g. ``"LLL"``: quark, lepton line 1, lepton line 2);
    ``cells``, ``degree``, ``grading``, ``ridge``, ``coef_dtype``: those of every ``pwcheb``
    part (on the 4 production variables).
    """

    name = "qqzz-factorised"
    version = "1"

    def __init__(self, helicity: str = "LLL", cells: int | list[int] = (8, 8, 1, 1),
                 degree: int | list[int] = (4, 4, 3, 3),
                 grading: float | list[float] = (1.15, 1.3, 1.0, 1.0), ridge: float = 1e-12,
                 coef_dtype: str = "float32") -> None:
        self.helicity = helicity
        self.cells = cells
        self.degree = degree
        self.grading = grading
        self.ridge = ridge
        self.coef_dtype = coef_dtype

    def _check_helicity(self) -> None:
        h = self.helicity
        if not (isinstance(h, str) and len(h) == 3 and all(c in _SIGMA for c in h)):
            raise ConfigError(f"helicity must be an 8D column such as 'LLL' or 'RLR', got {h!r}")

    def _part(self) -> PiecewiseChebyshevRegressor:
        def axes(v):
            return v if np.ndim(v) == 0 else list(v)

        return PiecewiseChebyshevRegressor(
            cells=axes(self.cells), degree=axes(self.degree), grading=axes(self.grading),
            ridge=self.ridge, coef_dtype=self.coef_dtype)

    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False,
            progress=False) -> FactorisedLoopRegressor:
        """Fit on production points ``x`` (N, 4) and targets ``y`` (N, 18) of
        :func:`production_targets` (validation rows, if given, are fitted too)."""
        self._check_helicity()
        x = check_x(x, 4, name="x (production points)")
        y = np.asarray(y, dtype=np.float64)
        if x_val is not None:
            x = np.concatenate([x, check_x(x_val, 4, name="x_val")])
            y = np.concatenate([y, np.asarray(y_val, dtype=np.float64)])
        if y.shape != (x.shape[0], N_PARTS):
            raise InputError(f"y must have shape ({x.shape[0]}, {N_PARTS}) (real and imaginary "
                             f"parts of c M_loop, see production_targets), got {y.shape}")
        if not np.isfinite(y).all():
            raise InputError("y contains NaN or inf; regenerate those production points")
        self.parts_ = [self._part().fit(x, y[:, k]) for k in range(N_PARTS)]
        self.n_features_ = 8
        return self

    def production_amplitudes(self, x4: np.ndarray) -> np.ndarray:
        """The learned loop amplitudes M_loop (N, 9) complex at production points (N, 4)."""
        check_fitted(self, "parts_")
        x4 = check_x(x4, 4)
        v = np.stack([p.predict(x4) for p in self.parts_], axis=1)
        return (v[:, :9] + 1j * v[:, 9:]) / production_scale(x4)[:, None]

    def predict(self, x: np.ndarray) -> np.ndarray:
        check_fitted(self, "parts_")
        x = check_x(x, 8)
        return f11_from_production(self.production_amplitudes(x[:, :4]), x, self.helicity)

    @property
    def n_parameters(self) -> int:
        return int(sum(p.n_parameters for p in getattr(self, "parts_", [])))

    def save(self, directory: Path) -> list[str]:
        check_fitted(self, "parts_")
        written = []
        for k, part in enumerate(self.parts_):
            sub = Path(directory) / f"part{k:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            written += [f"part{k:02d}/{f}" for f in part.save(sub)]
        return written

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> FactorisedLoopRegressor:
        reg = cls(**params)
        reg._check_helicity()
        parts = []
        for k in range(N_PARTS):
            sub = Path(directory) / f"part{k:02d}"
            stored_file(sub, WEIGHTS_FILE)
            part = PiecewiseChebyshevRegressor.load(sub, reg._part().get_params())
            if part.n_features_ != 4:
                raise ArtifactError(f"{sub}: a part of {cls.name} must take the 4 production "
                                    f"variables, this one takes {part.n_features_}")
            parts.append(part)
        reg.parts_ = parts
        reg.n_features_ = 8
        return reg
