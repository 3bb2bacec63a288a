"""``sqrt-x``: square roots of chosen input coordinates, ``x_j -> sqrt(x_j)``.

At a two-body threshold the amplitudes depend on the momentum ``p ~ sqrt(s - (m1 + m2)^2)``,
i.e. on ``sqrt(x1)`` for ``x1`` that vanishes linearly at threshold (the processes here):
terms odd in ``p`` make a function non-analytic in ``x1`` at 0, which a polynomial in ``x1``
resolves only slowly. In ``u = sqrt(x1)`` they are polynomials again (even terms ``x1^k =
u^(2k)`` stay analytic). Points are expected in [0, 1]; the target is untouched (inverse is
the identity). Apply after ``symmetry`` (whose maps act on the original coordinates).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from zoo.errors import ConfigError, InputError
from zoo.transform import Batch, Context, Transform


class SqrtCoordinates(Transform):
    """``x_j -> sqrt(x_j)`` for ``j`` in ``columns`` (0-based)."""

    name: ClassVar[str] = "sqrt-x"

    def __init__(self, columns: list[int] = (0,)):
        self.columns = columns

    def _columns(self, d: int) -> list[int]:
        cols = [int(c) for c in np.atleast_1d(self.columns)]
        if not cols or any(c < 0 or c >= d for c in cols) or len(set(cols)) != len(cols):
            raise ConfigError(f"sqrt-x: columns {self.columns!r} must be distinct indices in "
                              f"0..{d - 1} of the {d} input coordinates")
        return cols

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        x = np.array(batch.x, dtype=np.float64, copy=True)
        cols = self._columns(x.shape[1])
        if np.any(x[:, cols] < 0.0):
            raise InputError("sqrt-x needs coordinates >= 0 in its columns; points are in [0, 1]")
        x[:, cols] = np.sqrt(x[:, cols])
        return batch.replace(x=x)

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        return y
