"""q qbar -> Z Z -> l- l+ l'- l'+ in 8D: exact tree and one-loop QCD amplitudes (DKS).

Functions ``f_term,h(x)`` for ``x`` in [0,1]^8 (map: :mod:`.kinematics`), terms
``f00 = |A_tree|^2``, ``f01 = 2 Re(conj(A_tree) A_1loop)``, ``f11 = |A_1loop|^2`` of the
coupling-stripped amplitudes of :mod:`.amplitudes` (finite part: DKS V with its poles
dropped, ``mu = 91.1876`` GeV by default), helicities (quark line, lepton line of boson 1,
lepton line of boson 2):

====  =========  ======================
col   helicity   label order (DKS labels)
====  =========  ======================
0     LLL        1 2 3 4 5 6
1     RLL        2 1 3 4 5 6
2     LRL        1 2 4 3 5 6
3     RRL        2 1 4 3 5 6
4     LLR        1 2 3 4 6 5
5     RLR        2 1 3 4 6 5
6     LRR        1 2 4 3 6 5
7     RRR        2 1 4 3 6 5
====  =========  ======================

(the column order and label permutations of the reference data's ``label_order``).

Symmetry generators (``f_h(x) = f_sigma(h)(phi(x))``, each checked numerically to 1e-12 on
f00, f01, f11 in ``tests/plugins/test_qqzz_physics.py``):

* ``quark-antiquark``: k1 <-> k2 (flips the quark line): x2 -> 1 - x2, x6 -> x6 + 1/2,
  x8 -> x8 + 1/2 (mod 1) (rotation by pi about the x axis);
* ``boson-exchange``: (k3, k4) <-> (k6, k5) (swaps the two lepton lines):
  x2 -> 1 - x2, x3 <-> x4, x5 <-> x7, x6 <-> x8 (rotation by pi about z);
* ``lepton-antilepton-1``: k3 <-> k4 (flips lepton line 1): x5 -> 1 - x5, x6 -> x6 + 1/2;
* ``lepton-antilepton-2``: k5 <-> k6 (flips lepton line 2): x7 -> 1 - x7, x8 -> x8 + 1/2;
* ``parity``: all helicities flipped, x6 -> 1 - x6, x8 -> 1 - x8 (space inversion times a
  rotation by pi about y = the mirror y -> -y).

The helicity relabellings act transitively on the 8 configurations, so there is
**1 independent function** per term: every column is f_LLL at mapped coordinates. The
group they generate also contains genuine symmetries of each column, e.g.
``f_h(x) = f_h(x2, x5, x7 -> 1 - x, x6, x8 -> 1 - x)`` (CP). A mirror alone
(x6 -> 1 - x6, x8 -> 1 - x8 at fixed helicity) is **not** a symmetry of f01 and f11: it
conjugates the spinor products but not the absorptive parts of the loop functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zoo.errors import NumericalError, UnknownLabelError
from zoo.plugins.processes.qqzz import amplitudes as amp
from zoo.process import SUM, CoordinatePermutation, Process, Symmetry

_TERMS = ("f00", "f01", "f11")
_CHUNK = 4096


def _flip(h: str, which: Sequence[int]) -> str:
    out = list(h)
    for i in which:
        out[i] = "R" if out[i] == "L" else "L"
    return "".join(out)


def _shift_half(
    x: np.ndarray, cols: Sequence[int], reflect: Sequence[int] = (), perm=None
) -> np.ndarray:
    y = np.array(x, dtype=np.float64, copy=True)
    if perm is not None:
        y = y[:, list(perm)]
    for c in reflect:
        y[:, c] = 1.0 - y[:, c]
    for c in cols:
        v = y[:, c] + 0.5
        y[:, c] = np.where(v >= 1.0, v - 1.0, v)
    return y


def quark_antiquark_map(x: np.ndarray) -> np.ndarray:
    """x2 -> 1 - x2, x6 -> x6 + 1/2, x8 -> x8 + 1/2 (mod 1)."""
    return _shift_half(x, (5, 7), reflect=(1,))


def lepton1_map(x: np.ndarray) -> np.ndarray:
    """x5 -> 1 - x5, x6 -> x6 + 1/2 (mod 1)."""
    return _shift_half(x, (5,), reflect=(4,))


def lepton2_map(x: np.ndarray) -> np.ndarray:
    """x7 -> 1 - x7, x8 -> x8 + 1/2 (mod 1)."""
    return _shift_half(x, (7,), reflect=(6,))


#: the closed-form 8D f00 (:meth:`QQZZ8D.function`) serves points whose condition number
#: (sum of |terms|)^2 / f00 is at most this; on the deep-edges reference set the form meets
#: criterion (b) up to 1e8 (err/tol <= 0.024) and misses it only from ~6e12 on
F00_CLOSED_FORM_COND = 1e6


class QQZZ8D(Process):
    """q qbar -> ZZ -> 4 leptons, exact tree and one-loop QCD helicity amplitudes (DKS), 8D.

    Momenta (all outgoing, (E, px, py, pz) GeV): k1 = -incoming antiquark, k2 = -incoming
    quark (along +z), k3/k4 lepton/antilepton of boson 1, k5/k6 antilepton/lepton of boson 2.
    Spinor phases: :mod:`zoo.plugins.processes.qqzz.spinors` (only phase-free f's are
    returned). Scheme: DKS finite part, ``V_fin = -L^2/2 + 3L/2 - 7/2``,
    ``L = ln(-s12/mu^2)``, ``s12 -> s12 + i0``; ``mu`` GeV (default 91.1876). Numerically
    unstable entries are detected and recomputed in extended precision (compiled
    double-double, :mod:`.ddamp`; MPFR at the threshold-and-beam corner): :meth:`evaluate`
    from the exact kinematics of x (:func:`amplitudes.amplitudes_x`),
    :meth:`evaluate_momenta` from the given momenta (:func:`amplitudes.amplitudes`).
    """

    name = "qqbar-zz-4l"
    dimension = 8
    helicities = amp.HELICITIES
    terms = _TERMS
    version = "1.0.0"

    def __init__(
        self,
        mu: float = amp.MU_DEFAULT,
        *,
        rescue: bool = True,
        chunk: int = _CHUNK,
        dd: bool = True,
    ) -> None:
        """``rescue``: stability test and extended-precision rescue; ``dd``: the rescue in
        compiled double-double where it suffices (:mod:`.ddamp`; ``False``: MPFR/mpmath for
        every rescued point, the pre-dd behaviour, ~100x slower per rescued point)."""
        self.mu = float(mu)
        self.rescue = bool(rescue)
        self.chunk = int(chunk)
        self.dd = bool(dd)
        self.last_rescue: list[amp.RescueInfo] = []

    # -- amplitudes -----------------------------------------------------------------
    def amplitudes_from_momenta(
        self, k: np.ndarray, *, loop: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Complex amplitudes ``(A_tree, A_1loop)`` (N, 8) at momenta ``k`` (N, 6, 4), taken
        as exact (stability test and mpmath rescue of :func:`amplitudes.amplitudes`)."""
        k = np.asarray(k, dtype=np.float64)
        return self._chunked(
            k,
            loop,
            lambda kc: amp.amplitudes(
                kc, mu=self.mu, loop=loop, rescue=self.rescue, dps=amp.DPS_BASE if self.dd else 33
            ),
        )

    def amplitudes(
        self, x: np.ndarray, *, loop: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Complex amplitudes ``(A_tree, A_1loop)`` (N, 8) at points ``x`` (N, 8), as functions
        of x: near the faces and where the double-precision result is unstable they are
        computed from the exact kinematics of x (:func:`amplitudes.amplitudes_x`)."""
        x = self.check_x(x)
        return self._chunked(
            x,
            loop,
            lambda xc: amp.amplitudes_x(
                xc, mu=self.mu, loop=loop, rescue=self.rescue, dd=self.dd
            ),
        )

    def function(self, x: np.ndarray, term: str, helicity: str) -> np.ndarray:
        """One function ``f_term,helicity(x)`` (N,), ``helicity='sum'`` for the sum.

        f00 (what the guard of f01 models takes as its scale) comes from the closed form:
        the production tree of :mod:`.tree` times the decay functions of the leptons
        (:func:`.factorised_fast.f00_8d`, ~0.4 us per point and configuration against
        ~1.2 us for :meth:`evaluate`, one thread); within 3.4e-12 of :meth:`evaluate` on
        uniform and face points and within criterion (b) of the exact-kinematics reference
        values (``tests/plugins/test_qqzz_exact_x.py``). Points where that form is
        ill-conditioned (:data:`F00_CLOSED_FORM_COND`: near a zero of the 8D tree, where the
        reference check fails from ~6e12 on) or degenerate (x1 = 0, x2 = 0 or 1 exactly)
        take :meth:`evaluate`, so they behave as before. Other terms: :meth:`evaluate`.
        """
        if term != "f00":
            return super().function(x, term, helicity)
        from zoo.plugins.processes.qqzz.factorisation import _SIGMA
        from zoo.plugins.processes.qqzz.factorised_fast import f00_8d

        x = np.ascontiguousarray(self.check_x(x), dtype=np.float64)
        cols = range(len(self.helicities)) if helicity == SUM else [
            self.helicity_index(helicity)]
        out = np.zeros(x.shape[0])
        redo = (x[:, 0] == 0.0) | (x[:, 1] == 0.0) | (x[:, 1] == 1.0)
        for c in cols:
            h = self.helicities[c]
            value, cond = f00_8d(x, 0 if h[0] == "L" else 1, _SIGMA[h[1]], _SIGMA[h[2]])
            out += value
            redo |= ~(cond <= F00_CLOSED_FORM_COND)
        if redo.any():
            out[redo] = super().function(x[redo], term, helicity)
        return out

    def _chunked(self, a: np.ndarray, loop: bool, fn) -> tuple[np.ndarray, np.ndarray | None]:
        n = a.shape[0]
        tree = np.empty((n, 8), dtype=np.complex128)
        one = np.empty((n, 8), dtype=np.complex128) if loop else None
        self.last_rescue = []
        for lo in range(0, n, self.chunk):
            hi = min(n, lo + self.chunk)
            t, l1, info = fn(a[lo:hi])
            tree[lo:hi] = t
            if loop:
                one[lo:hi] = l1
            self.last_rescue.append(info)
        if not np.isfinite(tree).all() or (loop and not np.isfinite(one).all()):
            row = int(
                np.flatnonzero(
                    ~np.isfinite(tree).all(axis=1)
                    | (~np.isfinite(one).all(axis=1) if loop else False)
                )[0]
            )
            raise NumericalError(
                f"non-finite amplitude at row {row} (a degenerate phase-space point, e.g. a "
                "boson exactly along the beam); move the point off the boundary"
            )
        return tree, one

    def evaluate_momenta(
        self, k: np.ndarray, terms: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """``{term: (N, 8) float64}`` at momenta ``k`` (N, 6, 4) (taken as exact: criterion
        (a) of the reference data)."""
        terms = self._terms(terms)
        loop = any(t != "f00" for t in terms)
        tree, one = self.amplitudes_from_momenta(k, loop=loop)
        return amp.squared(tree, one, terms)

    def evaluate(self, x: np.ndarray, terms: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """``{term: (N, 8) float64}`` at points ``x`` (N, 8) of [0,1]^8: the functions of x
        (criterion (b) of the reference data, 1e-9 relative, everywhere in the open
        hypercube; see :func:`amplitudes.amplitudes_x`)."""
        x = self.check_x(x)
        terms = self._terms(terms)
        loop = any(t != "f00" for t in terms)
        tree, one = self.amplitudes(x, loop=loop)
        return amp.squared(tree, one, terms)

    def _terms(self, terms: Sequence[str] | None) -> tuple[str, ...]:
        if terms is None:
            return _TERMS
        terms = tuple(terms)
        for t in terms:
            if t not in _TERMS:
                raise UnknownLabelError(
                    f"process {self.name!r} has no term {t!r}; choose one of {', '.join(_TERMS)}"
                )
        return terms

    # -- symmetries -----------------------------------------------------------------
    def symmetries(self) -> list[Symmetry]:
        hs = self.helicities
        return [
            Symmetry(
                "quark-antiquark",
                {h: _flip(h, (0,)) for h in hs},
                quark_antiquark_map,
                "k1 <-> k2: x2 -> 1-x2, x6 -> x6+1/2, x8 -> x8+1/2 (mod 1); flips the quark line",
            ),
            Symmetry(
                "boson-exchange",
                {h: h[0] + h[2] + h[1] for h in hs},
                CoordinatePermutation((0, 1, 3, 2, 6, 7, 4, 5), frozenset({1})),
                "(k3,k4) <-> (k6,k5): x2 -> 1-x2, x3 <-> x4, x5 <-> x7, x6 <-> x8",
            ),
            Symmetry(
                "lepton-antilepton-1",
                {h: _flip(h, (1,)) for h in hs},
                lepton1_map,
                "k3 <-> k4: x5 -> 1-x5, x6 -> x6+1/2 (mod 1); flips lepton line 1",
            ),
            Symmetry(
                "lepton-antilepton-2",
                {h: _flip(h, (2,)) for h in hs},
                lepton2_map,
                "k5 <-> k6: x7 -> 1-x7, x8 -> x8+1/2 (mod 1); flips lepton line 2",
            ),
            Symmetry(
                "parity",
                {h: _flip(h, (0, 1, 2)) for h in hs},
                CoordinatePermutation(tuple(range(8)), frozenset({5, 7})),
                "all helicities flipped: x6 -> 1-x6, x8 -> 1-x8",
            ),
        ]
