"""ONNX export of a model *with* its transform chain and symmetry map.

The exported graph answers the physical question for the requested label:

    inputs   x    (N, D)  float64 (or float32 with io_dtype="float32"): points of [0,1]^D
             f00  (N,)    same dtype; only when the chain normalises by f00: the
                          leading-order term of the *requested* label at x (an event
                          generator always has it; it is cheap and exact)
    output   y    (N,)    the physical value (e.g. f11 itself, not f11/f00)

Inside: the label's coordinate map onto the canonical function (an axis permutation with
reflections x -> 1 - x and azimuthal half turns x -> x + 1/2 mod 1: Gather, Mul/Sub, Add
and a wrap), the chain's point transforms (symmetry fold as a
lexicographic minimum over the group's images with Equal/CumSum/Less/Where; standardise
of x), the regressor (network layers as MatMul/Add/activations in the trained dtype;
XGBoost as an ``ai.onnx.ml`` TreeEnsembleRegressor built from its JSON dump; CatBoost
through its own ONNX export; the piecewise Chebyshev polynomial in float64 arithmetic), and the inverse target transforms (standardise, exp,
s sinh via exp, times f00) in float64. Transforms or maps without an ONNX form are refused with
an error naming them. ONNX files are data: no code runs when they are loaded.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import ConfigError
from zoo.inference import Dense, NetSpec, UnsupportedModelError, network_spec

OPSET = 17
ML_OPSET = 3
IO_DTYPES = ("float64", "float32")


def _onnx_type(dtype: str | np.dtype) -> int:
    from onnx import TensorProto

    return {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}[str(np.dtype(dtype))]


class _Graph:
    """A tiny builder of ONNX nodes and initializers with unique names."""

    def __init__(self, prefix: str = "") -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.prefix = prefix
        self._n = 0

    def fresh(self, hint: str) -> str:
        self._n += 1
        return f"{self.prefix}{hint}_{self._n}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, *,
           domain: str = "", **attrs: Any) -> str:
        from onnx import helper

        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, domain=domain,
                                           **attrs))
        return out


# -- networks -------------------------------------------------------------------------------
def _activation(g: _Graph, h: str, name: str, dtype: np.dtype) -> str:
    if name == "relu":
        return g.op("Relu", [h])
    if name == "tanh":
        return g.op("Tanh", [h])
    if name == "silu":
        return g.op("Mul", [h, g.op("Sigmoid", [h])], "silu")
    if name == "gelu":  # exact: 0.5 x (1 + erf(x / sqrt 2)), the pattern ORT fuses into Gelu
        from onnx import TensorProto

        c = g.const(np.array(math.sqrt(2.0), dtype=dtype), "sqrt2")
        one = g.const(np.array(1.0, dtype=dtype), "one")
        half = g.const(np.array(0.5, dtype=dtype), "half")
        a = g.op("Div", [h, c])
        if dtype == np.float64:  # ONNX Runtime has no double Erf: erf in float32 (~1e-7)
            a = g.op("Cast", [a], to=TensorProto.FLOAT)
            e = g.op("Cast", [g.op("Erf", [a])], to=TensorProto.DOUBLE)
        else:
            e = g.op("Erf", [a])
        return g.op("Mul", [g.op("Mul", [h, g.op("Add", [e, one])]), half], "gelu")
    raise UnsupportedModelError(f"activation {name!r} has no ONNX form")


def _dense(g: _Graph, d: Dense, x: str, act: str, dtype: np.dtype) -> str:
    h = g.op("MatMul", [x, g.const(d.weight_t.astype(dtype), "w")])
    if d.bias is not None:
        h = g.op("Add", [h, g.const(d.bias.astype(dtype), "b")])
    return _activation(g, h, act, dtype) if d.act else h


def network_nodes(g: _Graph, spec: NetSpec, x: str) -> str:
    """Append the network's nodes reading ``x`` (N, D) in ``spec.dtype``; return (N, 1)."""
    dtype = np.dtype(spec.dtype)
    cur = x
    for item in spec.items:
        if isinstance(item, Dense):
            cur = _dense(g, item, cur, spec.activation, dtype)
            continue
        h = cur
        for layer in item.layers:
            h = _dense(g, layer, h, spec.activation, dtype)
        skip = cur if item.skip_t is None else g.op(
            "MatMul", [cur, g.const(item.skip_t.astype(dtype), "skip")])
        cur = _activation(g, g.op("Add", [h, skip], "res"), spec.activation, dtype)
    return cur


