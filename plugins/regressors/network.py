"""Feed-forward networks as plain arrays, and their ONNX graph (the torch regressors).

:func:`network_spec` extracts the weights of a fitted ``skdnn``/``dnn`` regressor once
into a :class:`NetSpec` (dense layers and residual blocks, in the trained dtype); the
fast path (:mod:`.network_fast`) and the ONNX form (:func:`onnx_nodes`, layers as
MatMul/Add/activations of :mod:`zoo.runtime.onnx_graph`) are built from it. torch and onnx are
imported only when used.

Uncertainty: an ensemble (``n_members`` > 1) gives one :class:`NetSpec` per member
(:func:`network_specs`); a gaussian head is a second output column, and ``column`` picks
the value (0) or log sigma^2 (1) so that the value's fast path computes one column only.
:func:`onnx_uncertainty_nodes` builds sigma from the same member subgraphs as
:func:`onnx_nodes` (shared when both are appended to one graph).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from zoo.errors import UnsupportedModelError
from zoo.runtime.onnx_graph import Graph, activation, build_model, dense

from .common import onnx_mean, onnx_variance

__all__ = ["Dense", "NetSpec", "Residual", "ensemble_model", "network_model", "network_nodes",
           "network_spec", "network_specs", "onnx_nodes", "onnx_uncertainty_nodes"]


# -- network description ------------------------------------------------------------------
@dataclass(frozen=True)
class Dense:
    """``y = x @ weight_t + bias``, followed by the activation when ``act``."""

    weight_t: np.ndarray  # (n_in, n_out), C-contiguous
    bias: np.ndarray | None  # (n_out,)
    act: bool


@dataclass(frozen=True)
class Residual:
    """``y = act(h3(act(h2(act(h1(x))))) + x @ skip_t)``; ``skip_t`` None is the identity."""

    layers: tuple[Dense, ...]
    skip_t: np.ndarray | None


@dataclass(frozen=True)
class NetSpec:
    """A feed-forward network as plain arrays, in its computing dtype."""

    items: tuple[Dense | Residual, ...]
    activation: str
    dtype: str
    n_features: int

    @property
    def n_parameters(self) -> int:
        n = 0
        for item in self.items:
            dense = item.layers if isinstance(item, Residual) else (item,)
            for d in dense:
                n += d.weight_t.size + (0 if d.bias is None else d.bias.size)
            if isinstance(item, Residual) and item.skip_t is not None:
                n += item.skip_t.size
        return n

    @property
    def width(self) -> int:
        return max(d.weight_t.shape[1] for d in self.dense_layers())

    def dense_layers(self) -> list[Dense]:
        out: list[Dense] = []
        for item in self.items:
            out.extend(item.layers if isinstance(item, Residual) else (item,))
        return out


def _activation_name(module: Any) -> str | None:
    from torch import nn

    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, nn.GELU):
        if module.approximate != "none":
            raise UnsupportedModelError("GELU(approximate='tanh') is not supported; use 'none'")
        return "gelu"
    if isinstance(module, nn.SiLU):
        return "silu"
    if isinstance(module, nn.Tanh):
        return "tanh"
    return None


def _is_skip_network(module: Any) -> bool:
    """The sk-DNN layout (``inp`` = Linear + activation, ``blocks`` of skip blocks with
    ``h``, ``g``, ``skip``, a linear ``out``), recognised by its parts so that this module
    does not import the torch models that import it."""
    blocks = getattr(module, "blocks", None)
    return (hasattr(module, "inp") and hasattr(module, "out") and blocks is not None
            and all(hasattr(b, "h") and hasattr(b, "g") and hasattr(b, "skip")
                    for b in blocks))


def _fitted_module(regressor: Any) -> Any:
    from torch import nn

    module = getattr(regressor, "model_", None)
    if module is None or not isinstance(module, nn.Module):
        raise UnsupportedModelError(
            f"{type(regressor).__name__} has no fitted torch network (model_); fit or load it"
        )
    return module


def _member_modules(module: Any) -> list[Any]:
    """The networks of an ensemble (a module with a ``members`` list), else ``[module]``."""
    from torch import nn

    members = getattr(module, "members", None)
    return list(members) if isinstance(members, nn.ModuleList) else [module]


def network_specs(regressor: Any, column: int = 0) -> list[NetSpec]:
    """One :class:`NetSpec` per network of a fitted torch regressor (one, or the members of
    an ensemble), each with the output ``column`` only (0: the value)."""
    return [_select_column(module_spec(m), column)
            for m in _member_modules(_fitted_module(regressor))]


def network_spec(regressor: Any, column: int = 0) -> NetSpec:
    """Extract the weights of a fitted torch regressor (``skdnn``/``dnn``) once (one
    network; an ensemble has :func:`network_specs`)."""
    specs = network_specs(regressor, column)
    if len(specs) != 1:
        raise UnsupportedModelError(
            f"{type(regressor).__name__} is an ensemble of {len(specs)} networks; "
            "use network_specs")
    return specs[0]


def n_outputs(spec: NetSpec) -> int:
    """Columns of the network's output."""
    last = spec.items[-1]
    return (last.layers[-1] if isinstance(last, Residual) else last).weight_t.shape[1]


