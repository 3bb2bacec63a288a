"""The ONNX form of ``qqzz-factorised`` (:class:`.factorised.FactorisedLoopRegressor`), float64.

The graph computes what :meth:`~.factorised.FactorisedLoopRegressor.predict` computes, with
the same formulas (both agree to rounding), written over whole tensors so that the graph
has few nodes (ONNX Runtime spends ~0.3 µs per node: one point costs what the node count
costs; the 8D graphs went from ~3,200-3,400 nodes, one chain per boson-helicity column, to
260-390 with the uncertainty):

* the columns the model needs (its own for a 2D/4D helicity, all 9 for an 8D one), each
  ``(rep, g, sign) = ORBIT[c]``; the distinct maps ``g`` of the production point (``G`` of
  them: 1 in 2D/4D, 4 in 8D; :data:`.factorisation.MAPS`, axis exchanges and ``x2 -> 1 -
  x2``, exact) give the mapped points as ``(N, G)`` columns ``x1..x4`` (on shell ``x3 = x4 =
  XZ``, constants);
* the parts' coordinates ``(N, G, D)`` (``angle=True``: ``1 - theta / pi`` for x2, by
  :func:`~zoo.plugins.transforms.coordinates.onnx_angle`), their cells and Chebyshev basis
  ``(N, G, P)`` once per mapped point for all parts (they share one basis:
  :func:`~zoo.plugins.regressors.piecewise_onnx.design_nodes`), and for each column the
  coefficients of its representative's real and imaginary parts in its cell, gathered from
  one table ``(reps x cells, P)`` per real / imaginary part: the parts ``(N, C)``;
* ``M_c = sign * part * angular_factor(g x4, rep) / production_scale(g x4)`` (N, C);
* 2D/4D: ``f11 = |M_c|^2``, ``f01 = 2 M_tree,c Re M_c``; 8D: the exact decay functions
  ``D_{l,s}(theta, phi) = sqrt(3) d^1_{l s}(theta) exp(i l phi)`` of the lepton angles
  (``cos theta = 2 x5 - 1``, ``phi = 2 pi x6``; x7, x8 for boson 2) as ``(N, 2, 3)`` real
  and imaginary tensors, ``A = sum_c M_c D1_{l1(c)} D2_{l2(c)}``, ``f11 = |A_loop|^2``,
  ``f01 = 2 Re(conj(A_tree) A_loop)``;
* the tree ``M_tree`` in closed form at the model's own (unmapped) production point:
  :func:`.tree.tree_production_xp` through :class:`zoo.runtime.onnx_graph.OnnxMath` (the
  one column of a 2D/4D model; all 9 in 8D, :func:`_tree9`).

The uncertainty (:func:`factorised_sigma_nodes`, the core's ``sigma`` output) is the
propagation of :mod:`.factorised_uncertainty`: each part's per-cell scale gathered by the
cell index of its scale grid at the same mapped points (one index per grid; the real parts
of all representatives share one grid, the imaginary parts one), ``sigma_M = |f| sqrt(s_re^2
+ s_im^2)``, in 8D ``sigma_A^2 = sum |D1 D2|^2 sigma_M^2``, then ``2 |A| sigma_A + sigma_A^2``
(f11) or ``2 |A_tree| sigma_A`` (f01). y and sigma of one export share every piece (one
builder per graph, model and input).

Memory: a call holds the gathered coefficients and basis, ``(N, C, P)`` arrays (8D: ~0.5 MB
per row, :func:`bytes_per_row`); the core export bounds it by running the graph on passes of
rows (:meth:`~.factorised.FactorisedLoopRegressor.onnx_max_rows`).

The symmetry map of a requested non-canonical label is applied before, by the core export.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.errors import UnsupportedModelError
from zoo.plugins.processes.qqzz.factorisation import (
    _SIGMA,
    MAPS,
    ORBIT,
    REPRESENTATIVES,
    _even,
    cos_zero_columns,
    endpoint_powers,
    production_scale_xp,
)
from zoo.plugins.processes.qqzz.production import XZ
from zoo.plugins.processes.qqzz.tree import tree_production_xp
from zoo.plugins.regressors.piecewise_onnx import (
    Cells,
    basis_bytes,
    design_nodes,
    finer_cell_nodes,
    same_basis,
    same_grid,
)
from zoo.plugins.transforms.coordinates import onnx_angle
from zoo.runtime.onnx_graph import Expr, Graph, OnnxMath, signed_permutation

__all__ = ["bytes_per_row", "factorised_nodes", "factorised_sigma_nodes"]

_SQRT3 = float(np.sqrt(3.0))
_SQRT2 = float(np.sqrt(2.0))


def _map_table(gname: str) -> tuple[np.ndarray, np.ndarray]:
    """``(perm, reflect)`` of a production map: ``g(x)[i] = x[perm[i]]``, then ``1 - .``
    where ``reflect`` (read off :data:`.factorisation.MAPS` by
    :func:`~zoo.runtime.onnx_graph.signed_permutation`)."""
    sp = signed_permutation(MAPS[gname], 4)
    if sp is None:
        return np.arange(4), np.zeros(4, dtype=bool)
    perm, reflect, shift = sp
    assert not shift.any()
    return perm, reflect


class _Builder:
    """The memoised pieces of one model's graph on one input (module docstring), shared by
    :func:`factorised_nodes` (y) and :func:`factorised_sigma_nodes` (sigma)."""

    def __init__(self, reg: Any, g: Graph, x: str) -> None:
        self.reg, self.g, self.x = reg, g, x
        self.xp = xp = OnnxMath(g)
        self.reps = tuple(reg._reps())
        self.real_only = reg._real_only()
        self.memo: dict[str, Any] = {}
        if not reg._is_4d() and (not reg.symmetric or self.reps != REPRESENTATIVES):
            raise UnsupportedModelError(
                "qqzz-factorised: only symmetric=True 8D models have an ONNX form (every "
                "shipped model is one); refit with symmetric=True")
        parts = list(reg.parts_)
        if not all(same_basis(parts[0], p) for p in parts[1:]):
            raise UnsupportedModelError(
                "qqzz-factorised: the ONNX form needs parts on one cell grid and basis (every "
                "model fit() makes is one); refit the model")
        self.cols = [reg._column()] if reg._is_4d() else list(range(9))
        orbit = [ORBIT[c] for c in self.cols]
        self.gnames = list(dict.fromkeys(o[1] for o in orbit))
        self.gi = np.array([self.gnames.index(o[1]) for o in orbit], dtype=np.int64)
        self.ri = np.array([self.reps.index(o[0]) for o in orbit], dtype=np.int64)
        self.sign = np.array([o[2] for o in orbit], dtype=np.float64)
        self.n_im = 1 if self.real_only else 2
        self._xw = xp.wrap(x)

    # -- small helpers
    def _i64(self, v: Any, hint: str) -> str:
        return self.g.const(np.asarray(v, dtype=np.int64), hint)

    def _cols_of(self, src: Expr, idx: np.ndarray, axis: int = 1) -> Expr:
        """``src`` gathered along ``axis`` at the integer array ``idx``."""
        return self.xp.wrap(self.g.op("Gather", [src.name, self._i64(idx, "idx")], "gat",
                                      axis=axis))

    def _per_column(self, t: Expr) -> Expr:
        """(N, G) -> (N, C): each column's value at its map."""
        if len(self.gnames) == len(self.cols) and np.array_equal(self.gi, np.arange(len(self.gi))):
            return t
        return self._cols_of(t, self.gi)

    def _once(self, key: Any, build: Any) -> Any:
        if key not in self.memo:
            self.memo[key] = build()
        return self.memo[key]

    # -- the mapped production points
    def mapped(self) -> tuple[Any, Any, Any, Any]:
        """x1..x4 of the G mapped production points: Exprs (N, G) ((N, 1) when G = 1;
        python floats for the on-shell masses)."""
        def build():
            tables = [_map_table(gn) for gn in self.gnames]
            perm = np.array([t[0] for t in tables])  # (G, 4)
            refl = np.array([t[1] for t in tables])
            out, wide = [], []
            for j in range(2 if self.reg.on_shell else 4):
                src = perm[:, j]
                narrow = bool((src == src[0]).all())
                v = self._cols_of(self._xw, src[:1] if narrow else src)
                if refl[:, j].any():  # y -> a - s y: (1, 1) reflected, (0, -1) kept: exact
                    a = self.xp.const(refl[:, j].astype(np.float64))
                    s = self.xp.const(np.where(refl[:, j], 1.0, -1.0))
                    v = a - v * s
                    narrow = False
                out.append(v)
                wide.append(not narrow)
            if len(self.gnames) > 1:  # distinct maps differ in some coordinate
                zero = out[wide.index(True)] * 0.0
                out = [v if w else v + zero for v, w in zip(out, wide, strict=True)]
            if self.reg.on_shell:
                out += [XZ, XZ]
            return tuple(out)
        return self._once("mapped", build)

    def design(self) -> tuple[str, Cells, str]:
        """``(x1 (N, G, D, 1), cells (flat (N, G)), basis (N, G, P))`` of the mapped points."""
        def build():
            xp, g = self.xp, self.g
            m = self.mapped()
            n_d = 2 if self.reg.on_shell else 4
            coords = list(m[:n_d])
            if self.reg.angle:
                coords[1] = xp.wrap(onnx_angle(g, coords[1].name))
            ax = self._i64([-1], "axm1")
            cols = [g.op("Unsqueeze", [c.name, ax], "unsq") for c in coords]
            u = g.op("Concat", cols, "ucoords", axis=-1)  # (N, G, D)
            x1 = g.op("Unsqueeze", [u, ax], "ucol")  # (N, G, D, 1)
            cells, basis = design_nodes(g, self.reg.parts_[0], x1, 4)
            return x1, cells, basis
        return self._once("design", build)

    def parts(self) -> tuple[Expr, Expr | None]:
        """The real and imaginary parts (N, C) of each column's representative at its map."""
        def build():
            g, reg = self.g, self.reg
            _, cells, basis = self.design()
            flat = cells.flat
            n_cells = int(np.asarray(reg.parts_[0].coef_).shape[0])
            n_rep = len(self.reps)
            idx = self._per_column(self.xp.wrap(flat))
            if self.ri.any():
                idx = self.xp.wrap(g.op("Add", [idx.name, self._i64(self.ri * n_cells, "roff")]))
            b = self._per_column(self.xp.wrap(basis)).name  # (N, C, P)
            vals = []
            for i in range(self.n_im):  # one table per real / imaginary: same-shape products
                coef = np.concatenate([np.asarray(reg.parts_[i * n_rep + r].coef_,
                                                  dtype=np.float64) for r in range(n_rep)])
                cc = g.op("Gather", [g.const(coef, "coef"), idx.name], "cellcoef", axis=0)
                vals.append(self.xp.wrap(g.op("ReduceSum", [g.op("Mul", [cc, b], "pterms"),
                                                            self._i64([-1], "axm1")],
                                              "pval", keepdims=0)))  # (N, C)
            re, im = vals[0], (None if self.real_only else vals[1])
            return re, im
        return self._once("parts", build)

    def factor(self) -> Expr:
        """``sign * angular_factor / production_scale`` (N, C) of each column at its map."""
        def build():
            xp, reg = self.xp, self.reg
            m = self.mapped()
            ps = self._per_column(production_scale_xp(xp, *m))
            x2 = self._per_column(m[1])
            reps = [ORBIT[c][0] for c in self.cols]
            quark = reg._endpoint_quark()
            if quark is None:
                even = np.array([1.0 if _even(r) else 0.0 for r in reps])
                af = xp.wrap(self.g.op("Pow", [xp.sqrt(x2 * (1.0 - x2)).name,
                                               xp.const(even).name]))
            else:
                a, b = np.array([endpoint_powers(r, quark) for r in reps], dtype=np.float64).T
                af = (xp.wrap(self.g.op("Pow", [xp.sqrt(x2).name, xp.const(a).name]))
                      * xp.wrap(self.g.op("Pow", [xp.sqrt(1.0 - x2).name, xp.const(b).name])))
            cz = np.array([1.0 if r in cos_zero_columns(reg._cos_zero_code()) else 0.0
                           for r in reps])
            if cz.any():  # times cos theta where the column is fitted divided by it: exact
                af = af * ((2.0 * x2 - 1.0) * xp.const(cz) + xp.const(1.0 - cz))
            return xp.const(self.sign) * af / ps
        return self._once("factor", build)

    def amplitudes(self) -> tuple[Expr, Expr | None]:
        """``(Re M, Im M or None)`` (N, C)."""
        def build():
            re, im = self.parts()
            f = self.factor()
            return re * f, (None if im is None else im * f)
        return self._once("amps", build)

    def own(self) -> list[Any]:
        """x1..x4 of the model's own (unmapped) production point, (N, 1) columns (python
        floats for the on-shell masses)."""
        def build():
            cols = [self._cols_of(self._xw, np.array([j]))
                    for j in range(2 if self.reg.on_shell else 4)]
            return cols + ([XZ, XZ] if self.reg.on_shell else [])
        return self._once("own", build)

    def tree(self) -> list[Expr]:
        """The closed-form tree amplitudes of the 9 columns (N, 1) each, at the model's own
        point (the nodes of columns not used are pruned by the core)."""
        return self._once("tree", lambda: tree_production_xp(
            self.xp, *self.own(), quark=self.reg.helicity[0]))

    def decays(self) -> tuple[Expr, Expr]:
        """``(Re, Im)`` of ``D_{l, sigma_b}`` (N, 2, 3) for boson b = 1, 2 and l = -1, 0, 1,
        as :func:`.production.decay_functions` at ``cos = 2 xc - 1``, ``phi = 2 pi xphi``."""
        def build():
            xp, g = self.xp, self.g
            h = self.reg.helicity
            c = 2.0 * self._cols_of(self._xw, np.array([4, 6])) - 1.0  # (N, 2)
            phi = (2.0 * np.pi) * self._cols_of(self._xw, np.array([5, 7]))
            s = xp.sqrt(xp.maximum(1.0 - c * c, 0.0)) / _SQRT2
            p, m = 0.5 * (1.0 + c), 0.5 * (1.0 - c)
            ax = self._i64([-1], "axm1")
            psm = g.op("Concat", [g.op("Unsqueeze", [t.name, ax]) for t in (p, s, m)],
                       "psm", axis=-1)  # (N, 2, 3): p, s, m per boson
            # d^1_{l, sigma}, l = -1, 0, 1: (p, -s, m) for sigma = -1, (m, s, p) for +1
            pick = {-1: ([0, 1, 2], [1.0, -1.0, 1.0]), 1: ([2, 1, 0], [1.0, 1.0, 1.0])}
            sel = [pick[_SIGMA[h[b + 1]]] for b in range(2)]
            idx = np.array([[3 * b + i for i in sel[b][0]] for b in range(2)])
            flat = g.op("Reshape", [psm, self._i64([0, 6], "shape")], "psmflat")  # (N, 6)
            d = self._cols_of(xp.wrap(flat), idx) * (xp.const(np.array([t[1] for t in sel]))
                                                     * _SQRT3)
            lphi = xp.wrap(g.op("Unsqueeze", [phi.name, ax])) * xp.const(np.array([-1.0, 0.0, 1.0]))
            return d * xp.cos(lphi), d * xp.sin(lphi)
        return self._once("decays", build)

    def decay_products(self) -> tuple[Expr, Expr]:
        """``D1_{l1(c)} D2_{l2(c)}`` (N, 9) as (Re, Im), columns ``3 (l1 + 1) + (l2 + 1)``."""
        def build():
            dr, di = self.decays()
            fr = self.xp.reshape(dr, [0, 6])
            fi = self.xp.reshape(di, [0, 6])  # (N, 6): boson 1's l, then boson 2's
            i1 = np.array([c // 3 for c in range(9)])
            i2 = np.array([3 + c % 3 for c in range(9)])
            ar, ai = self._cols_of(fr, i1), self._cols_of(fi, i1)
            br, bi = self._cols_of(fr, i2), self._cols_of(fi, i2)
            return ar * br - ai * bi, ar * bi + ai * br
        return self._once("dprod", build)

    def _sum9(self, t: Expr) -> Expr:
        return self.xp.wrap(self.g.op("ReduceSum", [t.name, self._i64([1], "ax1")], "sum9",
                                      keepdims=0))

    def loop8(self) -> tuple[Expr, Expr]:
        def build():
            mr, mi = self.amplitudes()
            pr, pi = self.decay_products()
            return self._sum9(mr * pr - mi * pi), self._sum9(mr * pi + mi * pr)
        return self._once("loop8", build)

    def tree9(self) -> Expr:
        """The 9 tree amplitudes (N, 9) at the model's own point (:func:`_tree9`)."""
        return self._once("tree9", lambda: _tree9(self.xp, *self.own(),
                                                  quark=self.reg.helicity[0]))

    def tree8(self) -> tuple[Expr, Expr]:
        def build():
            t = self.tree9()
            pr, pi = self.decay_products()
            return self._sum9(t * pr), self._sum9(t * pi)
        return self._once("tree8", build)

    def y(self) -> Expr:
        """f11 or f01 of the model's helicity (module docstring): (N, 1) or (N,)."""
        reg = self.reg
        if reg._is_4d():
            m_re, m_im = self.amplitudes()
            if reg.term == "f01":
                return 2.0 * self.tree()[self.cols[0]] * m_re
            return m_re * m_re + m_im * m_im
        loop = self.loop8()
        if reg.term == "f01":
            tree = self.tree8()
            return 2.0 * (tree[0] * loop[0] + tree[1] * loop[1])
        return loop[0] * loop[0] + loop[1] * loop[1]

    # -- the uncertainty
    def _scale_of(self, im: int) -> Expr:
        """The per-cell scales (N, C) of each column's real (im = 0) or imaginary (im = 1)
        part at its map."""
        g, reg = self.g, self.reg
        n_rep = len(self.reps)
        parts = [reg.parts_[im * n_rep + r] for r in range(n_rep)]
        grid = [np.asarray(e, dtype=np.float64) for e in parts[0].scale_edges()]
        if not all(same_grid(grid, list(p.scale_edges())) for p in parts[1:]):
            raise UnsupportedModelError(
                "qqzz-factorised: the ONNX sigma needs the scales of all representatives' "
                "real (imaginary) parts on one grid (every calibrated model has that); "
                "recalibrate the model")
        key = ("sflat",) + tuple(e.tobytes() for e in grid)
        x1, cells, _ = self.design()
        fit = [np.asarray(e, dtype=np.float64) for e in reg.parts_[0].edges_]
        flat = self._once(key, lambda: finer_cell_nodes(g, grid, fit, cells, x1))  # (N, G)
        n_cells = int(np.prod([len(e) - 1 for e in grid]))
        table = g.const(np.concatenate([np.asarray(p.cell_scale_, dtype=np.float64)
                                        for p in parts]), "cell_scale")
        idx = self._per_column(self.xp.wrap(flat))
        if self.ri.any():
            idx = self.xp.wrap(g.op("Add", [idx.name, self._i64(self.ri * n_cells, "roff")]))
        return self.xp.wrap(g.op("Gather", [table, idx.name], "scales", axis=0))

    def amplitude_sigma(self) -> Expr:
        """``|f| sqrt(s_re^2 + s_im^2)`` (``|f| s_re`` for a real-only model) (N, C)."""
        def build():
            af = self.xp.abs(self.factor())
            s_re = self._scale_of(0)
            if self.real_only:
                return af * s_re
            s_im = self._scale_of(1)
            return af * self.xp.sqrt(s_re * s_re + s_im * s_im)
        return self._once("asigma", build)

    def sigma(self) -> Expr:
        """The uncertainty of :meth:`y` (module docstring of :mod:`.factorised_uncertainty`)."""
        xp, reg = self.xp, self.reg
        s = self.amplitude_sigma()
        if reg._is_4d():
            if reg.term == "f01":
                return 2.0 * xp.abs(self.tree()[self.cols[0]]) * s
            m_re, m_im = self.amplitudes()
            return 2.0 * xp.sqrt(m_re * m_re + m_im * m_im) * s + s * s
        pr, pi = self.decay_products()
        s_a = xp.sqrt(self._sum9((pr * pr + pi * pi) * (s * s)))
        a = self.tree8() if reg.term == "f01" else self.loop8()
        size = xp.sqrt(a[0] * a[0] + a[1] * a[1])
        if reg.term == "f01":
            return 2.0 * size * s_a
        return 2.0 * size * s_a + s_a * s_a


def _tree9(xp: OnnxMath, x1: Expr, x2: Expr, x3: Expr, x4: Expr, quark: str) -> Expr:
    """The 9 closed-form tree amplitudes (N, 9) at the points (x1..x4 as (N, 1) columns):
    :func:`.tree.tree_production_xp` (one formula for numpy, numba and ONNX), concatenated."""
    cols = tree_production_xp(xp, x1, x2, x3, x4, quark=quark)
    return xp.wrap(xp.graph.op("Concat", [t.name for t in cols], "tree9", axis=1))


def bytes_per_row(reg: Any) -> int:
    """The bytes of the largest per-row intermediates of :func:`factorised_nodes` (float64
    and int64 values): the parts' basis at each mapped point
    (:func:`~zoo.plugins.regressors.piecewise_onnx.basis_bytes`) and per column its basis,
    coefficients and products, real and imaginary."""
    part = reg.parts_[0]
    p = int(np.asarray(part.index_).shape[0])
    n_maps = 1 if reg._is_4d() else len(set(o[1] for o in ORBIT.values()))
    n_cols = 1 if reg._is_4d() else 9
    n_im = 1 if reg._real_only() else 2
    return n_maps * basis_bytes(part) + 8 * n_cols * p * (1 + 2 * n_im)


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
