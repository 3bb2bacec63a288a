"""The ONNX form of ``qqzz-factorised`` (:class:`.factorised.FactorisedLoopRegressor`), float64.

The graph computes what :meth:`~.factorised.FactorisedLoopRegressor.predict` computes, with
the same formulas in the same order (so both agree to rounding):

* the production points ``x4 = (x1, x2, x3, x4)`` of the input (on shell: ``x3 = x4 = XZ``);
* for each boson-helicity column ``c`` the model needs (its own for a 2D/4D helicity, all 9
  for an 8D column): ``(rep, g, sign) = ORBIT[c]``, the mapped point ``g(x4)`` (:data:`MAPS`),
  the coordinates of the parts (``angle=True``: ``1 - theta / pi`` instead of x2, by
  :func:`~zoo.plugins.transforms.coordinates.onnx_angle`), the ``pwcheb`` parts of ``rep``
  (real and imaginary parts on one basis:
  :func:`~zoo.plugins.regressors.piecewise_onnx.pwcheb_nodes_shared`), and
  ``M_c = sign * part(u) * angular_factor(g x4, rep) / production_scale(g x4)`` (real and
  imaginary parts; a 2D/4D f01 model has the real part only);
* 2D/4D: ``f11 = |M_c|^2``, ``f01 = 2 M_tree,c Re M_c``; 8D: the exact decay functions
  ``D_{l,s}(theta, phi) = sqrt(3) d^1_{l s}(theta) exp(i l phi)`` of the lepton angles
  (``cos theta = 2 x5 - 1``, ``phi = 2 pi x6``; x7, x8 for boson 2; real and imaginary parts
  carried separately), ``A = sum_{l1,l2} M D D`` and ``f11 = |A_loop|^2``,
  ``f01 = 2 Re(conj(A_tree) A_loop)``;
* the tree ``M_tree`` in closed form (:func:`.tree.tree_production_xp` through
  :class:`zoo.runtime.onnx_graph.OnnxMath`), at the model's own (unmapped) production point.

The uncertainty (:func:`factorised_sigma_nodes`, the core's ``sigma`` output) is the
propagation of :mod:`.factorised_uncertainty`, formula for formula: each part's per-cell
scale gathered by the cell index of its scale grid at the same mapped coordinates (one
index for all parts at a mapped point that share a grid), ``sigma_M = |f| sqrt(s_re^2 +
s_im^2)``, in 8D ``sigma_A^2 = sum |D1 D2|^2 sigma_M^2``, then ``2 |A| sigma_A + sigma_A^2``
(f11) or ``2 |A_tree| sigma_A`` (f01). y and sigma of one export share the coordinates,
parts, amplitudes, decays and trees (one builder per graph, model and input).

The symmetry map of a requested non-canonical label is applied before, by the core export.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.plugins.processes.qqzz.factorisation import (
    _SIGMA,
    MAPS,
    ORBIT,
    REPRESENTATIVES,
    angular_factor_xp,
    production_scale_xp,
)
from zoo.plugins.processes.qqzz.production import XZ
from zoo.plugins.processes.qqzz.tree import tree_production_xp
from zoo.plugins.regressors.piecewise_onnx import pwcheb_nodes_shared, pwcheb_sigma_nodes
from zoo.plugins.transforms.coordinates import onnx_angle
from zoo.runtime.onnx_graph import Expr, Graph, OnnxMath

__all__ = ["factorised_nodes", "factorised_sigma_nodes"]

_SQRT3 = float(np.sqrt(3.0))
_SQRT2 = float(np.sqrt(2.0))
#: the column maps of :data:`.factorised.MAPS` on lists ``[x1, x2, x3, x4]``
_LIST_MAPS = {
    "id": lambda v: list(v),
    "cp": lambda v: [v[0], 1.0 - v[1], v[2], v[3]],
    "exchange": lambda v: [v[0], 1.0 - v[1], v[3], v[2]],
    "exchange-cp": lambda v: [v[0], v[1], v[3], v[2]],
}
assert set(_LIST_MAPS) == set(MAPS)


def _decay(xp: OnnxMath, xc: Expr, xphi: Expr, sigma: int) -> list[tuple[Any, Any]]:
    """``D_{l,sigma}`` for ``l = -1, 0, 1`` as (real, imaginary) pairs (imaginary None for
    l = 0), as :func:`.production.decay_functions` at ``cos = 2 xc - 1``, ``phi = 2 pi xphi``."""
    c = 2.0 * xc - 1.0
    phi = (2.0 * np.pi) * xphi
    s = xp.sqrt(xp.maximum(1.0 - c * c, 0.0)) / _SQRT2
    p, m = 0.5 * (1.0 + c), 0.5 * (1.0 - c)
    d = {-1: (p, -s, m), 1: (m, s, p)}[sigma]  # d^1_{l, sigma}, l = -1, 0, 1
    cp, sp = xp.cos(phi), xp.sin(phi)
    out = []
    for k, lam in enumerate((-1, 0, 1)):
        r = _SQRT3 * d[k]
        if lam == 0:
            out.append((r, None))
        else:
            out.append((r * cp, r * sp if lam > 0 else -(r * sp)))
    return out


def _cmul(a: tuple[Any, Any], b: tuple[Any, Any]) -> tuple[Any, Any]:
    """Complex product of (re, im) pairs; an imaginary part None is zero."""
    (ar, ai), (br, bi) = a, b
    re = ar * br if ai is None or bi is None else ar * br - ai * bi
    terms = [t for t in ((ar * bi) if bi is not None else None,
                         (ai * br) if ai is not None else None) if t is not None]
    im = None if not terms else (terms[0] if len(terms) == 1 else terms[0] + terms[1])
    return re, im


def _cadd(a: tuple[Any, Any] | None, b: tuple[Any, Any]) -> tuple[Any, Any]:
    if a is None:
        return b
    im = a[1] if b[1] is None else (b[1] if a[1] is None else a[1] + b[1])
    return a[0] + b[0], im


def _decay_sum(m: list[tuple[Any, Any]], d1: list, d2: list) -> tuple[Any, Any]:
    """``sum_{l1,l2} M(l1, l2) D1_{l1} D2_{l2}`` as (re, im), columns ``3 (l1+1) + (l2+1)``."""
    total = None
    for a in range(3):
        inner = None
        for b in range(3):
            inner = _cadd(inner, _cmul(m[3 * a + b], d2[b]))
        total = _cadd(total, _cmul(d1[a], inner))
    return total


class _Builder:
    """The memoised pieces of one model's graph on one input: the mapped coordinates, the
    parts, the amplitudes of the columns, the decays and the trees, built once and shared by
    :func:`factorised_nodes` (y) and :func:`factorised_sigma_nodes` (sigma)."""

    def __init__(self, reg: Any, g: Graph, x: str) -> None:
        self.reg, self.g = reg, g
        self.xp = xp = OnnxMath(g)
        self.cols = [xp.column(xp.wrap(x), j) for j in range(reg._n_inputs())]
        self.x4 = self.cols[:2] + [XZ, XZ] if reg.on_shell else self.cols[:4]
        self.reps = reg._reps()
        self.real_only = reg._real_only()
        self.coords: dict[str, Expr] = {}
        self.parts: dict[tuple[int, str], list[Expr]] = {}
        self.scales: dict[tuple[int, str], list[Expr]] = {}
        self.amps: dict[int, tuple[Expr, Expr | None, Expr]] = {}
        self.memo: dict[str, Any] = {}
        if not reg._is_4d() and (not reg.symmetric or tuple(self.reps) != REPRESENTATIVES):
            from zoo.errors import UnsupportedModelError

            raise UnsupportedModelError(
                "qqzz-factorised: only symmetric=True 8D models have an ONNX form (every "
                "shipped model is one); refit with symmetric=True")

    def columns(self) -> list[int]:
        """The boson-helicity columns the model's output needs."""
        return [self.reg._column()] if self.reg._is_4d() else list(range(9))

    def coord(self, gname: str) -> Expr:
        """The parts' coordinates (N, D) at the mapped points ``g(x4)``."""
        if gname not in self.coords:
            gx = _LIST_MAPS[gname](self.x4)
            u = gx[:2] if self.reg.on_shell else gx
            if self.reg.angle:
                u = [u[0], self.xp.wrap(onnx_angle(self.g, self.xp.as_expr(u[1]).name)), *u[2:]]
            self.coords[gname] = self.xp.stack(u, axis=1)
        return self.coords[gname]

    def _regs(self, rep: int) -> list[Any]:
        k = self.reps.index(rep)
        return [self.reg.parts_[k]] + ([] if self.real_only
                                       else [self.reg.parts_[len(self.reps) + k]])

    def part(self, rep: int, gname: str, imag: bool) -> Expr:
        """The fitted real (imaginary) part of ``rep`` at the mapped points ``g(x4)``."""
        if (rep, gname) not in self.parts:
            ys = pwcheb_nodes_shared(self.g, self._regs(rep), self.coord(gname).name)
            self.parts[(rep, gname)] = [self.xp.reshape(self.xp.wrap(y), [-1]) for y in ys]
        return self.parts[(rep, gname)][1 if imag else 0]

    def scale(self, rep: int, gname: str, imag: bool) -> Expr:
        """The per-cell scale (``cell_scale_`` on ``scale_edges()``) of the real (imaginary)
        part of ``rep`` at ``g(x4)``: the parts needed at ``g`` that share a scale grid (all
        of a shipped model's) are gathered by one cell index, their scales stacked as the
        columns of one table (:func:`~zoo.plugins.regressors.piecewise_onnx.pwcheb_sigma_nodes`)."""
        if (rep, gname) not in self.scales:
            keys = sorted({ORBIT[c][0] for c in self.columns() if ORBIT[c][1] == gname})
            groups: dict[tuple, list[tuple[int, int, Any]]] = {}
            for r in keys:
                for i, p in enumerate(self._regs(r)):
                    grid = tuple(np.asarray(e, dtype=np.float64).tobytes()
                                 for e in p.scale_edges())
                    groups.setdefault(grid, []).append((r, i, p))
            found: dict[int, list[tuple[int, Expr]]] = {r: [] for r in keys}
            for members in groups.values():
                table = _ScaleTable(members[0][2].scale_edges(), np.stack(
                    [np.asarray(p.cell_scale_, dtype=np.float64) for *_, p in members], axis=1))
                both = self.xp.wrap(pwcheb_sigma_nodes(self.g, table, self.coord(gname).name))
                for j, (r, i, _) in enumerate(members):
                    found[r].append((i, self.xp.column(both, j)))
            for r in keys:
                self.scales[(r, gname)] = [s for _, s in sorted(found[r], key=lambda t: t[0])]
        return self.scales[(rep, gname)][1 if imag else 0]

    def amplitude(self, col: int) -> tuple[Expr, Expr | None, Expr]:
        """``(Re M, Im M or None, f)`` of column ``col``: ``M = part * f``."""
        if col not in self.amps:
            xp, reg = self.xp, self.reg
            rep, gname, sign = ORBIT[col]
            gx = _LIST_MAPS[gname](self.x4)
            f = sign * angular_factor_xp(xp, gx[1], rep, reg._cos_zero_code(), reg._endpoint_quark()) / production_scale_xp(xp, *gx)
            re = self.part(rep, gname, False) * f
            self.amps[col] = (re, None if self.real_only else self.part(rep, gname, True) * f, f)
        return self.amps[col]

    def amplitude_sigma(self, col: int) -> Expr:
        """``|f| sqrt(s_re^2 + s_im^2)`` (``|f| s_re`` for a real-only model)."""
        rep, gname, _ = ORBIT[col]
        af = self.xp.abs(self.amplitude(col)[2])
        s_re = self.scale(rep, gname, False)
        if self.real_only:
            return af * s_re
        s_im = self.scale(rep, gname, True)
        return af * self.xp.sqrt(s_re * s_re + s_im * s_im)

    def _once(self, key: str, build: Any) -> Any:
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]

    def tree(self) -> list[Expr]:
        """The closed-form tree amplitudes of the 9 columns at the model's own point."""
        return self._once("tree", lambda: tree_production_xp(self.xp, *self.x4,
                                                             quark=self.reg.helicity[0]))

    def decays(self) -> tuple[list, list]:
        h = self.reg.helicity
        return self._once("decays", lambda: (
            _decay(self.xp, self.cols[4], self.cols[5], _SIGMA[h[1]]),
            _decay(self.xp, self.cols[6], self.cols[7], _SIGMA[h[2]])))

    def loop8(self) -> tuple[Any, Any]:
        d1, d2 = self.decays()
        return self._once("loop8", lambda: _decay_sum(
            [self.amplitude(c)[:2] for c in range(9)], d1, d2))

    def tree8(self) -> tuple[Any, Any]:
        d1, d2 = self.decays()
        return self._once("tree8", lambda: _decay_sum([(t, None) for t in self.tree()], d1, d2))

    def y(self) -> Expr:
        """f11 or f01 of the model's helicity (module docstring)."""
        reg = self.reg
        if reg._is_4d():
            col = reg._column()
            m_re, m_im, _ = self.amplitude(col)
            if reg.term == "f01":
                return 2.0 * self.tree()[col] * m_re
            return m_re * m_re + m_im * m_im
        loop = self.loop8()
        if reg.term == "f01":
            tree = self.tree8()
            return 2.0 * (tree[0] * loop[0] + tree[1] * loop[1])
        return loop[0] * loop[0] + loop[1] * loop[1]

    def sigma(self) -> Expr:
        """The uncertainty of :meth:`y` (module docstring of :mod:`.factorised_uncertainty`)."""
        xp, reg = self.xp, self.reg
        if reg._is_4d():
            col = reg._column()
            s = self.amplitude_sigma(col)
            if reg.term == "f01":
                return 2.0 * xp.abs(self.tree()[col]) * s
            m_re, m_im, _ = self.amplitude(col)
            return 2.0 * xp.sqrt(m_re * m_re + m_im * m_im) * s + s * s
        d1, d2 = self.decays()
        var = None
        for c in range(9):
            sc = self.amplitude_sigma(c)
            term = _abs2(d1[c // 3]) * _abs2(d2[c % 3]) * (sc * sc)
            var = term if var is None else var + term
        s_a = xp.sqrt(var)
        if reg.term == "f01":
            tree = self.tree8()
            return 2.0 * xp.sqrt(_abs2(tree)) * s_a
        loop = self.loop8()
        return 2.0 * xp.sqrt(_abs2(loop)) * s_a + s_a * s_a


class _ScaleTable:
    """Scales of several parts on one grid, stacked as columns (n_cells, P): what
    :func:`~zoo.plugins.regressors.piecewise_onnx.pwcheb_sigma_nodes` reads of a part
    (``scale_edges()``, ``cell_scale_``), so that one Gather gives all P scales (N, P)."""

    def __init__(self, edges: list[np.ndarray], cell_scale: np.ndarray) -> None:
        self._edges = edges
        self.cell_scale_ = cell_scale

    def scale_edges(self) -> list[np.ndarray]:
        return self._edges


def _abs2(z: tuple[Any, Any]) -> Any:
    """``|z|^2`` of an (re, im) pair (im None: real)."""
    return z[0] * z[0] if z[1] is None else z[0] * z[0] + z[1] * z[1]


#: the attribute of a :class:`Graph` holding its builders by (model, input): y and sigma of
#: one export share their pieces; kept on the graph so that they go with it (a module-level
#: weak map would not: every builder refers to its graph)
_BUILDERS_ATTR = "_qqzz_factorised_builders"


def _builder(reg: Any, g: Graph, x: str) -> _Builder:
    per_graph = g.__dict__.setdefault(_BUILDERS_ATTR, {})
    b = per_graph.get((id(reg), x))
    if b is None or b.reg is not reg:
        b = per_graph[(id(reg), x)] = _Builder(reg, g, x)
    return b


def factorised_nodes(reg: Any, g: Graph, x: str) -> str:
    """The ONNX nodes of a fitted ``qqzz-factorised`` model ``reg`` reading float64 points
    ``x`` (N, D) (D = 2 on shell, 4, or 8); returns the name of its (N,) output, f11 or f01
    of the model's helicity (module docstring)."""
    return _builder(reg, g, x).y().name


def factorised_sigma_nodes(reg: Any, g: Graph, x: str) -> str:
    """The ONNX nodes of the uncertainty of :func:`factorised_nodes` (N,), float64: the
    propagation of :func:`.factorised_uncertainty.predict_uncertainty`, formula for formula
    (module docstring); the pieces of y on the same graph and input are reused."""
    return _builder(reg, g, x).sigma().name
