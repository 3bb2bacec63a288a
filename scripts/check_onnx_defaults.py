"""Acceptance of the ONNX export of every shipped default (issue 15, deliverable 4).

For every label that ``zoo list`` shows by default (the version that no selector loads),
export it through a *non-canonical* member of its symmetry orbit (the resolver's orbit),
then evaluate the ONNX files in a separate python process that does not import ``zoo``
(only numpy and onnxruntime; checked on ``sys.modules``) on random points of the unit
hypercube, faces included (``--faces`` of them within 1e-6..1e-3 of x2 = 0, x2 = 1 or
x1 = 0), and compare with ``zoo.load(label).predict`` on the same points; where the export
has a ``sigma`` output, compare it with ``predict(x, return_uncertainty=True)``'s sigma too:
its maximum relative deviation ``|onnx - zoo| / sigma`` is printed; it passes within
``tol * sigma + 4 eps c |y|`` (c the calibration scale: both sides take the central
difference ``c |(y + s) - (y - s)| / 2``, which rounds at that level where ``s << |y|``).

Deviation: f11 (and other terms) relative, ``|onnx - zoo| / |zoo|``; f01 relative to
``max(f00, |f01|)``: the scale of its metric, the leading order f00 of the same label at the
same point, or |f01| itself where that is larger (near the beam the tree is suppressed and
|f01| / f00 reaches 1e3 and more: rounding of the learned loop amplitude, ~1e-11 of |f01|
there, is then ~1e-8 of f00). The maxima of ``|onnx - zoo| / |y|``, ``|onnx - zoo| / f00``
(f01) and ``|onnx - zoo| / f00_sum`` (the leading order summed over helicities: the scale of
the rounding of models normalised by it) are printed beside it. Where a graph has
an ``f00`` (or ``f00_sum``) input, it is fed the exact leading order that ``zoo`` uses itself
(the model's context, at the label's mapped point).

    python scripts/check_onnx_defaults.py [--n 2000] [--faces 300] [--tol 1e-9] [--json F]

Exit status 1 when a label fails to export or deviates by more than ``--tol`` (y or sigma).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

#: the evaluation in a process without zoo: argv = folder with <i>.onnx and <i>.in.npz
CHILD = r"""
import sys, pathlib
import numpy as np
import onnxruntime as ort
assert "zoo" not in sys.modules
folder = pathlib.Path(sys.argv[1])
for f in sorted(folder.glob("*.onnx")):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(f), opts, providers=["CPUExecutionProvider"])
    with np.load(f.with_suffix(".in.npz"), allow_pickle=False) as data:
        feed = {i.name: data[i.name] for i in sess.get_inputs()}
    names = [o.name for o in sess.get_outputs()]
    outs = dict(zip(names, sess.run(names, feed)))
    np.save(f.with_suffix(".out.npy"), outs["y"], allow_pickle=False)
    if "sigma" in outs:
        np.save(f.with_suffix(".sigma.npy"), outs["sigma"], allow_pickle=False)
print("zoo imported:", "zoo" in sys.modules)
"""


def sample_points(dim: int, n: int, n_faces: int, seed: int) -> np.ndarray:
    """``n`` uniform points of [0,1]^dim, the first ``n_faces`` moved to within 1e-6..1e-3
    (log-uniform) of x2 = 0, x2 = 1 or x1 = 0 (in turn)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, dim))
    d = 10.0 ** rng.uniform(-6, -3, size=n_faces)
    for i in range(n_faces):
        face = i % 3
        if face == 0:
            x[i, 1] = d[i]
        elif face == 1:
            x[i, 1] = 1.0 - d[i]
        else:
            x[i, 0] = d[i]
    return x


def default_labels() -> list[str]:
    """The labels ``zoo list`` shows, each once (the default version is what loads them)."""
    from zoo.api import list_models

    return sorted({e["label"].split("@")[0] for e in list_models()})


