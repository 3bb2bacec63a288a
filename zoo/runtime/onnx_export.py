"""ONNX export of a model *with* its transform chain and symmetry map.

The exported graph answers the physical question for the requested label:

    inputs   x    (N, D)  float64 (or float32 with io_dtype="float32"): points of [0,1]^D
             ...          inputs the transforms declare, same dtype (e.g. ``f00`` (N,), the
                          leading-order term of the *requested* label at x, when the chain
                          normalises by f00 and the process has no ONNX form of it,
                          :meth:`zoo.process.Process.onnx_f00`)
    output   y    (N,)    the physical value (e.g. f11 itself, not f11/f00)
             sigma (N,)   where the regressor has an ONNX uncertainty
                          (:meth:`zoo.regressor.Regressor.onnx_uncertainty_nodes`) and the
                          model is calibrated: the calibrated one-standard-deviation
                          uncertainty of y, propagated like the Python one,
                          ``c |g(y_raw + s) - g(y_raw - s)| / 2`` (:mod:`zoo.runtime.uncertainty`;
                          the inverse chain g is built three times, inputs shared)

The core only composes; every piece comes from its plugin through the plugin interface:
the label's coordinate map onto the canonical function (an axis permutation with
reflections and half shifts, :func:`zoo.runtime.onnx_graph.signed_permutation`), the chain's point
maps in order (:meth:`zoo.transform.Transform.onnx_forward`), the regressor
(:meth:`zoo.regressor.Regressor.onnx_nodes`), then the inverse target maps in reverse order
(:meth:`zoo.transform.Transform.onnx_inverse`), in float64. Pieces without an ONNX form
are refused with :class:`~zoo.errors.UnsupportedModelError` naming them. ONNX files are
data: no code runs when they are loaded. The shared graph-building helpers are in
:mod:`zoo.runtime.onnx_graph`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError, UnsupportedModelError
from zoo.runtime.onnx_chunks import in_chunks
from zoo.runtime.onnx_graph import ExportContext, Graph, apply_map, build_model, signed_permutation

IO_DTYPES = ("float64", "float32")
X_DOC = "x (N, D) points of [0,1]^D"


def sigma_status(model: Any) -> str | None:
    """None when the export of ``model`` can carry a ``sigma`` output, else why not."""
    from zoo.regressor import Regressor

    reg = model.regressor
    name = getattr(reg, "name", type(reg).__name__)
    if not getattr(reg, "has_uncertainty", False):
        return f"the {name} regressor has no per-point uncertainty"
    if type(reg).onnx_uncertainty_nodes is Regressor.onnx_uncertainty_nodes:
        return f"the {name} plugin has no ONNX form of its uncertainty"
    if model.calibration is None:
        return "the uncertainty is not calibrated (run zoo calibrate LABEL)"
    return None


def build_onnx(model: Any, *, coord_map: Any = None, io_dtype: str = "float64",
               label: str | None = None, sigma: bool | None = None) -> Any:
    """The ONNX ModelProto of ``model`` (a :class:`zoo.model.Model`) behind ``coord_map``.

    ``sigma``: add the ``sigma`` output (None: when :func:`sigma_status` allows it and the
    regressor's ``onnx_uncertainty_nodes`` does not refuse; True: insist)."""
    if sigma is None:
        if sigma_status(model) is not None:
            sigma = False
        else:
            try:
                return build_onnx(model, coord_map=coord_map, io_dtype=io_dtype, label=label,
                                  sigma=True)
            except UnsupportedModelError:
                sigma = False
    if sigma and sigma_status(model) is not None:
        raise UnsupportedModelError(f"{model.label}: no sigma output: {sigma_status(model)}")
    if io_dtype not in IO_DTYPES:
        raise ConfigError(f"io_dtype must be one of {IO_DTYPES}, got {io_dtype!r}")
    dim = int(model.dimension)
    g = Graph()
    ctx = ExportContext(g, dim, label=model.label, context=model.context, io_dtype=io_dtype)
    x = "x" if io_dtype == "float64" else g.cast("x", "float64", "x64")
    g.input("x", io_dtype, ["N", dim], X_DOC)
    if coord_map is not None:
        sp = signed_permutation(coord_map, dim)
        if sp is not None:
            x = apply_map(g, x, *sp)
    ctx.points = x
    for step in model.chain.steps:
        x = step.onnx_forward(g, x, ctx)
    y = g.cast(model.regressor.onnx_nodes(g, x), "float64", "y64")
    y = g.op("Reshape", [y, g.const(np.array([-1], dtype=np.int64), "flat")], "yflat")
    branches = [y]
    if sigma:
        s = g.cast(model.regressor.onnx_uncertainty_nodes(g, x), "float64", "s64")
        s = g.op("Reshape", [s, g.const(np.array([-1], dtype=np.int64), "flat")], "sflat")
        branches += [g.op("Add", [y, s], "yplus"), g.op("Sub", [y, s], "yminus")]
    for i, branch in enumerate(branches):
        for step in reversed(model.chain.steps):
            branch = step.onnx_inverse(g, branch, ctx)
        branches[i] = branch
    outputs = [("y", io_dtype, ["N"])]
    y = branches[0]
    if io_dtype == "float32":
        y = g.cast(y, "float32")
    g.nodes.append(_identity_node(y, "y"))
    meta = {
        "zoo.label": label or model.label,
        "zoo.canonical_label": model.label,
        "zoo.inputs": "; ".join(doc for *_, doc in g.inputs if doc),
        "zoo.output": "y (N,) physical value of the requested label",
        "zoo.transforms": json.dumps(model.chain.describe(), default=str),
        "zoo.regressor": getattr(model.regressor, "name", "?"),
    }
    if sigma:
        cal = model.calibration
        half_c = g.const(np.array(0.5 * float(cal["calibration_scale"])), "half_c")
        sig = g.op("Mul", [g.op("Abs", [g.op("Sub", [branches[1], branches[2]])]), half_c],
                   "sigma64")
        if io_dtype == "float32":
            sig = g.cast(sig, "float32")
        g.nodes.append(_identity_node(sig, "sigma"))
        outputs.append(("sigma", io_dtype, ["N"]))
        meta["zoo.output"] += "; sigma (N,) its calibrated one-standard-deviation uncertainty"
        meta["zoo.uncertainty"] = json.dumps(
            {k: cal.get(k) for k in ("calibration_scale", "vouch_k", "scale", "rule",
                                     "coverage_2sigma")}, default=str)
    rows = model.regressor.onnx_max_rows()
    if rows and [i[0] for i in g.inputs] == ["x"]:  # chunks of rows of x: x is the only input
        in_chunks(g, "x", [(n, t) for n, t, _ in outputs], int(rows))
        meta["zoo.rows_per_pass"] = str(int(rows))
    onnx_model = build_model(g, outputs, meta=meta)
    import onnx

    onnx.checker.check_model(onnx_model)
    return onnx_model


def _identity_node(src: str, dst: str) -> Any:
    from onnx import helper

    return helper.make_node("Identity", [src], [dst], name=dst)


def export_model(model: Any, path: str | os.PathLike, *, coord_map: Any = None,
                 io_dtype: str = "float64", label: str | None = None) -> Path:
    """Write ``model`` (behind ``coord_map``) as an ONNX file at ``path``; return it.

    A directory ``path`` gets ``<label with / as _>.onnx`` inside it.
    """
    import onnx

    proto = build_onnx(model, coord_map=coord_map, io_dtype=io_dtype, label=label)
    out = Path(path)
    if out.is_dir():
        out = out / (str(label or model.label).replace("/", "_").replace("@", "_v") + ".onnx")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".tmp-{out.name}")
    onnx.save_model(proto, str(tmp))
    os.replace(tmp, out)
    return out


def export_amplitude(amplitude: Any, path: str | os.PathLike, *, io_dtype: str = "float64"
                     ) -> Path:
    """Export a loaded :class:`zoo.api.Amplitude`: the requested label's physical value."""
    return export_model(amplitude.model, path, coord_map=amplitude.resolution.coord_map,
                        io_dtype=io_dtype, label=str(amplitude.label))


def session(path_or_bytes: str | os.PathLike | bytes, n_threads: int | None = None) -> Any:
    """An ONNX Runtime session for an exported file (CPU)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    if n_threads:
        opts.intra_op_num_threads = int(n_threads)
    src = path_or_bytes if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
    return ort.InferenceSession(src, opts, providers=["CPUExecutionProvider"])


__all__ = ["IO_DTYPES", "UnsupportedModelError", "build_onnx", "export_amplitude",
           "export_model", "session", "sigma_status", "signed_permutation"]

