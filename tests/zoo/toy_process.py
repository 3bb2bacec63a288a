"""A small process with known symmetries, to test the resolver without the real physics.

Helicities LL, LR, RL, RR on [0,1]^3; generators:
  flip: x1 -> 1 - x1 with LL<->RR, LR<->RL
  swap: x2 <-> x3    with LR<->RL (LL, RR fixed)
Orbits {LL, RR} and {LR, RL}: 2 independent functions out of 4.
"""

from __future__ import annotations

import numpy as np

from zoo.hookspecs import hookimpl
from zoo.process import CoordinatePermutation, Process, Symmetry


def _u(a, b, c):
    return 1.0 + a + 2.0 * b + 3.0 * c + a * b


def _w(a, b, c):
    return 2.0 + np.sin(3 * a) + b * b + 0.5 * c + a * c


def _v(a, b, c):
    return _w(a, b, c) + _w(1 - a, c, b)


class ToyProcess(Process):
    """Toy process (3D, four helicities) used to test label resolution."""

    name = "toy"
    dimension = 3
    helicities = ("LL", "LR", "RL", "RR")
    terms = ("f00", "f11")
    version = "1"

    def evaluate(self, x, terms=None):
        x = self.check_x(x)
        a, b, c = x[:, 0], x[:, 1], x[:, 2]
        ll = _u(a, b, c) + _u(a, c, b)
        rr = _u(1 - a, b, c) + _u(1 - a, c, b)
        lr = _v(a, b, c)
        rl = _v(a, c, b)
        f = np.stack([ll, lr, rl, rr], axis=1)
        out = {"f00": f, "f11": f * f * (1.0 + 0.1 * (b + c)[:, None])}
        return {t: out[t] for t in (terms or self.terms)}

    def symmetries(self):
        return [
            Symmetry("flip", {"LL": "RR", "RR": "LL", "LR": "RL", "RL": "LR"},
                     CoordinatePermutation((0, 1, 2), frozenset({0}))),
            Symmetry("swap", {"LL": "LL", "RR": "RR", "LR": "RL", "RL": "LR"},
                     CoordinatePermutation((0, 2, 1))),
        ]


class ToyPlugin:
    """Registers the toy process (a plugin object, as a third-party module would be)."""

    @staticmethod
    @hookimpl
    def zoo_register_processes(register):
        register(ToyProcess())
