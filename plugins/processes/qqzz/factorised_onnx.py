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
from zoo.plugins.regressors.piecewise_onnx import pwcheb_nodes_shared
from zoo.plugins.transforms.coordinates import onnx_angle
from zoo.runtime.onnx_graph import Expr, Graph, OnnxMath

__all__ = ["factorised_nodes"]

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


def factorised_nodes(reg: Any, g: Graph, x: str) -> str:
    """The ONNX nodes of a fitted ``qqzz-factorised`` model ``reg`` reading float64 points
    ``x`` (N, D) (D = 2 on shell, 4, or 8); returns the name of its (N,) output, f11 or f01
    of the model's helicity (module docstring)."""
    xp = OnnxMath(g)
    xs = xp.wrap(x)
    n_in = reg._n_inputs()
    cols = [xp.column(xs, j) for j in range(n_in)]
    x4 = cols[:2] + [XZ, XZ] if reg.on_shell else cols[:4]
    reps = reg._reps()
    real_only = reg._real_only()
    coords: dict[str, Expr] = {}
    parts: dict[tuple[int, str], list[Expr]] = {}

    def part(rep: int, gname: str, imag: bool) -> Expr:
        """The fitted real (imaginary) part of ``rep`` at the mapped points ``g(x4)``."""
        if (rep, gname) not in parts:
            if gname not in coords:
                gx = _LIST_MAPS[gname](x4)
                u = gx[:2] if reg.on_shell else gx
                if reg.angle:
                    u = [u[0], xp.wrap(onnx_angle(g, xp.as_expr(u[1]).name)), *u[2:]]
                coords[gname] = xp.stack(u, axis=1)
            k = reps.index(rep)
            regs = [reg.parts_[k]] + ([] if real_only else [reg.parts_[len(reps) + k]])
            ys = pwcheb_nodes_shared(g, regs, coords[gname].name)
            parts[(rep, gname)] = [xp.reshape(xp.wrap(y), [-1]) for y in ys]
        return parts[(rep, gname)][1 if imag else 0]

    def amplitude(col: int) -> tuple[Expr, Expr | None]:
        rep, gname, sign = ORBIT[col]
        gx = _LIST_MAPS[gname](x4)
        f = sign * angular_factor_xp(xp, gx[1], rep, reg.cos_zero, reg._endpoint_quark()) / production_scale_xp(xp, *gx)
        re = part(rep, gname, False) * f
        return re, (None if real_only else part(rep, gname, True) * f)

    q = reg.helicity[0]
    if reg._is_4d():
        col = reg._column()
        m_re, m_im = amplitude(col)
        if reg.term == "f01":
            tree = tree_production_xp(xp, *x4, quark=q)[col]
            return (2.0 * tree * m_re).name
        return (m_re * m_re + m_im * m_im).name
    if not reg.symmetric or tuple(reps) != REPRESENTATIVES:
        from zoo.errors import UnsupportedModelError

        raise UnsupportedModelError(
            "qqzz-factorised: only symmetric=True 8D models have an ONNX form (every shipped "
            "model is one); refit with symmetric=True")
    d1 = _decay(xp, cols[4], cols[5], _SIGMA[reg.helicity[1]])
    d2 = _decay(xp, cols[6], cols[7], _SIGMA[reg.helicity[2]])
    loop = _decay_sum([amplitude(c) for c in range(9)], d1, d2)
    if reg.term == "f01":
        tree = _decay_sum([(t, None) for t in tree_production_xp(xp, *x4, quark=q)], d1, d2)
        return (2.0 * (tree[0] * loop[0] + tree[1] * loop[1])).name
    return (loop[0] * loop[0] + loop[1] * loop[1]).name
