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
``x1..x4``; 8 with the symmetries below), each a
:class:`~zoo.plugins.regressors.piecewise.PiecewiseChebyshevRegressor` ("part"), and
evaluates the decay part exactly. It is what a generic 8D regressor has to discover.

Learned quantity: ``c(x) M_loop(q; l1, l2)``, real and imaginary parts, with the smooth scale

    c = m1^2 m2^2 sqrt(t u) / s   (GeV^4),

``t = m1^2 - sqrt(s) (E1 - p cos theta)``, ``u = m2^2 - sqrt(s) (E2 + p cos theta)`` the
Mandelstam invariants of q(+z) qbar -> Z(m1) Z(m2) (boson 1 at angle theta to the quark; ``E_i``,
``p`` its c.m. energies and momentum; t, u < 0 everywhere in the domain). It removes the boson
propagators ``1 / (m1^2 m2^2)`` of M and the forward peaks of the t- and u-channel quark
exchange: over the domain ``|c M_loop|`` varies by ~40 instead of ~10^4. Near the beam a
helicity amplitude goes like ``sin(theta/2)^|sigma - l| cos(theta/2)^|sigma + l|`` (``l = l1 -
l2``, ``sigma = +-1`` the q qbar spin projection; ``cos(theta/2) = sqrt(x2)``,
``sin(theta/2) = sqrt(1 - x2)``): for even ``l`` with odd powers, i.e. a square root no
polynomial in x2 resolves at the faces. Those amplitudes are fitted divided by
``sqrt(x2 (1 - x2))`` (then analytic in x2; measured: ``|M| / sqrt(x2)`` tends to a constant
for (-,-), (0,0) as x2 -> 0), the odd-``l`` ones as they are. The (0,0) amplitudes, tree and
loop, also vanish at ``cos theta = 0``; with ``cos_zero=True`` (0,0) is fitted divided by
``cos theta`` as well, so its error vanishes there with the amplitude (f01/f00 of L00 is
finite at the zero, and relative errors near it stay small). Coordinates,
phases (the quark-line spinor phase is a constant: the tree M is real) and the
renormalisation scale are those of :mod:`.production` (``mu = 91.1876`` GeV, finite part).

Symmetries (``symmetric=True``, the default). For one quark helicity the 9 amplitudes obey,
exactly (checked in the tests),

    CP:            M(-l1, -l2)(x1, 1 - x2, x3, x4) = -M(l1, l2)(x)
    boson exchange: M(l2, l1)(x1, 1 - x2, x4, x3)  = -M(l1, l2)(x)

so they are 4 functions, ``(l1, l2) = (-,-), (-,0), (-,+), (0,0)``, evaluated at mapped
points (:data:`ORBIT`). Only those are fitted (8 parts instead of 18: twice the cells per
part at the same disk), each on 4 values per training point (every column and group
element mapped onto it).

Coordinates of the parts: ``(x1, x2, x3, x4)``, or with ``angle=True`` the polar angle
``1 - theta / pi`` instead of x2 (:func:`~zoo.plugins.transforms.coordinates.angle_coordinate`;
forward layers of width delta in x2 are ~sqrt(delta) wide in the angle).

Not a generic regressor: ``fit`` takes production points ``x`` (N, 4) and the targets of
:func:`production_targets` (N, 18); ``predict`` takes 8D points (N, 8) and returns f11 of
the column ``helicity`` (e.g. ``"LLL"``). With a 4D helicity (``"L--"``: quark, l1, l2)
only that amplitude's representative is fitted and ``predict`` takes 4D points and returns
``|M_loop|^2``: near a zero of the amplitude a polynomial fit of M keeps its absolute error,
so ``|M|^2`` stays relatively precise much closer to the zero than a fit of ``|M|^2``.
Stored as one ``pwcheb`` file per part, ``part00`` .. (real parts of the fitted amplitudes
in the order above, then imaginary parts).

On shell (``on_shell=True``, a 4D helicity): the 2D process, both bosons at ``MZ``, is the 4D
one at ``x3 = x4 = XZ`` (:class:`.production.QQZZ2D`); the parts are functions of ``(x1, x2)``
only, ``fit`` and ``predict`` take 2D points (N, 2) (:func:`on_shell_points` embeds them),
and the symmetry maps act within the slice (exchange and CP both send x2 to 1 - x2 there).

