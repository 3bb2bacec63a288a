"""The ONNX graph-building toolkit shared by the core and the plugins.

Plugins give their regressors and transforms an ONNX form by appending nodes to a
:class:`Graph` (see :meth:`zoo.regressor.Regressor.onnx_nodes`,
:meth:`zoo.transform.Transform.onnx_forward` and :meth:`~zoo.transform.Transform.onnx_inverse`);
:mod:`zoo.runtime.onnx_export` composes them into one model. This module holds only the pieces
they share:

* :class:`Graph`: nodes and initializers with unique names, the opsets they use, casts,
  and the embedding of a foreign ONNX graph (a library's own export);
* :class:`ExportContext`: what a transform's ONNX form may need (dimension, invariances,
  extra graph inputs such as ``f00``);
* dtype helpers (:func:`onnx_type`), :func:`activation` and :func:`dense` layers;
* coordinate maps: :func:`signed_permutation` and :func:`apply_map`;
* expressions: :class:`Expr` (a tensor of a graph with the arithmetic operators) and
  :class:`OnnxMath` (a numpy-like namespace: ``sqrt``, ``sin``, ``cos``, ``atan``, ``asin``,
  ``acos``, ``column``, ``stack``, ...), so that numeric code written against an ``xp``
  namespace builds a float64 graph;
* :func:`build_model`: the ModelProto of a graph (nodes no output needs pruned:
  :func:`live_nodes`).

Rewriting a graph to run on passes of rows is :mod:`zoo.runtime.onnx_chunks`.

``onnx`` is imported only when a graph is built.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.errors import UnsupportedModelError

#: the default ONNX operator set of exported graphs
OPSET = 17
#: the ``ai.onnx.ml`` operator set (tree ensembles)
ML_OPSET = 3
#: opset versions of the domains a node may use (:meth:`Graph.op` with ``domain=``)
OPSETS = {"": OPSET, "ai.onnx.ml": ML_OPSET}

__all__ = ["ML_OPSET", "OPSET", "OPSETS", "ExportContext", "Expr", "Graph", "OnnxMath",
           "activation", "apply_map", "build_model", "dense", "live_nodes", "names_read",
           "onnx_type", "signed_permutation"]


def onnx_type(dtype: str | np.dtype) -> int:
    """The ONNX element type of ``float32`` or ``float64``."""
    from onnx import TensorProto

    return {"float32": TensorProto.FLOAT, "float64": TensorProto.DOUBLE}[str(np.dtype(dtype))]


class Graph:
    """A small builder of ONNX nodes and initializers with unique names.

    ``op`` appends a node and returns its output name; ``const`` adds an initializer;
    ``inputs`` are the declared graph inputs (name, dtype, shape, doc) and ``opsets`` the
    operator-set versions by domain that the nodes need.
    """

    def __init__(self, prefix: str = "") -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.inputs: list[tuple[str, str, list[str | int], str]] = []
        self.opsets: dict[str, int] = {"": OPSET}
        self.prefix = prefix
        self._n = 0

    def fresh(self, hint: str) -> str:
        """A new unique name starting with ``hint``."""
        self._n += 1
        return f"{self.prefix}{hint}_{self._n}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        """An initializer holding ``value`` (its dtype kept); returns its name."""
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, *,
           domain: str = "", **attrs: Any) -> str:
        """Append one node ``op_type(inputs, **attrs)``; returns its (single) output."""
        from onnx import helper

        self.use_domain(domain)
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, domain=domain,
                                           **attrs))
        return out

    def use_domain(self, domain: str, version: int | None = None) -> None:
        """Record that nodes of ``domain`` are used (version: :data:`OPSETS` by default)."""
        if domain in self.opsets:
            return
        if version is None:
            if domain not in OPSETS:
                raise UnsupportedModelError(
                    f"operator domain {domain!r} has no known opset version; pass version=")
            version = OPSETS[domain]
        self.opsets[domain] = int(version)

    def cast(self, x: str, dtype: str | np.dtype, hint: str | None = None) -> str:
        """``x`` cast to ``float32`` or ``float64``."""
        return self.op("Cast", [x], hint, to=onnx_type(dtype))

    def input(self, name: str, dtype: str, shape: Sequence[str | int], doc: str = "") -> str:
        """Declare a graph input (once per name); returns ``name``."""
        if all(i[0] != name for i in self.inputs):
            self.inputs.append((name, str(dtype), list(shape), doc))
        return name

    def embed(self, graph: Any, inputs: Sequence[str], hint: str = "sub") -> list[str]:
        """Append a foreign ``onnx.GraphProto`` (e.g. a library's own ONNX export) reading
        ``inputs`` in place of its graph inputs; returns the names of its outputs.

        Its node and initializer names get a fresh prefix; the domains of its nodes are
        recorded (at the versions of :data:`OPSETS`).
        """
        rename = {inp.name: new for inp, new in zip(graph.input, inputs, strict=True)}
        prefix = self.fresh(hint) + "_"
        for init in graph.initializer:
            rename[init.name] = prefix + init.name
            init.name = rename[init.name]
            self.inits.append(init)
        for node in graph.node:
            for i, n in enumerate(node.input):
                node.input[i] = rename.setdefault(n, prefix + n)
            for i, n in enumerate(node.output):
                node.output[i] = rename.setdefault(n, prefix + n)
            node.name = prefix + (node.name or node.op_type)
            self.use_domain(node.domain)
            self.nodes.append(node)
        return [rename[out.name] for out in graph.output]


@dataclass
class ExportContext:
    """What a transform's ONNX form may need beyond the graph.

    ``dimension``: D of the points; ``label``: the canonical label of the model;
    ``context``: the :class:`zoo.transform.Context` of the model (its ``invariances``
    drive the symmetry fold, its ``process`` may give an in-graph f00:
    :meth:`zoo.process.Process.onnx_f00`); ``io_dtype``: the dtype of the graph's inputs and
    output; ``points``: the float64 points of the canonical function (the label's map
    applied, before the chain), set by the export.
    """

    graph: Graph
    dimension: int
    label: str = ""
    context: Any = None
    io_dtype: str = "float64"
    points: str | None = None
    _cast: dict[str, str] = field(default_factory=dict, repr=False)

    def input(self, name: str, doc: str = "", shape: Sequence[str | int] = ("N",)) -> str:
        """Declare the graph input ``name`` (in ``io_dtype``, described by ``doc`` in the
        model's metadata) and return its float64 value inside the graph."""
        self.graph.input(name, self.io_dtype, shape, doc)
        if self.io_dtype == "float64":
            return name
        if name not in self._cast:
            self._cast[name] = self.graph.cast(name, "float64")
        return self._cast[name]


# -- layers -----------------------------------------------------------------------------------
def activation(g: Graph, h: str, name: str, dtype: str | np.dtype) -> str:
    """``relu``, ``tanh``, ``silu`` or exact ``gelu`` of ``h`` in ``dtype``."""
    dtype = np.dtype(dtype)
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


def dense(g: Graph, x: str, weight_t: np.ndarray, bias: np.ndarray | None = None,
          act: str | None = None, dtype: str | np.dtype = "float32") -> str:
    """``act(x @ weight_t + bias)`` in ``dtype`` (``act`` None: linear)."""
    dtype = np.dtype(dtype)
    h = g.op("MatMul", [x, g.const(np.asarray(weight_t).astype(dtype), "w")])
    if bias is not None:
        h = g.op("Add", [h, g.const(np.asarray(bias).astype(dtype), "b")])
    return activation(g, h, act, dtype) if act else h


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


def apply_map(g: Graph, x: str, perm: np.ndarray, reflect: np.ndarray,
              shift: np.ndarray | None = None) -> str:
    """The nodes of a :func:`signed_permutation` applied to float64 points ``x`` (exact)."""
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


# -- expressions ------------------------------------------------------------------------------
class Expr:
    """A float64 tensor of a :class:`Graph` with numpy's arithmetic operators.

    ``+ - * /``, unary minus and ``**`` (integer powers, by repeated multiplication; ``0.5``:
    Sqrt) append the corresponding nodes; python and numpy numbers become float64
    initializers (one per value and namespace); shapes broadcast as in numpy. Build them
    with :class:`OnnxMath`; ``.name`` is the tensor's name in the graph.
    """

    __array_priority__ = 1000  # numpy scalars defer to the reflected operators

    def __init__(self, ns: OnnxMath, name: str) -> None:
        self.ns = ns
        self.name = name

    def __repr__(self) -> str:
        return f"Expr({self.name!r})"

    def _bin(self, op: str, other: Any, reflected: bool = False) -> Expr:
        b = self.ns.as_expr(other)
        a, b = (b, self) if reflected else (self, b)
        return Expr(self.ns, self.ns.graph.op(op, [a.name, b.name]))

    def __add__(self, other: Any) -> Expr:
        return self._bin("Add", other)

    def __radd__(self, other: Any) -> Expr:
        return self._bin("Add", other, True)

    def __sub__(self, other: Any) -> Expr:
        return self._bin("Sub", other)

    def __rsub__(self, other: Any) -> Expr:
        return self._bin("Sub", other, True)

    def __mul__(self, other: Any) -> Expr:
        return self._bin("Mul", other)

    def __rmul__(self, other: Any) -> Expr:
        return self._bin("Mul", other, True)

    def __truediv__(self, other: Any) -> Expr:
        return self._bin("Div", other)

    def __rtruediv__(self, other: Any) -> Expr:
        return self._bin("Div", other, True)

    def __neg__(self) -> Expr:
        return Expr(self.ns, self.ns.graph.op("Neg", [self.name]))

    def __pos__(self) -> Expr:
        return self

    def __pow__(self, n: Any) -> Expr:
        if isinstance(n, (float, np.floating)) and float(n) == 0.5:
            return self.ns.sqrt(self)
        if not (isinstance(n, (int, np.integer)) or (isinstance(n, (float, np.floating))
                                                     and float(n).is_integer())):
            raise UnsupportedModelError(
                f"Expr ** {n!r}: only integer powers and 0.5 are supported; write "
                "xp.exp(p * xp.log(x)) for other exponents")
        k = int(n)
        if k == 0:
            return self * 0.0 + 1.0
        base = self if k > 0 else 1.0 / self
        out, k = None, abs(k)
        while k:  # square and multiply
            if k & 1:
                out = base if out is None else out * base
            k >>= 1
            if k:
                base = base * base
        return out


class OnnxMath:
    """A numpy-like namespace that builds float64 nodes of ``graph`` (see :class:`Expr`).

    ``xp = OnnxMath(g); x = xp.wrap("x"); y = xp.sqrt(xp.column(x, 0)) * 2.0 + 1.0`` appends
    the nodes of ``y``; ``y.name`` is its tensor. Functions: ``sqrt``, ``exp``, ``log``,
    ``abs``, ``sin``, ``cos``, ``tan``, ``atan``, ``asin``, ``acos``, ``minimum``, ``maximum``,
    ``clip``, ``where`` (on a boolean from ``greater``/``less``), ``column``, ``stack``,
    ``reshape``; ``pi`` is a python float as in numpy. Every value is float64.

    ONNX Runtime (CPU; checked with 1.32) has float64 kernels of Sqrt, Exp, Log, Abs, Sin,
    Cos, Tanh, Pow, but Tan, Atan, Asin, Acos (and Erf) in float32 only: ``tan`` is
    ``sin / cos``; the inverse functions start from the float32 kernel and refine with two
    Newton steps on ``sin(v) den - num cos(v) = 0`` (float64 Sin/Cos; quadratic convergence
    from ~1e-7 to the float64 rounding), with ``asin(x) = atan2(x, sqrt((1 - x)(1 + x)))``
    and ``acos(x) = 2 atan2(sqrt(1 - x), sqrt(1 + x))`` (exact at +-1, no loss near them).
    """

    pi = math.pi

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._consts: dict[tuple[float, float], Expr] = {}
        self._const_names: set[str] = set()

    # -- values
    def wrap(self, name: str) -> Expr:
        """The graph tensor ``name`` (float64) as an :class:`Expr`."""
        return Expr(self, name)

    def const(self, value: Any) -> Expr:
        """A float64 constant (scalars cached per value)."""
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim:
            return Expr(self, self.graph.const(arr, "k"))
        key = (float(arr), math.copysign(1.0, float(arr)))  # 0.0 and -0.0 apart
        if key not in self._consts:
            self._consts[key] = Expr(self, self.graph.const(arr, "k"))
            self._const_names.add(self._consts[key].name)
        return self._consts[key]

    def as_expr(self, v: Any) -> Expr:
        """``v`` if an :class:`Expr`, else a float64 constant."""
        if isinstance(v, Expr):
            return v
        if isinstance(v, (int, float, np.number, np.ndarray)) and not isinstance(v, bool):
            return self.const(v)
        raise UnsupportedModelError(f"cannot use {type(v).__name__} {v!r} in an ONNX expression")

    def _un(self, op: str, x: Any) -> Expr:
        return Expr(self, self.graph.op(op, [self.as_expr(x).name]))

    # -- elementwise functions
    def sqrt(self, x: Any) -> Expr:
        return self._un("Sqrt", x)

    def exp(self, x: Any) -> Expr:
        return self._un("Exp", x)

    def log(self, x: Any) -> Expr:
        return self._un("Log", x)

    def abs(self, x: Any) -> Expr:
        return self._un("Abs", x)

    def sin(self, x: Any) -> Expr:
        return self._un("Sin", x)

    def cos(self, x: Any) -> Expr:
        return self._un("Cos", x)

    def tan(self, x: Any) -> Expr:
        """``sin(x) / cos(x)`` (ONNX Runtime has no float64 Tan)."""
        x = self.as_expr(x)
        return self.sin(x) / self.cos(x)

    def minimum(self, a: Any, b: Any) -> Expr:
        return self.as_expr(a)._bin("Min", b)

    def maximum(self, a: Any, b: Any) -> Expr:
        return self.as_expr(a)._bin("Max", b)

    def clip(self, x: Any, lo: Any, hi: Any) -> Expr:
        return self.minimum(self.maximum(x, lo), hi)

    def greater(self, a: Any, b: Any) -> str:
        """The boolean tensor ``a > b`` (its name; for :meth:`where`)."""
        return self.graph.op("Greater", [self.as_expr(a).name, self.as_expr(b).name])

    def less(self, a: Any, b: Any) -> str:
        """The boolean tensor ``a < b`` (its name; for :meth:`where`)."""
        return self.graph.op("Less", [self.as_expr(a).name, self.as_expr(b).name])

    def where(self, cond: str, a: Any, b: Any) -> Expr:
        """``a`` where the boolean tensor ``cond``, else ``b``."""
        return Expr(self, self.graph.op("Where", [cond, self.as_expr(a).name,
                                                  self.as_expr(b).name]))

    def _atan_f32(self, x: Expr) -> Expr:
        from onnx import TensorProto

        g = self.graph
        v = g.op("Atan", [g.op("Cast", [x.name], to=TensorProto.FLOAT)])
        return Expr(self, g.op("Cast", [v], to=TensorProto.DOUBLE))

    def _atan2_pos(self, num: Any, den: Any) -> Expr:
        """``atan2(num, den)`` for ``den >= 0`` (not both 0), float64."""
        num, den = self.as_expr(num), self.as_expr(den)
        v = self._atan_f32(num / den)  # den = 0: +-inf -> +-pi/2 in float32
        for _ in range(2):
            s, c = self.sin(v), self.cos(v)
            v = v - (s * den - num * c) / (c * den + s * num)
        return v

    def atan(self, x: Any) -> Expr:
        return self._atan2_pos(x, 1.0)

    def asin(self, x: Any) -> Expr:
        x = self.as_expr(x)
        return self._atan2_pos(x, self.sqrt((1.0 - x) * (1.0 + x)))

    def acos(self, x: Any) -> Expr:
        x = self.as_expr(x)
        return self._atan2_pos(self.sqrt(1.0 - x), self.sqrt(1.0 + x)) * 2.0

    # -- shapes
    def column(self, x: Any, j: int) -> Expr:
        """Column ``j`` (N,) of a matrix (N, D)."""
        idx = self.graph.const(np.array(int(j), dtype=np.int64), "col")
        return Expr(self, self.graph.op("Gather", [self.as_expr(x).name, idx], "colj", axis=1))

    def stack(self, cols: Sequence[Any], axis: int = 1) -> Expr:
        """Vectors (N,) stacked into (N, k) (``axis=1``) or (k, N) (``axis=0``); a scalar
        constant among them is broadcast to the length of the first vector."""
        exprs = [self.as_expr(c) for c in cols]
        ref = next((e for e in exprs if e.name not in self._const_names), None)
        if ref is None:
            raise UnsupportedModelError("stack needs at least one non-constant vector")
        zero = ref * 0.0
        ax = self.graph.const(np.array([axis], dtype=np.int64), "ax")
        parts = []
        for e in exprs:
            if e.name in self._const_names:
                e = zero + e
            parts.append(self.graph.op("Unsqueeze", [e.name, ax], "unsq"))
        return Expr(self, self.graph.op("Concat", parts, "stack", axis=axis))

    def reshape(self, x: Any, shape: Sequence[int]) -> Expr:
        shp = self.graph.const(np.asarray(shape, dtype=np.int64), "shape")
        return Expr(self, self.graph.op("Reshape", [self.as_expr(x).name, shp], "reshape"))


# -- the model --------------------------------------------------------------------------------
def names_read(node: Any) -> set[str]:
    """The tensors a node reads from its scope, its subgraphs' reads from the outer scope
    included (names a subgraph defines itself, as inputs, initializers or node outputs,
    excluded)."""
    names = {n for n in node.input if n}
    for attr in node.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            local = ({i.name for i in sub.input} | {t.name for t in sub.initializer}
                     | {o for inner in sub.node for o in inner.output})
            for inner in sub.node:
                names |= names_read(inner) - local
    return names


def live_nodes(nodes: list[Any], inits: list[Any], outputs: list[str]) -> tuple[list, list]:
    """The nodes and initializers the ``outputs`` depend on, in their order (builders such
    as :class:`OnnxMath` may leave unused branches: ONNX Runtime would still run them)."""
    need = set(outputs)
    keep = []
    for node in reversed(nodes):
        if any(o in need for o in node.output):
            keep.append(node)
            need |= names_read(node)
    keep.reverse()
    return keep, [t for t in inits if t.name in need]


def build_model(g: Graph, outputs: Iterable[tuple[str, str, list[str | int]]], *,
                inputs: Iterable[tuple[str, str, list[str | int]]] | None = None,
                meta: dict[str, str] | None = None) -> Any:
    """The ModelProto of ``g``: ``inputs`` (default: the graph's declared inputs) and
    ``outputs`` as (name, dtype, shape), the opsets its nodes use, ``meta`` as metadata."""
    from onnx import helper

    ins = [(n, t, s) for n, t, s, _ in g.inputs] if inputs is None else list(inputs)
    outputs = list(outputs)
    nodes, inits = live_nodes(g.nodes, g.inits, [n for n, _, _ in outputs])
    graph = helper.make_graph(
        nodes, "zoo",
        [helper.make_tensor_value_info(n, onnx_type(t), s) for n, t, s in ins],
        [helper.make_tensor_value_info(n, onnx_type(t), s) for n, t, s in outputs],
        initializer=inits,
    )
    opsets = [helper.make_opsetid(d, v) for d, v in g.opsets.items()]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="amplitude-zoo")
    model.ir_version = 8
    for k, v in (meta or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    return model