def _model(g: _Graph, inputs: list[tuple[str, str, list]], outputs: list[tuple[str, str, list]],
           ml: bool = False, meta: dict[str, str] | None = None) -> Any:
    from onnx import helper

    graph = helper.make_graph(
        g.nodes, "zoo",
        [helper.make_tensor_value_info(n, _onnx_type(t), s) for n, t, s in inputs],
        [helper.make_tensor_value_info(n, _onnx_type(t), s) for n, t, s in outputs],
        initializer=g.inits,
    )
    opsets = [helper.make_opsetid("", OPSET)]
    if ml:
        opsets.append(helper.make_opsetid("ai.onnx.ml", ML_OPSET))
    model = helper.make_model(graph, opset_imports=opsets, producer_name="amplitude-zoo")
    model.ir_version = 8
    for k, v in (meta or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    return model


def network_model(spec: NetSpec) -> Any:
    """A stand-alone graph ``x (N, D) -> y (N, 1)`` of the network (used by the engine)."""
    g = _Graph()
    y = network_nodes(g, spec, "x")
    g.nodes[-1].output[0] = "y"
    if g.nodes[-1].name == y:
        g.nodes[-1].name = "y"
    return _model(g, [("x", spec.dtype, ["N", spec.n_features])],
                  [("y", spec.dtype, ["N", 1])])


# -- trees ------------------------------------------------------------------------------------
def _parse_base_score(text: Any) -> float:
    if isinstance(text, int | float):
        return float(text)
    vals = [float(v) for v in str(text).strip("[]").split(",") if v.strip()]
    if len(vals) != 1:
        raise UnsupportedModelError(f"XGBoost models with {len(vals)} base scores are not supported")
    return vals[0]


def xgboost_nodes(g: _Graph, booster: Any, x32: str) -> str:
    """A TreeEnsembleRegressor of an XGBoost booster (gbtree, squared error); (N, 1) float."""
    doc = json.loads(bytes(booster.save_raw("json")))
    learner = doc["learner"]
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree":
        raise UnsupportedModelError(f"XGBoost booster {gb.get('name')!r} (only gbtree) has no ONNX export")
    objective = learner.get("objective", {}).get("name", "reg:squarederror")
    if objective not in ("reg:squarederror", "reg:squaredlogerror", "reg:pseudohubererror"):
        raise UnsupportedModelError(f"XGBoost objective {objective!r} has no ONNX export")
    base = _parse_base_score(learner["learner_model_param"]["base_score"])
    a: dict[str, list] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true",
        "target_treeids", "target_nodeids", "target_ids", "target_weights")}
    for t, tree in enumerate(gb["model"]["trees"]):
        left, right = tree["left_children"], tree["right_children"]
        feat, cond, dleft = tree["split_indices"], tree["split_conditions"], tree["default_left"]
        for nid in range(len(left)):
            a["nodes_treeids"].append(t)
            a["nodes_nodeids"].append(nid)
            leaf = left[nid] == -1
            a["nodes_featureids"].append(0 if leaf else int(feat[nid]))
            a["nodes_values"].append(0.0 if leaf else float(np.float32(cond[nid])))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LT")
            a["nodes_truenodeids"].append(0 if leaf else int(left[nid]))
            a["nodes_falsenodeids"].append(0 if leaf else int(right[nid]))
            a["nodes_missing_value_tracks_true"].append(0 if leaf else int(dleft[nid]))
            if leaf:
                a["target_treeids"].append(t)
                a["target_nodeids"].append(nid)
                a["target_ids"].append(0)
                a["target_weights"].append(float(cond[nid]))
    return g.op("TreeEnsembleRegressor", [x32], "xgb", domain="ai.onnx.ml", n_targets=1,
                aggregate_function="SUM", base_values=[base], post_transform="NONE", **a)


