"""Derivation of the closed-form tree production amplitudes of q qbar -> Z Z
(``plugins/processes/qqzz/tree.py``), with sympy (derivation only; not a runtime dependency).

Steps
1. Kinematics in the partonic c.m. frame (those of :mod:`.kinematics`): incoming quark
   ``p_q = E (1, 0, 0, 1)``, antiquark ``E (1, 0, 0, -1)``, ``E = sqrt(s) / 2``; boson 1
   ``P1 = (E1, p n)``, ``n = (sin theta, 0, cos theta)``; boson 2 ``P2 = (E2, -p n)``.
2. Polarisation vectors in the helicity frames of :mod:`.production`: boson 1 axes
   ``(x', y', n)``, ``x' = (cos theta, 0, -sin theta)``, ``y' = (0, 1, 0)``; boson 2 axes
   ``(x', -y', -n)``; ``eps_{+-} = -+(X +- i Y) / sqrt(2)``, ``eps_0 = (p, E_i n_i) / m_i``
   (Condon-Shortley); the outgoing bosons enter with ``eps^*``.
3. Massless Dirac spinors (chiral basis), ``u(p_q)`` of helicity -1/2 (L) or +1/2 (R) and the
   antiquark spinor ``v`` that gives a non-zero chain; t- and u-channel quark exchange:
   ``T = vbar [eps2* (p_q - P1) eps1* / t + eps1* (p_q - P2) eps2* / u] u``.
4. ``N = t u T``: with ``E1, E2`` rational in ``sqrt(s), m1, m2`` and ``p^2 = lambda / (4 s)``
   eliminated, N is a polynomial in ``sqrt(s), m1, m2, cos theta, sin theta`` without odd
   powers of p. It is checked to equal ``2 n(l1, l2)`` with the factorised forms ``n`` of
   tree.py written in ``c = cos(theta/2)``, ``h = sin(theta/2)`` (``cos theta = c^2 - h^2``,
   ``sin theta = 2 c h``); for R the chains obey ``T_R(l1, l2) = (-1)^(l1 + l2) T_L(-l1, -l2)``.
5. Normalisation and phases (numerically, against the projected tree of :mod:`.production` at
   random points): ``M_proj(L; l1, l2) = n(l1, l2) / (3 m1 m2 t u)`` (the ratio is 1/3 to
   1e-15: the positive factor of production.py's normalisation), and
   ``M_proj(R; l1, l2) = (-1)^(l1 + l2 + 1) M_proj(L; -l1, -l2)``: the quark phase of the
   projected amplitudes relative to these chains is +1 for L and -1 for R.

Run: ``.venv/bin/python scripts/derive_tree.py`` (~1 minute; step 5 needs the package).
"""

from __future__ import annotations

import sympy as sp

E, E1, E2, p, m1, m2, rs = sp.symbols("E E1 E2 p m1 m2 rs", positive=True)
cth, sth, c, h = sp.symbols("cth sth c h", real=True)
IU = sp.I

_s = [sp.Matrix([[0, 1], [1, 0]]), sp.Matrix([[0, -IU], [IU, 0]]), sp.Matrix([[1, 0], [0, -1]])]
_Z, _1 = sp.zeros(2), sp.eye(2)


def _block(a, b, cc, d) -> sp.Matrix:
    return sp.Matrix(sp.BlockMatrix([[a, b], [cc, d]]))


G0 = _block(_Z, _1, _1, _Z)
GI = [_block(_Z, s, -s, _Z) for s in _s]


def slash(v) -> sp.Matrix:
    """``v_mu gamma^mu`` with metric (+, -, -, -)."""
    return v[0] * G0 - v[1] * GI[0] - v[2] * GI[1] - v[3] * GI[2]


def eps(lam: int, axes, energy, mass) -> list:
    """Polarisation vector of helicity ``lam`` in the frame ``axes = (X, Y, Z)``."""
    X, Y, Zf = axes
    if lam == 0:
        return [p / mass] + [energy / mass * v for v in Zf]
    return [0] + [-lam * (X[i] + lam * IU * Y[i]) / sp.sqrt(2) for i in range(3)]


def chains() -> dict:
    """``(t-channel, u-channel)`` Dirac chains for quark L, R and (l1, l2)."""
    n = [sth, 0, cth]
    xp, yp = [cth, 0, -sth], [0, 1, 0]
    ax1 = (xp, yp, n)
    ax2 = (xp, [-v for v in yp], [-v for v in n])
    P1 = [E1] + [p * v for v in n]
    P2 = [E2] + [-p * v for v in n]
    pq = [E, 0, 0, E]
    u = {"L": sp.sqrt(2 * E) * sp.Matrix([0, 1, 0, 0]),
         "R": sp.sqrt(2 * E) * sp.Matrix([0, 0, 1, 0])}
    vs = [sp.sqrt(2 * E) * sp.Matrix([1, 0, 0, 0]), sp.sqrt(2 * E) * sp.Matrix([0, 0, 0, -1])]
    out = {}
    for l1 in (-1, 0, 1):
        for l2 in (-1, 0, 1):
            e1 = [sp.conjugate(v) for v in eps(l1, ax1, E1, m1)]
            e2 = [sp.conjugate(v) for v in eps(l2, ax2, E2, m2)]
            mt = slash(e2) * slash([pq[i] - P1[i] for i in range(4)]) * slash(e1)
            mu = slash(e1) * slash([pq[i] - P2[i] for i in range(4)]) * slash(e2)
            for q, uu in u.items():
                for v in vs:
                    vb = v.H * G0
                    a = sp.expand((vb * mt * uu)[0])
                    b = sp.expand((vb * mu * uu)[0])
                    if a != 0 or b != 0:
                        out[(q, l1, l2)] = (a, b)
    return out