def _select_column(spec: NetSpec, column: int) -> NetSpec:
    """``spec`` with its final dense layer cut to output ``column`` (N, 1)."""
    last = spec.items[-1]
    if not isinstance(last, Dense) or last.act:
        raise UnsupportedModelError("the network does not end in a linear output layer")
    if not 0 <= column < last.weight_t.shape[1]:
        raise UnsupportedModelError(
            f"the network has {last.weight_t.shape[1]} output(s); no column {column}")
    if last.weight_t.shape[1] == 1:
        return spec
    cut = Dense(np.ascontiguousarray(last.weight_t[:, column : column + 1]),
                None if last.bias is None else last.bias[column : column + 1].copy(), False)
    return replace(spec, items=(*spec.items[:-1], cut))


def module_spec(module: Any) -> NetSpec:
    """The :class:`NetSpec` of one torch network (all its output columns)."""
    from torch import nn

    acts: set[str] = set()

    def dense(lin: nn.Linear, act: bool) -> Dense:
        w = lin.weight.detach().to("cpu").numpy()
        b = None if lin.bias is None else lin.bias.detach().to("cpu").numpy().copy()
        return Dense(np.ascontiguousarray(w.T), b, act)

    def note(m: nn.Module) -> None:
        name = _activation_name(m)
        if name is None:
            raise UnsupportedModelError(f"layer {type(m).__name__} has no fast path")
        acts.add(name)

    items: list[Dense | Residual] = []
    if _is_skip_network(module):
        note(module.inp[1])
        items.append(dense(module.inp[0], True))
        for blk in module.blocks:
            h = blk.h
            note(h[1])
            note(blk.g)
            skip = None if isinstance(blk.skip, nn.Identity) else np.ascontiguousarray(
                blk.skip.weight.detach().to("cpu").numpy().T)
            items.append(Residual((dense(h[0], True), dense(h[2], True), dense(h[4], False)), skip))
        items.append(dense(module.out, False))
    elif isinstance(module, nn.Sequential):
        mods = list(module)
        i = 0
        while i < len(mods):
            lin = mods[i]
            if not isinstance(lin, nn.Linear):
                raise UnsupportedModelError(f"unexpected layer {type(lin).__name__} in the MLP")
            act = i + 1 < len(mods) and not isinstance(mods[i + 1], nn.Linear)
            if act:
                note(mods[i + 1])
            items.append(dense(lin, act))
            i += 2 if act else 1
    else:
        raise UnsupportedModelError(f"network {type(module).__name__} has no fast path")
    if len(acts) > 1:
        raise UnsupportedModelError(f"mixed activations {sorted(acts)} are not supported")
    first = items[0].layers[0] if isinstance(items[0], Residual) else items[0]
    dtype = str(first.weight_t.dtype)
    return NetSpec(tuple(items), acts.pop() if acts else "relu", dtype, first.weight_t.shape[0])


# -- ONNX ------------------------------------------------------------------------------------
def _dense(g: Graph, d: Dense, x: str, act: str, dtype: np.dtype) -> str:
    return dense(g, x, d.weight_t, d.bias, act if d.act else None, dtype)