def catboost_nodes(g: _Graph, model: Any, x32: str) -> str:
    """CatBoost's own ONNX export, embedded with prefixed names; returns (N, 1) float."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="zoo-cb-") as tmp:
        path = os.path.join(tmp, "cb.onnx")
        model.save_model(path, format="onnx")
        sub = onnx.load(path)
    graph = sub.graph
    rename = {graph.input[0].name: x32}
    prefix = g.fresh("cb") + "_"
    for init in graph.initializer:
        rename[init.name] = prefix + init.name
        init.name = rename[init.name]
        g.inits.append(init)
    for node in graph.node:
        for i, n in enumerate(node.input):
            node.input[i] = rename.setdefault(n, prefix + n)
        for i, n in enumerate(node.output):
            node.output[i] = rename.setdefault(n, prefix + n)
        node.name = prefix + (node.name or node.op_type)
        g.nodes.append(node)
    y = rename[graph.output[0].name]
    return g.op("Reshape", [y, g.const(np.array([-1, 1], dtype=np.int64), "shape")], "cb_y")


def pwcheb_nodes(g: _Graph, reg: Any, x64: str) -> str:
    """The piecewise Chebyshev regressor in float64: (N, 1).

    Per axis: the cell index is the number of inner edges <= x (the regressor's
    ``searchsorted`` clipped to the grid), the local coordinate ``u`` in [-1, 1], and
    T_0..T_deg(u) by the recurrence; then the tensor basis (N, P) times the coefficients of
    each point's cell, summed. It materialises (N, P): feed batches of ~10^4 rows.
    """
    from onnx import TensorProto

    flat = None
    design = None
    for j, edges in enumerate(reg.edges_):
        xj = g.op("Gather", [x64, g.const(np.array(j, dtype=np.int64), "axis_j")], "xj", axis=1)
        inner = g.const(np.asarray(edges[1:-1], dtype=np.float64).reshape(1, -1), "inner")
        xcol = g.op("Unsqueeze", [xj, g.const(np.array([1], dtype=np.int64), "ax1")], "xcol")
        ge = g.op("Cast", [g.op("GreaterOrEqual", [xcol, inner])], "ge", to=TensorProto.INT64)
        k = g.op("ReduceSum", [ge, g.const(np.array([1], dtype=np.int64), "ax1")], "k",
                 keepdims=0)
        e = g.const(np.asarray(edges, dtype=np.float64), "edges")
        lo = g.op("Gather", [e, k], "lo", axis=0)
        hi = g.op("Gather", [e, g.op("Add", [k, g.const(np.array(1, dtype=np.int64), "one")])],
                  "hi", axis=0)
        u = g.op("Div", [g.op("Sub", [g.op("Mul", [xj, g.const(np.array(2.0), "two")]),
                                      g.op("Add", [lo, hi])]),
                         g.op("Sub", [hi, lo])], "u")
        deg = int(reg.degrees_[j])
        ones = g.op("Add", [g.op("Mul", [u, g.const(np.array(0.0), "zero")]),
                            g.const(np.array(1.0), "one_f")], "t0")
        ts = [ones, u][: deg + 1]
        for _ in range(2, deg + 1):
            ts.append(g.op("Sub", [g.op("Mul", [g.op("Mul", [u, g.const(np.array(2.0), "two")]),
                                                ts[-1]]), ts[-2]], "tk"))
        cols = [g.op("Unsqueeze", [t, g.const(np.array([1], dtype=np.int64), "ax1")])
                for t in ts]
        table = g.op("Concat", cols, "tcheb", axis=1) if len(cols) > 1 else cols[0]
        basis = g.op("Gather", [table, g.const(reg.index_[:, j].astype(np.int64), "idx")],
                     "bj", axis=1)
        design = basis if design is None else g.op("Mul", [design, basis], "design")
        n_cells = g.const(np.array(len(edges) - 1, dtype=np.int64), "ncells")
        flat = k if flat is None else g.op("Add", [g.op("Mul", [flat, n_cells]), k], "flat")
    coef = g.op("Gather", [g.const(np.asarray(reg.coef_, dtype=np.float64), "coef"), flat],
                "cellcoef", axis=0)
    return g.op("ReduceSum", [g.op("Mul", [design, coef]),
                              g.const(np.array([1], dtype=np.int64), "ax1")], "pw_y", keepdims=1)


def regressor_nodes(g: _Graph, regressor: Any, x64: str) -> tuple[str, bool]:
    """The regressor's nodes from float64 points; returns ((N, 1) float64 name, uses_ml)."""
    name = getattr(regressor, "name", type(regressor).__name__)
    from onnx import TensorProto

    if name in ("skdnn", "dnn"):
        spec = network_spec(regressor)
        xin = x64 if spec.dtype == "float64" else g.op("Cast", [x64], to=TensorProto.FLOAT)
        y = network_nodes(g, spec, xin)
        ml = False
    elif name in ("xgboost", "catboost"):
        x32 = g.op("Cast", [x64], "x32", to=TensorProto.FLOAT)
        if name == "xgboost":
            y = xgboost_nodes(g, regressor.booster_, x32)
        else:
            y = catboost_nodes(g, regressor.model_, x32)
        ml = True
    elif name == "pwcheb":
        y, ml = pwcheb_nodes(g, regressor, x64), False
    else:
        raise UnsupportedModelError(
            f"regressor {name!r} has no ONNX export (skdnn, dnn, xgboost, catboost and pwcheb "
            "have one); evaluate it with zoo.load(...).predict, or export another version of "
            "the label (zoo list LABEL shows them: zoo export LABEL@N)")
    return g.op("Cast", [y], "y64", to=TensorProto.DOUBLE), ml