def reduce_numerator(a, b):
    """``N = a u + b t`` as a polynomial in rs, m1, m2, cos, sin (p^2 eliminated)."""
    e1 = (rs**2 + m1**2 - m2**2) / (2 * rs)
    e2 = (rs**2 - m1**2 + m2**2) / (2 * rs)
    t = m1**2 - rs * (e1 - p * cth)
    u = m2**2 - rs * (e2 + p * cth)
    x = sp.expand((a * u + b * t).subs({E1: e1, E2: e2, E: rs / 2}))
    x = sp.expand(x.subs(sth**2, 1 - cth**2))
    lam4s = sp.expand((rs**2 - (m1 + m2) ** 2) * (rs**2 - (m1 - m2) ** 2) / (4 * rs**2))
    out = 0
    for (k,), co in sp.Poly(x, p).terms():
        out += co * lam4s ** (k // 2) * p ** (k % 2)
    return sp.expand(out)


def closed_forms() -> dict:
    """The factorised numerators n(l1, l2) of tree.py (quark L) in c, h."""
    S, A, B = rs**2, m1**2, m2**2
    r2 = sp.sqrt(2)
    return {
        (-1, -1): c * h * (B * (S + A - B) * h**2 - A * (S - A + B) * c**2),
        (-1, 0): -r2 * m2 * rs * c**2 * (A * c**2 - (S - B) * h**2),
        (-1, 1): S * (S - A - B) * h * c**3,
        (0, -1): r2 * m1 * rs * h**2 * (B * h**2 - (S - A) * c**2),
        (0, 0): -2 * m1 * m2 * S * c * h * (c**2 - h**2),
        (0, 1): r2 * m1 * rs * c**2 * ((S - A) * h**2 - B * c**2),
        (1, -1): -S * (S - A - B) * h**3 * c,
        (1, 0): r2 * m2 * rs * h**2 * (A * h**2 - (S - B) * c**2),
        (1, 1): c * h * (A * (S - A + B) * h**2 - B * (S + A - B) * c**2),
    }


def check_symbolic() -> None:
    ch = chains()
    forms = closed_forms()
    half = {cth: c**2 - h**2, sth: 2 * c * h}
    for (q, l1, l2), (a, b) in sorted(ch.items()):
        n = reduce_numerator(a, b)
        assert not n.has(p), (q, l1, l2)
        target = forms[(l1, l2)] if q == "L" else (-1) ** (l1 + l2) * forms[(-l1, -l2)]
        diff = sp.expand(n.subs(half) - 2 * target)
        diff = sp.rem(diff, c**2 + h**2 - 1, c)  # modulo c^2 + h^2 = 1
        assert sp.expand(diff) == 0, (q, l1, l2, sp.factor(diff))
        rel = "2 n(l1, l2)" if q == "L" else "2 (-1)^(l1 + l2) n(-l1, -l2)"
        print(f"{q} ({l1:+d},{l2:+d}): t u T = {rel}")


def check_numeric() -> None:
    """Step 5: the constant and the quark phases against the projected tree."""
    import numpy as np

    from zoo.plugins.processes.qqzz.production import QQZZ4D
    from zoo.plugins.processes.qqzz.tree import tree_production_xp

    x = np.random.default_rng(0).uniform(0.05, 0.95, (20, 4))
    proj, _ = QQZZ4D()._project(x, False)  # the projection of the 8D code
    left = np.stack(tree_production_xp(np, *x.T, "L"), axis=1)  # n / (3 m1 m2 t u)
    ratio = proj[:, :9] / (3.0 * left)  # M_proj / (n / (m1 m2 t u))
    print("M_proj(L) / (n / (m1 m2 t u)): real", float(ratio.real.min()), "..",
          float(ratio.real.max()), "| max |imag|", float(np.abs(ratio.imag).max()))
    sign = proj[:, 9:] / proj[:, :9][:, ::-1]  # M(R; l1, l2) / M(L; -l1, -l2)
    print("M_proj(R; l1, l2) / M_proj(L; -l1, -l2), columns 3 (l1 + 1) + (l2 + 1):",
          np.round(sign.real.mean(axis=0), 12))
    closed = np.concatenate([left, np.stack(tree_production_xp(np, *x.T, "R"), axis=1)], axis=1)
    size = np.sqrt(np.sum(np.abs(proj) ** 2, axis=1, keepdims=True))
    print("max |M_proj - M_closed| / |M| of the point:",
          float(np.max(np.abs(proj - closed) / size)))


if __name__ == "__main__":
    check_symbolic()
    check_numeric()