def network_nodes(g: Graph, spec: NetSpec, x: str) -> str:
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
        cur = activation(g, g.op("Add", [h, skip], "res"), spec.activation, dtype)
    return cur


def network_model(spec: NetSpec) -> Any:
    """A stand-alone graph ``x (N, D) -> y (N, 1)`` of the network (used by the fast path)."""
    g = Graph()
    y = network_nodes(g, spec, "x")
    g.nodes[-1].output[0] = "y"
    if g.nodes[-1].name == y:
        g.nodes[-1].name = "y"
    return build_model(g, [("y", spec.dtype, ["N", 1])],
                       inputs=[("x", spec.dtype, ["N", spec.n_features])])


def ensemble_model(specs: list[NetSpec]) -> Any:
    """A stand-alone graph ``x (N, D) -> y (N, 1)`` float64, the mean of the member networks
    (the fast path of an ensemble; the input in the members' dtype)."""
    g = Graph()
    outs = [g.cast(network_nodes(g, spec, "x"), "float64") for spec in specs]
    mean = onnx_mean(g, outs)
    g.nodes.append(_identity(mean, "y"))
    spec = specs[0]
    return build_model(g, [("y", "float64", ["N", 1])],
                       inputs=[("x", spec.dtype, ["N", spec.n_features])])


def _identity(x: str, y: str) -> Any:
    from onnx import helper

    return helper.make_node("Identity", [x], [y], name=y)


#: member outputs already appended to a graph, per (regressor, input): onnx_nodes and
#: onnx_uncertainty_nodes of one regressor share them
_MEMBER_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _member_outputs(regressor: Any, g: Graph, x: str) -> list[tuple[str, str | None]]:
    """Append each network once: ``(value, log sigma^2 or None)`` per member, (N, 1) in the
    trained dtype (the points cast to float32 for a float32 network)."""
    cache = _MEMBER_CACHE.setdefault(g, {})
    key = (id(regressor), x)
    produced = {out for node in g.nodes for out in node.output}
    hit = cache.get(key)
    if hit is not None and all(v in produced for pair in hit for v in pair if v is not None):
        return hit
    specs = [module_spec(m) for m in _member_modules(_fitted_module(regressor))]
    xin = x if specs[0].dtype == "float64" else g.cast(x, "float32")
    result: list[tuple[str, str | None]] = []
    for spec in specs:
        out = network_nodes(g, spec, xin)
        if n_outputs(spec) == 1:
            result.append((out, None))
            continue
        cols = []
        for c in range(2):
            idx = [g.const(np.array([v], dtype=np.int64), h)
                   for v, h in ((c, "start"), (c + 1, "end"), (1, "axis"))]
            cols.append(g.op("Slice", [out, *idx], ("value", "logvar")[c]))
        result.append((cols[0], cols[1]))
    cache[key] = result
    return result


def onnx_nodes(regressor: Any, g: Graph, x: str) -> str:
    """The network of a fitted torch regressor reading float64 points ``x``: (N, 1) in the
    trained dtype (the points are cast to float32 for a float32 network); an ensemble's
    mean in float64."""
    members = _member_outputs(regressor, g, x)
    if len(members) == 1:
        return members[0][0]
    return onnx_mean(g, [g.cast(v, "float64") for v, _ in members])


def onnx_uncertainty_nodes(regressor: Any, g: Graph, x: str) -> str:
    """sigma of :meth:`TorchRegressor.predict_uncertainty` as (N, 1) float64: the members'
    Bessel-corrected variance plus the mean of exp(log sigma^2), square-rooted."""
    members = _member_outputs(regressor, g, x)
    k = len(members)
    if k == 1 and members[0][1] is None:
        raise UnsupportedModelError(
            f"{type(regressor).__name__} has no uncertainty (n_members=1, no gaussian head); "
            "export without the sigma output")
    terms = []
    if k > 1:
        values = [g.cast(v, "float64") for v, _ in members]
        terms.append(onnx_variance(g, values, onnx_mean(g, values)))
    if members[0][1] is not None:
        var = [g.op("Exp", [g.cast(lv, "float64")], "var") for _, lv in members]
        terms.append(onnx_mean(g, var))
    total = terms[0] if len(terms) == 1 else g.op("Add", terms, "var_total")
    return g.op("Sqrt", [total], "sigma")
