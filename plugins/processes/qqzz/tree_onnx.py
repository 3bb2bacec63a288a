"""The exact leading order f00 = |M_tree|^2 of the 2D and 4D production process in ONNX.

From the closed-form tree (:func:`.tree.tree_production_xp`) through
:class:`zoo.runtime.onnx_graph.OnnxMath`, float64: what :meth:`.production.QQZZ4D.evaluate`
returns for ``f00`` (``M_tree^2``; the tree is real), one helicity or the sum over the 18.
"""

from __future__ import annotations

from zoo.plugins.processes.qqzz.production import HELICITIES, XZ
from zoo.plugins.processes.qqzz.tree import tree_production_xp
from zoo.runtime.onnx_graph import Graph, OnnxMath

__all__ = ["f00_nodes"]


def f00_nodes(g: Graph, x: str, helicity: str, on_shell: bool) -> str:
    """Nodes of f00 (N,) of ``helicity`` (e.g. ``"L-0"``, or ``"sum"``) at the float64 points
    ``x`` (N, 2) on shell (both bosons at MZ), else (N, 4); returns the output's name."""
    xp = OnnxMath(g)
    xs = xp.wrap(x)
    cols = [xp.column(xs, j) for j in range(2 if on_shell else 4)]
    x4 = cols + [XZ, XZ] if on_shell else cols
    if helicity == "sum":
        total = None
        for q in "LR":
            for t in tree_production_xp(xp, *x4, quark=q):
                total = t * t if total is None else total + t * t
        return total.name
    j = HELICITIES.index(helicity)
    t = tree_production_xp(xp, *x4, quark=helicity[0])[j % 9]
    return (t * t).name
