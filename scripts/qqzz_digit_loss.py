"""Digits lost by the q qbar -> ZZ -> 4l amplitudes at the exact kinematics of x, per region of
deep_edges_4k: what a compiled extended-precision rescue (double-double = ~32 digits) needs.

For the 3 points of each region closest to the threshold and beam faces, the map and the
amplitudes are evaluated at D digits (gmpy2) and compared with 120 digits (worst entry,
criterion-(b) measure); the column "dd" is the compiled double-double path
(:func:`ddamp.amplitudes_x_dd`) and "dd loss" its estimate :func:`ddamp.dd_loss_digits`
(the dd path is used where it is <= ``amplitudes.DD_MAX_LOSS``). Needs ``../shared/data`` and
gmpy2.

    python scripts/qqzz_digit_loss.py
"""

from __future__ import annotations

from pathlib import Path

import gmpy2
import numpy as np

from zoo.plugins.processes.qqzz import amplitudes as amp
from zoo.plugins.processes.qqzz import ddamp
from zoo.plugins.processes.qqzz.kinematics import x_to_momenta_mp

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqbar_zz_dks_reference"


def evaluate(x: np.ndarray, dps: int) -> dict[str, np.ndarray]:
    """f00, f01, f11 (1, 8) with the map and the amplitudes at ``dps`` digits."""
    k = x_to_momenta_mp(x, dps)
    with gmpy2.context(precision=int(np.ceil(dps * 3.3219)) + 2):
        t, lo = amp.amplitudes_gm_raw(k)
    c = np.vectorize(complex, otypes=[complex])
    return amp.squared(c(t), c(lo))


def rel(o: dict, r: dict) -> float:
    e00 = np.abs(o["f00"] - r["f00"]) / r["f00"]
    e11 = np.abs(o["f11"] - r["f11"]) / r["f11"]
    e01 = np.abs(o["f01"] - r["f01"]) / np.sqrt(r["f00"] * r["f11"])
    return float(np.max(np.maximum(np.maximum(e00, e11), e01)))


def main() -> None:
    d = np.load(DATA / "deep_edges_4k.npz")
    x, cat = d["x"], d["category"]
    b = np.minimum(x[:, 1], 1.0 - x[:, 1])
    print(
        "| region | x1 | min(x2, 1-x2) | error at 32 digits | at 64 | digits needed for 1e-10 "
        "| dd | dd loss |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for reg in range(8):
        ii = np.flatnonzero(cat == reg)
        score = np.log10(x[ii, 0]) + 1.5 * np.log10(b[ii])
        for i in ii[np.argsort(score)[:3]]:
            ref = evaluate(x[i : i + 1], 120)
            errs = {D: rel(evaluate(x[i : i + 1], D), ref) for D in (20, 24, 32, 40, 48, 64)}
            need = min([D for D, e in errs.items() if e < 1e-10], default=None)
            t, lo = ddamp.amplitudes_x_dd(x[i : i + 1])
            e_dd = rel(amp.squared(t, lo), ref)
            loss = ddamp.dd_loss_digits(x[i : i + 1])[0]
            print(
                f"| {reg} | {x[i, 0]:.1e} | {b[i]:.1e} | {errs[32]:.1e} | {errs[64]:.1e} | {need} "
                f"| {e_dd:.1e} | {loss:.1f} |"
            )


if __name__ == "__main__":
    main()
