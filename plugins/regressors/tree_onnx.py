"""ONNX forms of the tree ensembles (``ai.onnx.ml`` TreeEnsembleRegressor, float32 input).

XGBoost: built from the booster's JSON dump (gbtree, squared-error objectives). CatBoost:
its own ONNX export, embedded. xgboost/catboost and onnx are imported only when used.
An ensemble over seeds appends each member once per graph (:func:`member_nodes`), shared
by the value (their mean) and the uncertainty (their standard deviation).
"""

from __future__ import annotations

import json
import os
import tempfile
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from zoo.errors import UnsupportedModelError
from zoo.runtime.onnx_graph import Graph

__all__ = ["catboost_nodes", "member_nodes", "xgboost_nodes"]

#: member outputs already in a graph, per (regressor, input)
_MEMBER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def member_nodes(regressor: Any, g: Graph, x: str,
                 build: Callable[[Graph, int, str], str], n_members: int) -> list[str]:
    """The (N, 1) float64 outputs of the ``n_members`` member ensembles reading float64
    ``x``; ``build(g, k, x32)`` appends member k on the float32 points. Appended once per
    graph and input: a second call (value, then sigma) returns the same names."""
    cache = _MEMBER_CACHE.setdefault(g, {})
    key = (id(regressor), x)
    produced = {out for node in g.nodes for out in node.output}
    hit = cache.get(key)
    if hit is not None and all(name in produced for name in hit):
        return hit
    x32 = g.cast(x, "float32", "x32")
    outs = [g.cast(build(g, k, x32), "float64") for k in range(n_members)]
    cache[key] = outs
    return outs


def _parse_base_score(text: Any) -> float:
    if isinstance(text, int | float):
        return float(text)
    vals = [float(v) for v in str(text).strip("[]").split(",") if v.strip()]
    if len(vals) != 1:
        raise UnsupportedModelError(f"XGBoost models with {len(vals)} base scores are not supported")
    return vals[0]


def xgboost_nodes(g: Graph, booster: Any, x32: str) -> str:
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



def catboost_nodes(g: Graph, model: Any, x32: str) -> str:
    """CatBoost's own ONNX export, embedded with prefixed names; returns (N, 1) float."""
    import onnx

    with tempfile.TemporaryDirectory(prefix="zoo-cb-") as tmp:
        path = os.path.join(tmp, "cb.onnx")
        model.save_model(path, format="onnx")
        sub = onnx.load(path)
    y = g.embed(sub.graph, [x32], "cb")[0]
    return g.op("Reshape", [y, g.const(np.array([-1, 1], dtype=np.int64), "shape")], "cb_y")