# -- coordinate maps ----------------------------------------------------------------------------
def signed_permutation(coord_map: Any, dimension: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(perm, reflect, shift)``: ``y[:, i] = x[:, perm[i]]``, then ``1 - y`` where reflect,
    then ``y + 1/2`` (minus 1 where that reaches 1) where shift.

    These are the maps of the processes' symmetries (axis exchanges, reflections, azimuthal
    half turns) and of their compositions. Read from a
    :class:`zoo.process.CoordinatePermutation`, else found column by column on random
    points (composed maps of the resolver; exact up to rounding away from the cell
    boundaries). None for the identity; :class:`UnsupportedModelError` for other maps.
    """
    from zoo.process import CoordinatePermutation

    shift = np.zeros(dimension, dtype=bool)
    if isinstance(coord_map, CoordinatePermutation):
        perm = np.array(coord_map.perm, dtype=np.int64)
        reflect = np.array([i in coord_map.reflect for i in range(dimension)])
    else:
        pts = np.random.default_rng(7).uniform(0.01, 0.99, size=(64, dimension))
        got = np.asarray(coord_map(pts), dtype=np.float64)
        perm = np.full(dimension, -1, dtype=np.int64)
        reflect = np.zeros(dimension, dtype=bool)
        for i in range(dimension):
            for j, r, sh in itertools.product(range(dimension), (False, True), (False, True)):
                if np.allclose(got[:, i], _column_image(pts[:, j], r, sh), rtol=0, atol=1e-12):
                    perm[i], reflect[i], shift[i] = j, r, sh
                    break
        if sorted(perm.tolist()) != list(range(dimension)):
            raise UnsupportedModelError(
                f"coordinate map {coord_map!r} is not an axis permutation with reflections "
                "x -> 1 - x and half shifts x -> x + 1/2 (mod 1); only such maps can be "
                "exported to ONNX")
    if np.array_equal(perm, np.arange(dimension)) and not reflect.any() and not shift.any():
        return None
    return perm, reflect, shift


def _column_image(x: np.ndarray, reflect: bool, shift: bool) -> np.ndarray:
    y = 1.0 - x if reflect else x
    if shift:
        v = y + 0.5
        y = np.where(v >= 1.0, v - 1.0, v)
    return y


def _apply_map(g: _Graph, x: str, perm: np.ndarray, reflect: np.ndarray,
               shift: np.ndarray | None = None) -> str:
    from onnx import TensorProto

    y = g.op("Gather", [x, g.const(perm, "perm")], "perm", axis=1)
    if reflect.any():
        # y -> a - s * y with (a, s) = (1, 1) on reflected axes, (0, -1) elsewhere: exact
        a = g.const(reflect.astype(np.float64), "refl_a")
        s = g.const(np.where(reflect, 1.0, -1.0), "refl_s")
        y = g.op("Sub", [a, g.op("Mul", [y, s])], "refl")
    if shift is not None and shift.any():
        # v = y + 1/2 on shifted axes, minus 1 where v >= 1 (as the processes compute it)
        mask = g.const(shift.astype(np.float64), "shift_mask")
        v = g.op("Add", [y, g.const(0.5 * shift.astype(np.float64), "half")], "shifted")
        wrap = g.op("Cast", [g.op("GreaterOrEqual", [v, g.const(np.array(1.0), "one")])],
                    to=TensorProto.DOUBLE)
        y = g.op("Sub", [v, g.op("Mul", [wrap, mask])], "wrapped")
    return y


def _fold(g: _Graph, x: str, maps: list[tuple[np.ndarray, ...]],
          priority: list[int] | None = None) -> str:
    """Lexicographic minimum of each row over {x} and its images (like symmetry fold),
    comparing the coordinates in the order ``priority`` (default: natural)."""
    from onnx import TensorProto

    best = x
    zero = g.const(np.array(0.0), "zero")
    axis = g.const(np.array(1, dtype=np.int64), "axis")
    order = None if priority is None else g.const(np.asarray(priority, dtype=np.int64), "prio")

    def ordered(v: str) -> str:
        return v if order is None else g.op("Gather", [v, order], axis=1)

    for spec in maps:
        gx = _apply_map(g, x, *spec)
        gxo, besto = ordered(gx), ordered(best)
        differ = g.op("Not", [g.op("Equal", [gxo, besto])], "differ")
        before = g.op("CumSum", [g.op("Cast", [differ], to=TensorProto.DOUBLE), axis], exclusive=1)
        first = g.op("And", [differ, g.op("Equal", [before, zero])], "first")
        hit = g.op("And", [first, g.op("Less", [gxo, besto])], "hit")
        smaller = g.op("ReduceMax", [g.op("Cast", [hit], to=TensorProto.DOUBLE)], axes=[1],
                       keepdims=1)
        best = g.op("Where", [g.op("Greater", [smaller, zero]), gx, best], "fold")
    return best


def _angle(g: _Graph, x: str) -> str:
    """``(2 / pi) arcsin(sqrt(x))`` in float64 (ONNX Runtime has Asin in float32 only): with
    ``a = min(x, 1 - x)``, ``v = arcsin(sqrt(a))`` from the float32 Asin refined by two Newton
    steps on ``sin(v) = sqrt(a)`` (cos v >= 1/sqrt 2 there: quadratic convergence to ~1e-16),
    then ``v`` or ``pi / 2 - v``."""
    from onnx import TensorProto

    half = g.const(np.array(0.5), "half")
    a = g.op("Min", [x, g.op("Sub", [g.const(np.array(1.0), "one"), x])])
    s = g.op("Sqrt", [a])
    v = g.op("Cast", [g.op("Asin", [g.op("Cast", [s], to=TensorProto.FLOAT)])],
             to=TensorProto.DOUBLE)
    for _ in range(2):
        v = g.op("Sub", [v, g.op("Div", [g.op("Sub", [g.op("Sin", [v]), s]), g.op("Cos", [v])])])
    upper = g.op("Sub", [g.const(np.array(np.pi / 2), "halfpi"), v])
    v = g.op("Where", [g.op("Greater", [x, half]), upper, v])
    return g.op("Mul", [v, g.const(np.array(2.0 / np.pi), "twopi")], "anglex")


# -- the whole model --------------------------------------------------------------------------
def build_onnx(model: Any, *, coord_map: Any = None, io_dtype: str = "float64",
               label: str | None = None) -> Any:
    """The ONNX ModelProto of ``model`` (a :class:`zoo.model.Model`) behind ``coord_map``."""
    from onnx import TensorProto

    if io_dtype not in IO_DTYPES:
        raise ConfigError(f"io_dtype must be one of {IO_DTYPES}, got {io_dtype!r}")
    dim = int(model.dimension)
    g = _Graph()
    x = "x" if io_dtype == "float64" else g.op("Cast", ["x"], "x64", to=TensorProto.DOUBLE)
    if coord_map is not None:
        sp = signed_permutation(coord_map, dim)
        if sp is not None:
            x = _apply_map(g, x, *sp)
    inverses: list[tuple[str, Any]] = []
    needs_f00, f00_name = False, "f00"
    for step in model.chain.steps:
        name = step.name
        if name == "f00-normalise":
            needs_f00 = True
            f00_name = "f00_sum" if getattr(step, "helicity", "label") == "sum" else "f00"
            inverses.append(("f00", None))
        elif name == "symmetry":
            if step.mode == "fold" and model.context.invariances:
                maps = [signed_permutation(m, dim) for _, m in model.context.invariances]
                x = _fold(g, x, [m for m in maps if m is not None],
                          getattr(step, "priority", None))
        elif name in ("sqrt-x", "angle-x"):
            mask = np.zeros(dim, dtype=bool)
            mask[[int(c) for c in np.atleast_1d(step.columns)]] = True
            xc = g.op("Clip", [x, g.const(np.array(0.0), "lo"), g.const(np.array(1.0), "hi")])
            v = _angle(g, xc) if name == "angle-x" else g.op("Sqrt", [xc])
            x = g.op("Where", [g.const(mask, "cmask"), v, x], "coordx")
        elif name == "log":
            inverses.append(("exp", None))
        elif name == "asinh":
            inverses.append(("sinh", float(step.get_state()["scale"][0])))
        elif name == "standardise":
            st = step.get_state()
            if step.target == "x":
                x = g.op("Div", [g.op("Sub", [x, g.const(st["mean"], "mean")]),
                                 g.const(st["std"], "std")], "stdx")
            else:
                inverses.append(("affine", (float(st["mean"][0]), float(st["std"][0]))))
        else:
            raise UnsupportedModelError(
                f"transform {name!r} of {model.label} has no ONNX form; export a model whose "
                "chain uses f00-normalise, symmetry, sqrt-x, angle-x, log, asinh and standardise only")
    y, ml = regressor_nodes(g, model.regressor, x)
    y = g.op("Reshape", [y, g.const(np.array([-1], dtype=np.int64), "flat")], "yflat")
    for kind, arg in reversed(inverses):
        if kind == "affine":
            mean, std = arg
            y = g.op("Add", [g.op("Mul", [y, g.const(np.array(std), "ystd")]),
                             g.const(np.array(mean), "ymean")], "unstd")
        elif kind == "exp":
            y = g.op("Exp", [y])
        elif kind == "sinh":
            # s * sinh(v) = (s / 2) (e^v - e^-v): ONNX Runtime has no double Sinh
            e = g.op("Exp", [y])
            y = g.op("Mul", [g.op("Sub", [e, g.op("Reciprocal", [e])]),
                             g.const(np.array(0.5 * arg), "half_scale")], "unasinh")
        else:
            f00 = f00_name if io_dtype == "float64" else g.op("Cast", [f00_name],
                                                              to=TensorProto.DOUBLE)
            y = g.op("Mul", [y, f00], "times_f00")
    if io_dtype == "float32":
        y = g.op("Cast", [y], to=TensorProto.FLOAT)
    g.nodes.append(_identity_node(y, "y"))
    inputs = [("x", io_dtype, ["N", dim])]
    if needs_f00:
        inputs.append((f00_name, io_dtype, ["N"]))
    f00_doc = {"f00": "; f00 (N,) leading-order term of the requested label at x",
               "f00_sum": "; f00_sum (N,) leading-order term summed over all helicities at x"}
    meta = {
        "zoo.label": label or model.label,
        "zoo.canonical_label": model.label,
        "zoo.inputs": "x (N, D) points of [0,1]^D" + (f00_doc[f00_name] if needs_f00 else ""),
        "zoo.output": "y (N,) physical value of the requested label",
        "zoo.transforms": json.dumps(model.chain.describe(), default=str),
        "zoo.regressor": getattr(model.regressor, "name", "?"),
    }
    onnx_model = _model(g, inputs, [("y", io_dtype, ["N"])], ml=ml, meta=meta)
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


__all__ = ["build_onnx", "export_amplitude", "export_model", "network_model", "session",
           "signed_permutation"]