def non_canonical(label: str) -> str:
    """A member of the label's orbit other than the canonical one (the label if alone)."""
    from zoo.labels import as_label
    from zoo.resolver import resolver_for

    lab = as_label(label)
    res = resolver_for(lab)
    for orbit in res.orbits:
        if lab.helicity in orbit:
            others = [h for h in orbit if h != lab.helicity]
            return str(lab.with_helicity(others[-1])) if others else label
    return label


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--faces", type=int, default=300)
    ap.add_argument("--tol", type=float, default=1e-9)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--labels", nargs="*", help="default: every label zoo list shows")
    ap.add_argument("--json", help="write the table as JSON here")
    args = ap.parse_args(argv)

    import zoo
    from zoo.runtime.onnx_export import export_amplitude, sigma_status

    labels = args.labels or default_labels()
    rows = []
    with tempfile.TemporaryDirectory(prefix="zoo-onnx-check-") as tmp:
        folder = Path(tmp)
        meta = []
        for i, canon in enumerate(labels):
            label = non_canonical(canon)
            amp = zoo.load(label)
            x = sample_points(amp.dimension, args.n, args.faces, args.seed + i)
            t0 = time.perf_counter()
            try:
                path = export_amplitude(amp, folder / f"{i:02d}.onnx")
            except Exception as exc:  # noqa: BLE001  (reported in the table)
                rows.append({"label": label, "canonical": canon, "ok": False,
                             "error": f"{type(exc).__name__}: {exc}"})
                continue
            t_export = time.perf_counter() - t0
            t0 = time.perf_counter()
            y = amp.predict(x)
            t_zoo = time.perf_counter() - t0
            sig = None
            if sigma_status(amp.model) is None:
                y_u, s_u = amp.predict(x, return_uncertainty=True)
                c = float(amp.model.calibration["calibration_scale"])
                sig = (s_u, 4.0 * np.finfo(np.float64).eps * c * np.abs(y_u))
            xm = amp.resolution.coord_map(x)
            ctx = amp.model.context
            feed = {"x": x}
            import onnx

            names = {i.name for i in onnx.load(str(path)).graph.input}
            if "f00" in names or amp.label.term == "f01":
                f00 = np.asarray(ctx.f00(xm), dtype=np.float64)
                if "f00" in names:
                    feed["f00"] = f00
            if "f00_sum" in names:
                feed["f00_sum"] = np.asarray(ctx.f00_sum(xm), dtype=np.float64)
            np.savez(folder / f"{i:02d}.in.npz", **feed)
            f00_sum = np.asarray(ctx.f00_sum(xm), dtype=np.float64)
            meta.append((i, label, canon, y, f00 if amp.label.term == "f01" else None, f00_sum,
                         sorted(names), t_export, t_zoo, amp.card["regressor"]["name"], sig))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        out = subprocess.run([sys.executable, "-I", "-c", CHILD, str(folder)], env=env,
                             capture_output=True, text=True, cwd=tempfile.gettempdir())
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            return 1
        child_has_zoo = "zoo imported: True" in out.stdout
        for i, label, canon, y, f00, f00_sum, inputs, t_export, t_zoo, reg, sig in meta:
            got = np.load(folder / f"{i:02d}.out.npy", allow_pickle=False)
            s_file = folder / f"{i:02d}.sigma.npy"
            sigma_dev, sigma_ok = None, sig is None  # no uncertainty: nothing to carry
            if s_file.exists() and sig is not None:
                s_got = np.load(s_file, allow_pickle=False)
                s_want, rounding = sig
                d_s = np.abs(s_got - s_want)
                pos = s_want > 0
                sigma_dev = float(np.max(d_s[pos] / s_want[pos])) if pos.any() else 0.0
                sigma_ok = bool(np.isfinite(s_got).all()
                                and (d_s <= args.tol * s_want + rounding).all())
            diff = np.abs(got - y)
            rel = diff / np.abs(y)
            if f00 is not None:
                dev = float(np.max(diff / np.maximum(f00, np.abs(y))))
                scale, rel_f00 = "max(f00,|y|)", float(np.max(diff / f00))
            else:
                dev, scale, rel_f00 = float(np.max(rel)), "|y|", None
            rows.append({"label": label, "canonical": canon, "regressor": reg,
                         "inputs": inputs,
                         "ok": bool(dev <= args.tol and np.isfinite(got).all() and sigma_ok),
                         "sigma_max_rel_dev": sigma_dev, "sigma_ok": sigma_ok,
                         "max_dev": dev, "scale": scale, "max_rel_to_y": float(np.max(rel)),
                         "max_rel_to_f00": rel_f00,
                         "max_rel_to_f00_sum": float(np.max(diff / f00_sum)),
                         "export_s": round(t_export, 2), "zoo_predict_s": round(t_zoo, 2)})
    print(f"{'label (exported as)':34s} {'canonical':28s} {'regressor':16s} {'inputs':12s} "
          f"{'max dev':>9s} {'scale':12s} {'|d|/|y|':>9s} {'|d|/f00':>9s} {'|d|/f00sum':>10s} "
          f"{'sigma dev':>9s}  ok")
    for r in rows:
        if "error" in r:
            print(f"{r['label']:34s} {r['canonical']:28s} EXPORT FAILED: {r['error']}")
            continue
        print(f"{r['label']:34s} {r['canonical']:28s} {r['regressor']:16s} "
              f"{','.join(r['inputs']):12s} {r['max_dev']:9.2e} {r['scale']:12s} "
              f"{r['max_rel_to_y']:9.2e} "
              f"{'-' if r['max_rel_to_f00'] is None else format(r['max_rel_to_f00'], '9.2e'):>9s}"
              f" {r['max_rel_to_f00_sum']:10.2e} "
              f"{'-' if r['sigma_max_rel_dev'] is None else format(r['sigma_max_rel_dev'], '9.2e'):>9s}"
              f"  {'yes' if r['ok'] else 'NO'}")
    print(f"points per label: {args.n} ({args.faces} near the faces); evaluated by onnxruntime "
          f"in a process without zoo (zoo in sys.modules there: {child_has_zoo})")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "n": args.n, "faces": args.faces,
                                               "tol": args.tol}, indent=1))
    return 0 if all(r["ok"] for r in rows) and not child_has_zoo else 1


if __name__ == "__main__":
    sys.exit(main())