The interference term (``term="f01"``): ``f01 = 2 Re(conj(A_tree) A_loop)`` with the *exact*
tree (:func:`tree_amplitudes`, the closed form of :mod:`.tree`: ~1e-7 s per point) and the
learned loop amplitudes; in 4D ``f01 = 2 M_tree Re(M_loop)``: the tree production amplitude is
real in these phase conventions (the projected tree is checked real against the closed form in
the tests), so only ``Re M_loop`` is
fitted (one part per amplitude, twice the cells at the same disk size). f01 is scored as
``(pred - true) / f00`` (the error of f01/f00); the fit is plain least squares of
``c M_loop`` as for f11 (weights ``1 / (c |M_tree|)^2``, clipped to 10 or 100 times their
median, made a small 4D L-- model worse). Where the tree is suppressed (L--, L-0 at high
energy) the error of f01/f00 is the relative error of M_loop times ``2 |M_loop / M_tree|``
(up to ~1e4: ``scripts/f01_conditioning.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ArtifactError, ConfigError, InputError
from zoo.plugins.processes.qqzz.factorisation import (
    _LAMBDA,
    _SIGMA,
    ACTION,
    COS_ZERO_DIAGONAL,
    MAPS,
    N_PARTS,
    ORBIT,
    REPRESENTATIVES,
    TERMS,
    _col,
    angular_factor,
    f01_from_production,
    f11_from_production,
    fit_scale,
    on_shell_points,
    production_scale,
    production_targets,
    tree_amplitudes,
)
from zoo.plugins.regressors.common import check_fitted, check_x, stored_file
from zoo.plugins.regressors.piecewise import WEIGHTS_FILE, PiecewiseChebyshevRegressor
from zoo.plugins.transforms.coordinates import angle_coordinate
from zoo.regressor import Regressor

# the shared exact pieces (:mod:`.factorisation`) stay importable from here
__all__ = ["ACTION", "MAPS", "N_PARTS", "ORBIT", "REPRESENTATIVES", "TERMS",
           "FactorisedLoopRegressor", "angular_factor", "f01_from_production",
           "f11_from_production", "fit_scale", "on_shell_points", "production_scale",
           "production_targets", "tree_amplitudes"]


class FactorisedLoopRegressor(Regressor):
    """f11 (or f01) of one 8D column from 18 learned functions of the production variables.

    Parameters: ``helicity`` (8D column, e.g. ``"LLL"``: quark, lepton line 1, lepton line 2);
    ``cells``, ``degree``, ``grading``, ``ridge``, ``coef_dtype``, ``basis``: those of every
    ``pwcheb``
    part (on the 4 production variables); ``symmetric``: fit the 4 representative amplitudes
    only (module docstring); ``angle``: the parts see the polar angle ``1 - theta / pi``
    instead of x2 (:func:`zoo.plugins.transforms.coordinates.angle_coordinate`: forward
    layers ~ sqrt of their width in x2); ``term``: ``"f11"`` or ``"f01"`` (with the exact
    tree, module docstring); ``cos_zero``: fit the (0, 0) amplitude divided by
    ``cos theta`` too (it vanishes there, with its tree: module docstring); ``on_shell``: the
    2D process (a 4D helicity with both bosons at MZ; parts of ``(x1, x2)``, 2D points);
    ``exchange_zero`` (on shell only): fit the equal-helicity amplitudes (-, -), (0, 0),
    (+, +) divided by ``cos theta``: with both bosons at MZ the boson exchange
    ``M(l, l)(x1, 1 - x2) = -M(l, l)(x1, x2)`` makes them odd in ``cos theta = 2 x2 - 1``,
    an exact zero at x2 = 1/2 where a fit of M itself keeps its absolute error, i.e. an
    unbounded relative one in f11 and f01 (the 2D L-- defaults before the tenth session);
    ``endpoints``: fit every amplitude divided by its exact behaviour at the beam faces,
    ``sqrt(x2)^|sigma + l| sqrt(1 - x2)^|sigma - l|``
    (:func:`.factorisation.endpoint_powers`), so relative errors stay bounded up to the
    beam (``False``, the models published before: ``sqrt(x2 (1 - x2))`` for even ``l`` only).
    """

    name = "qqzz-factorised"
    version = "1"

    def __init__(self, helicity: str = "LLL", cells: int | list[int] = (8, 8, 1, 1),
                 degree: int | list[int] = (4, 4, 3, 3),
                 grading: float | list[float] = (1.15, 1.3, 1.0, 1.0), ridge: float = 1e-12,
                 coef_dtype: str = "float32", symmetric: bool = True,
                 angle: bool = False, term: str = "f11", basis: str = "tensor",
                 cos_zero: bool = False, on_shell: bool = False,
                 endpoints: bool = False, exchange_zero: bool = False) -> None:
        self.helicity = helicity
        self.cells = cells
        self.degree = degree
        self.grading = grading
        self.ridge = ridge
        self.coef_dtype = coef_dtype
        self.symmetric = symmetric
        self.angle = angle
        self.term = term
        self.basis = basis
        self.cos_zero = cos_zero
        self.on_shell = on_shell
        self.endpoints = endpoints
        self.exchange_zero = exchange_zero

    def _check_params(self) -> None:
        h = self.helicity
        ok8 = isinstance(h, str) and len(h) == 3 and all(c in _SIGMA for c in h)
        ok4 = (isinstance(h, str) and len(h) == 3 and h[0] in _SIGMA
               and h[1] in _LAMBDA and h[2] in _LAMBDA)
        if not (ok8 or ok4):
            raise ConfigError(f"helicity must be an 8D column such as 'LLL' or 'RLR', or a 4D "
                              f"production helicity such as 'L--' or 'R0+', got {h!r}")
        if ok4 and not self.symmetric:
            raise ConfigError("a 4D helicity needs symmetric=True (one representative fitted)")
        if self.term not in TERMS:
            raise ConfigError(f"term must be one of {', '.join(TERMS)}, got {self.term!r}")
        if self.on_shell and not ok4:
            raise ConfigError(f"on_shell=True (the 2D process) needs a 4D production helicity "
                              f"such as 'L-0', got {h!r}")
        if self.exchange_zero and not self.on_shell:
            raise ConfigError("exchange_zero=True needs on_shell=True: only with equal boson "
                              "masses does the exchange make M(l, l) odd in cos theta (off "
                              "shell it has no zero there to divide by)")

    def _cos_zero_code(self) -> int:
        """The ``cos_zero`` code of :func:`.factorisation.angular_factor_xp`:
        :data:`.factorisation.COS_ZERO_DIAGONAL` with ``exchange_zero``, else 1 with
        ``cos_zero`` ((0, 0) only), else 0."""
        if getattr(self, "exchange_zero", False):
            return COS_ZERO_DIAGONAL
        return int(bool(self.cos_zero))

    def _endpoint_quark(self) -> str | None:
        """The quark helicity the angular factors take with ``endpoints`` (else None: the
        older factors; :func:`.factorisation.angular_factor_xp`)."""
        return self.helicity[0] if self.endpoints else None

    def _is_4d(self) -> bool:
        """A production helicity (4D, or 2D with ``on_shell``), not an 8D column."""
        return self.helicity[1] in _LAMBDA

    def _n_production(self) -> int:
        """Columns of the production points ``fit`` takes and the parts see: 2 on shell,
        else 4."""
        return 2 if self.on_shell else 4

    def _n_inputs(self) -> int:
        """Columns of the points ``predict`` takes: those of the production points for a
        production helicity, else 8."""
        return self._n_production() if self._is_4d() else 8

    def _production(self, x: np.ndarray) -> np.ndarray:
        """The 4D production points of the model's input points (on-shell 2D points embedded,
        8D points cut to their first 4 columns)."""
        return on_shell_points(x) if self.on_shell else x[:, :4]

    def _column(self) -> int:
        """Boson-helicity column ``3 (l1 + 1) + (l2 + 1)`` of a 4D helicity."""
        return _col(_LAMBDA[self.helicity[1]], _LAMBDA[self.helicity[2]])

    def _reps(self) -> tuple[int, ...]:
        """The fitted representatives: all four for 8D, the column's own for 4D."""
        return (ORBIT[self._column()][0],) if self._is_4d() else REPRESENTATIVES

    def _part(self) -> PiecewiseChebyshevRegressor:
        def axes(v):
            return v if np.ndim(v) == 0 else list(v)

        return PiecewiseChebyshevRegressor(
            cells=axes(self.cells), degree=axes(self.degree), grading=axes(self.grading),
            ridge=self.ridge, coef_dtype=self.coef_dtype, basis=self.basis)

    def _coords(self, x4: np.ndarray) -> np.ndarray:
        """The coordinates the parts are fitted in (x2 -> angle with ``angle=True``; on shell
        the first two only)."""
        u = x4[:, :2].copy() if self.on_shell else x4.copy()
        if self.angle:
            u[:, 1] = angle_coordinate(x4[:, 1])
        return u

    def _real_only(self) -> bool:
        """A 4D (or 2D) f01 model needs Re M_loop only (the tree is real)."""
        return self.term == "f01" and self._is_4d()

    def _n_parts(self) -> int:
        if not self.symmetric:
            return N_PARTS
        return (1 if self._real_only() else 2) * len(self._reps())

    def fit(self, x, y, *, x_val=None, y_val=None, checkpoint_dir=None, resume=False,
            progress=False) -> FactorisedLoopRegressor:
        """Fit on production points ``x`` (N, 4), or 2D points (N, 2) with ``on_shell``, and
        targets ``y`` (N, 18) of :func:`production_targets` (validation rows, if given, are
        fitted too)."""
        self._check_params()
        x = check_x(x, self._n_production(), name="x (production points)")
        y = np.asarray(y, dtype=np.float64)
        if x_val is not None:
            x = np.concatenate([x, check_x(x_val, self._n_production(), name="x_val")])
            y = np.concatenate([y, np.asarray(y_val, dtype=np.float64)])
        x = self._production(x)
        if y.shape != (x.shape[0], N_PARTS):
            raise InputError(f"y must have shape ({x.shape[0]}, {N_PARTS}) (real and imaginary "
                             f"parts of c M_loop, see production_targets), got {y.shape}")
        if not np.isfinite(y).all():
            raise InputError("y contains NaN or inf; regenerate those production points")
        c = production_scale(x)[:, None]
        m = (y[:, :9] + 1j * y[:, 9:]) / c
        if not self.symmetric:
            t = m * np.stack([fit_scale(x, col, self._cos_zero_code(), self._endpoint_quark()) for col in range(9)], axis=1)
            u = self._coords(x)
            self.parts_ = [self._part().fit(u, v[:, k]) for v in (t.real, t.imag)
                           for k in range(9)]
        else:  # M_{g c}(g x) = sign_g M_c(x) for every column c and group element g:
            # each representative gets 4 values per training point
            reps = self._reps()
            xs: dict[int, list] = {r: [] for r in reps}
            ys: dict[int, list] = {r: [] for r in reps}
            for g, (act, sign) in ACTION.items():
                gx = MAPS[g](x)
                for col in range(9):
                    rep = act(col)
                    if rep in xs:
                        xs[rep].append(self._coords(gx))
                        ys[rep].append(sign * m[:, col] * fit_scale(gx, rep, self._cos_zero_code(), self._endpoint_quark()))
            fits = [(np.concatenate(xs[r]), np.concatenate(ys[r])) for r in reps]
            self.parts_ = [self._part().fit(u, v.real) for u, v in fits]
            if not self._real_only():
                self.parts_ += [self._part().fit(u, v.imag) for u, v in fits]
        self.n_features_ = self._n_inputs()
        return self

    def for_term(self, term: str) -> FactorisedLoopRegressor:
        """A fitted model of ``term`` that shares this one's parts (the least-squares fits
        of both terms are the same; a 4D f01 model keeps the real parts only)."""
        check_fitted(self, "parts_")
        other = type(self)(**{**self.get_params(), "term": term})
        other._check_params()
        if other._n_parts() > len(self.parts_):
            raise ConfigError(f"a 4D {self.term} model holds the real parts only; fit with "
                              f"term={term!r} (or 'f11', which serves both)")
        other.parts_ = self.parts_[:other._n_parts()]
        other.n_features_ = self.n_features_
        return other

    def production_amplitudes(self, x4: np.ndarray) -> np.ndarray:
        """The learned loop amplitudes M_loop (N, 9) complex at production points (N, 4), or
        2D points (N, 2) with ``on_shell`` (a model of a 4D helicity knows its column's orbit
        only: NaN elsewhere; a 4D f01 model knows the real part only: imaginary part NaN)."""
        check_fitted(self, "parts_")
        x4 = self._production(check_x(x4, self._n_production()))
        if not self.symmetric:
            u = self._coords(x4)
            v = np.stack([p.predict(u) for p in self.parts_], axis=1)
            unit = np.stack([angular_factor(x4, col, self._cos_zero_code(), self._endpoint_quark()) for col in range(9)], axis=1)
            return (v[:, :9] + 1j * v[:, 9:]) * unit / production_scale(x4)[:, None]
        out = np.full((x4.shape[0], 9), np.nan, dtype=np.complex128)
        for c, (rep, _, _) in ORBIT.items():
            if rep in self._reps():
                out[:, c] = self._amplitude(x4, c)
        return out

    def _amplitude(self, x4: np.ndarray, col: int) -> np.ndarray:
        """The learned M_loop (N,) complex of column ``col`` (in the fitted orbit) at production
        points (N, 4): ``sign * M_rep(g x)`` (imaginary part NaN for a 4D f01 model)."""
        rep, g, sign = ORBIT[col]
        k = self._reps().index(rep)
        gx = MAPS[g](x4)
        u = self._coords(gx)
        f = sign * angular_factor(gx, rep, self._cos_zero_code(), self._endpoint_quark()) / production_scale(gx)
        out = np.empty(len(u), dtype=np.complex128)
        out.real = self.parts_[k].predict(u) * f
        out.imag = (np.nan if self._real_only()
                    else self.parts_[len(self._reps()) + k].predict(u) * f)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """f11 (or f01) of the 8D column at 8D points (N, 8), of the 4D helicity at 4D
        points (N, 4), or on shell at 2D points (N, 2). 8D models whose parts share one
        layout (every shipped one) run the compiled row kernel (:mod:`.factorised_fast`; the
        numpy composition of the parts agrees to ~1e-15 relative), so that
        :meth:`predict_uncertainty` returns this ``y`` bit for bit."""
        check_fitted(self, "parts_")
        q = self.helicity[0]
        if self._is_4d():
            x4 = self._production(check_x(x, self._n_inputs()))
            m = self._amplitude(x4, self._column())
            if self.term == "f01":
                tree = tree_amplitudes(x4, q)[:, self._column()]
                return 2.0 * tree * m.real
            return m.real * m.real + m.imag * m.imag
        x = check_x(x, 8)
        from .factorised_uncertainty import _compiled_8d

        fast = _compiled_8d(self)
        if fast is not None:  # one shared layout (every shipped 8D model): compiled rows
            return fast.batch(x)
        return self._predict_numpy(x)

    def _predict_numpy(self, x: np.ndarray) -> np.ndarray:
        """The 8D prediction at validated points (N, 8) composed in numpy from the parts'
        amplitudes (the reference of the compiled kernels)."""
        m = self.production_amplitudes(x[:, :4])
        if self.term == "f01":
            return f01_from_production(tree_amplitudes(x[:, :4], self.helicity[0]), m, x,
                                       self.helicity)
        return f11_from_production(m, x, self.helicity)

    def fast_predictor(self, *, backend: str = "auto", n_threads: int | None = None,
                       chunk: int | None = None):
        """One point per call by the whole model compiled (:mod:`.factorised_fast`), backend
        ``"numba"``; batches of 8D models whose parts share one layout (every shipped one) by
        the same compiled point kernel row by row on ``n_threads``, other batches by
        :meth:`predict` (each part's compiled kernel over the batch); ``"native"``:
        :meth:`predict` only."""
        from zoo.errors import UnsupportedModelError
        from zoo.runtime.inference import Predictor, native_predictor

        check_fitted(self, "parts_")
        if backend not in ("auto", "native", "numba"):
            raise UnsupportedModelError(f"backend {backend!r}: {self.name} offers 'auto', "
                                        "'native' and 'numba'")
        from .factorised_fast import compiled

        fast = None if backend == "native" else compiled(self)
        if fast is None:
            return native_predictor(self)
        if not fast.has_batch:
            return Predictor(native_predictor(self), self._n_inputs(), "numba", one=fast.one)

        def batch(x: np.ndarray) -> np.ndarray:
            return fast.batch(check_x(x, 8), n_threads)

        return Predictor(batch, 8, "numba", one=fast.one)

    def onnx_nodes(self, graph: Any, x: str) -> str:
        """The float64 ONNX form (parts, scales, orbit maps, exact decays and closed-form
        tree): :func:`.factorised_onnx.factorised_nodes`."""
        from zoo.plugins.processes.qqzz.factorised_onnx import factorised_nodes

        check_fitted(self, "parts_")
        return factorised_nodes(self, graph, x)

    def onnx_max_rows(self) -> int:
        """Rows per pass of the ONNX graph: its per-row intermediates (the parts' basis at
        the mapped points, the gathered coefficients of each column) kept to ~128 MB
        (:func:`.factorised_onnx.bytes_per_row`)."""
        from zoo.plugins.processes.qqzz.factorised_onnx import bytes_per_row
        from zoo.plugins.regressors.piecewise_onnx import max_rows

        check_fitted(self, "parts_")
        return max_rows(bytes_per_row(self))

    def onnx_uncertainty_nodes(self, graph: Any, x: str) -> str:
        """The float64 ONNX form of :meth:`predict_uncertainty`'s sigma, sharing the pieces
        of :meth:`onnx_nodes`: :func:`.factorised_onnx.factorised_sigma_nodes`."""
        from zoo.plugins.processes.qqzz.factorised_onnx import factorised_sigma_nodes

        check_fitted(self, "parts_")
        if not self.has_uncertainty:
            return super().onnx_uncertainty_nodes(graph, x)
        return factorised_sigma_nodes(self, graph, x)

    @property
    def n_parameters(self) -> int:
        return int(sum(p.n_parameters for p in getattr(self, "parts_", [])))

    # -- uncertainty (:mod:`.factorised_uncertainty`) --------------------------------------
    @property
    def has_uncertainty(self) -> bool:
        """Whether every part has per-cell scales (fitted, set, or stored with it)."""
        parts = getattr(self, "parts_", None)
        return bool(parts) and all(p.has_uncertainty for p in parts)

    def predict_uncertainty(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(predict(x), sigma)``: sigma propagated from the parts' per-cell scales
        (:mod:`.factorised_uncertainty`)."""
        if not self.has_uncertainty:
            return super().predict_uncertainty(x)
        from .factorised_uncertainty import predict_uncertainty

        return predict_uncertainty(self, x)

    def set_part_scales(self, x: np.ndarray, m_loop: np.ndarray, *, min_points: int = 8,
                        refine: int | list[int] = 1, statistic: str = "rms",
                        cuts: dict[int, list[float]] | None = None) -> list[np.ndarray]:
        """Per-cell scales of the parts from held-out exact loop amplitudes
        (:func:`.factorised_uncertainty.set_part_scales`)."""
        from .factorised_uncertainty import set_part_scales

        return set_part_scales(self, x, m_loop, min_points=min_points, refine=refine,
                               statistic=statistic, cuts=cuts)

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
        reg._check_params()
        parts = []
        for k in range(reg._n_parts()):
            sub = Path(directory) / f"part{k:02d}"
            stored_file(sub, WEIGHTS_FILE)
            part = PiecewiseChebyshevRegressor.load(sub, reg._part().get_params())
            if part.n_features_ != reg._n_production():
                raise ArtifactError(f"{sub}: a part of this {cls.name} model must take "
                                    f"{reg._n_production()} "
                                    f"production variables, this one takes {part.n_features_}; "
                                    "the card's parameters do not match the files: re-fetch or "
                                    "re-publish the artifact")
            parts.append(part)
        if (Path(directory) / f"part{len(parts):02d}").exists():
            raise ArtifactError(f"{directory} holds more parts than the {len(parts)} of "
                                f"symmetric={reg.symmetric}: the card's parameters do not match "
                                "the files; re-fetch or re-publish the artifact")
        reg.parts_ = parts
        reg.n_features_ = reg._n_inputs()
        return reg
