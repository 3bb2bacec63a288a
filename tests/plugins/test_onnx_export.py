"""ONNX export with the transform chain and the symmetry map, checked in onnxruntime.

Tolerances (relative to max(|y|, 1e-3 max|y|), on the physical value): float64 networks
1e-10; the piecewise Chebyshev polynomial (float64) 1e-12; float32 networks and trees 2e-5 (the float32 regressor output goes through exp
and the inverse standardisation, which amplify its rounding by ~std of log y).
"""

from __future__ import annotations

import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.model import Model
from zoo.process import CoordinatePermutation
from zoo.transform import Batch, Chain, Context, Transform

D = 3
FLIP = CoordinatePermutation((0, 1, 2), frozenset({0}))
SWAP = CoordinatePermutation((0, 2, 1))


def _compose(a, b):
    return lambda x: b(a(x))


INVARIANCES = [("flip", FLIP), ("swap", SWAP), ("flip then swap", _compose(FLIP, SWAP))]
CONTEXT = Context(label="toy/3d/f11/LL", invariances=INVARIANCES)


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, D))
    a, b, c = x[:, 0], x[:, 1], x[:, 2]
    f00 = 1.0 + (a - 0.5) ** 2 + b * c
    y = f00 * (2.0 + np.cos(3 * (a - 0.5)) * (b + c) + b * c)
    return x, y, f00


def _chain(fold: bool):
    from zoo import plugin_manager

    steps: list[Transform] = [plugin_manager.get("transforms", "f00-normalise")(source="data")]
    if fold:
        steps.append(plugin_manager.get("transforms", "symmetry")(mode="fold"))
    steps += [plugin_manager.get("transforms", "log")(),
              plugin_manager.get("transforms", "standardise")(target="y")]
    return Chain(steps)


def _regressor(kind: str, dtype: str = "float32"):
    from zoo import plugin_manager

    if kind in ("skdnn", "dnn"):
        return plugin_manager.get("regressors", kind)(
            width=16, depth=2, epochs=3, batch_size=128, activation="gelu", dtype=dtype,
            patience=None, seed=1)
    if kind.startswith("pwcheb"):
        # the x0 cell edge at 1/2 is the fold's boundary: one cell holds all folded points
        return plugin_manager.get("regressors", "pwcheb")(
            cells=[2, 1, 1], degree=[4, 3, 3], grading=[1.5, 1.0, 1.0],
            basis="total" if kind == "pwcheb-total" else "tensor")
    if kind == "xgboost":
        return plugin_manager.get("regressors", "xgboost")(
            n_estimators=20, max_depth=4, early_stopping_rounds=None, n_jobs=1)
    return plugin_manager.get("regressors", "catboost")(
        iterations=30, depth=4, early_stopping_rounds=None, thread_count=1)


def _fitted_model(kind: str, fold: bool, dtype: str = "float32") -> Model:
    x, y, f00 = _data()
    chain = _chain(fold)
    batch = chain.fit_forward(Batch(x=x, y=y, f00=f00), CONTEXT)
    reg = _regressor(kind, dtype)
    reg.fit(batch.x, batch.y)
    return Model("toy/3d/f11/LL", reg, chain, context=CONTEXT)


def _run(path, x, f00=None, io_dtype="float64"):
    from zoo.runtime.onnx_export import session

    sess = session(path)
    feed = {"x": x.astype(io_dtype)}
    if f00 is not None:
        feed["f00"] = f00.astype(io_dtype)
    return sess.run(["y"], feed)[0]


def _rel(a, b):
    scale = np.maximum(np.abs(b), 1e-3 * np.max(np.abs(b)))
    return float(np.max(np.abs(a - b) / scale))


@pytest.mark.parametrize(
    "kind,fold,dtype,tol",
    [("skdnn", True, "float32", 2e-5), ("skdnn", False, "float64", 1e-10),
     ("dnn", True, "float32", 2e-5), ("xgboost", True, "float32", 2e-5),
     ("catboost", False, "float32", 2e-5), ("pwcheb", True, "float64", 1e-12),
     ("pwcheb", False, "float64", 1e-12), ("pwcheb-total", True, "float64", 1e-12)],
)
def test_export_matches_model_predict_behind_a_symmetry_map(tmp_path, kind, fold, dtype, tol):
    from zoo.runtime.onnx_export import export_model

    model = _fitted_model(kind, fold, dtype)
    if kind in ("skdnn", "dnn") and dtype == "float64":
        model.regressor.activation = "tanh"
        model.regressor.model_ = model.regressor._new_module(D)  # tanh: exact in ORT float64
    coord_map = _compose(SWAP, FLIP)  # a requested label -> canonical map (not a dataclass)
    x, _, f00 = _data(257, seed=5)
    x[:8, 1] = x[:8, 2]  # ties in the lexicographic fold
    path = export_model(model, tmp_path / "m.onnx", coord_map=coord_map, label="toy/3d/f11/RR")
    got = _run(path, x, f00)
    want = model.predict(coord_map(x), f00)
    assert got.shape == (257,) and got.dtype == np.float64
    assert _rel(got, want) <= tol


def test_float32_io_and_metadata(tmp_path):
    import onnx

    from zoo.runtime.onnx_export import export_model

    model = _fitted_model("xgboost", True)
    path = export_model(model, tmp_path, io_dtype="float32")
    assert path.name == "toy_3d_f11_LL.onnx"
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert "f00" in meta["zoo.inputs"]
    x, _, f00 = _data(50, seed=2)
    got = _run(path, x, f00, io_dtype="float32")
    assert got.dtype == np.float32
    assert _rel(got.astype(np.float64), model.predict(x, f00)) <= 1e-5


def test_chain_without_f00_has_no_f00_input(tmp_path):
    from zoo import plugin_manager
    from zoo.runtime.onnx_export import build_onnx

    x, y, _ = _data()
    chain = Chain([plugin_manager.get("transforms", "standardise")(target="x"),
                   plugin_manager.get("transforms", "asinh")()])
    batch = chain.fit_forward(Batch(x=x, y=y), CONTEXT)
    reg = _regressor("xgboost")
    reg.fit(batch.x, batch.y)
    model = Model("toy/3d/f11/LL", reg, chain, context=CONTEXT)
    proto = build_onnx(model)
    assert [i.name for i in proto.graph.input] == ["x"]
    from zoo.runtime.onnx_export import session

    got = session(proto.SerializeToString()).run(["y"], {"x": x[:40]})[0]
    assert _rel(got, model.predict(x[:40])) <= 2e-5


def test_unsupported_transform_and_map_are_refused():
    from zoo.runtime.inference import UnsupportedModelError
    from zoo.runtime.onnx_export import build_onnx

    class Odd(Transform):
        name = "odd"

        def forward(self, batch, ctx):
            return batch

    model = _fitted_model("xgboost", False)
    bad = Model(model.label, model.regressor, Chain([Odd()]), context=CONTEXT)
    with pytest.raises(UnsupportedModelError, match="transform 'odd'"):
        build_onnx(bad)
    with pytest.raises(UnsupportedModelError, match="axis permutation"):
        build_onnx(model, coord_map=lambda x: x ** 2)
    with pytest.raises(ConfigError, match="io_dtype"):
        build_onnx(model, io_dtype="float16")


def test_exporters_are_registered():
    from zoo import plugin_manager

    assert callable(plugin_manager.get("exporters", "onnx"))
    assert callable(plugin_manager.get("exporters", "bundle"))


def test_exporter_plugins_on_a_loaded_amplitude(tmp_path):
    """The registered exporters on an amplitude published to and loaded from a registry."""
    import tarfile

    from zoo import plugin_manager
    from zoo.api import load, publish

    label = "qqbar-zz-4l/8d/f11/sum"
    rng = np.random.default_rng(0)
    x = rng.random((400, 8))
    f00 = 1.0 + x[:, 0]
    y = f00 * (2.0 + x @ np.linspace(0.1, 0.8, 8))
    chain = _chain(fold=False)
    model = Model(label, _regressor("xgboost"), chain)
    b = chain.fit_forward(Batch(x=x, y=y, f00=f00), model.context)
    model.regressor.fit(b.x, b.y)
    publish(model, registry=tmp_path / "reg", reference_x=x, reference_f00=f00)
    amp = load(label, registry=tmp_path / "reg")
    path = plugin_manager.get("exporters", "onnx")(amp, tmp_path / "amp.onnx")
    got = _run(path, x[:64], f00[:64])
    assert _rel(got, amp.predict(x[:64], f00[:64])) <= 2e-5
    bundle = plugin_manager.get("exporters", "bundle")(amp, tmp_path / "amp.tar.gz")
    assert tarfile.is_tarfile(bundle)


def test_export_of_a_prioritised_fold_and_sqrt_coordinates(tmp_path):
    """symmetry(fold, priority), sqrt-x and angle-x in the exported graph: equal to Model.predict
    to 1e-12 (pwcheb, float64), ties in the fold included."""
    from zoo import plugin_manager
    from zoo.runtime.onnx_export import export_model

    get = plugin_manager.get
    chain = Chain([get("transforms", "f00-normalise")(source="data"),
                   get("transforms", "symmetry")(mode="fold", priority=[2, 1, 0]),
                   get("transforms", "sqrt-x")(columns=[0]),
                   get("transforms", "angle-x")(columns=[1]),
                   get("transforms", "log")(), get("transforms", "standardise")(target="y")])
    x, y, f00 = _data()
    batch = chain.fit_forward(Batch(x=x, y=y, f00=f00), CONTEXT)
    folded = chain.steps[1].forward(Batch(x=x), CONTEXT).x
    assert np.all(folded[:, 2] <= folded[:, 1])  # coordinate 2 is compared first
    reg = get("regressors", "pwcheb")(cells=[1, 1, 2], degree=[4, 3, 3], grading=1.0)
    model = Model("toy/3d/f11/LL", reg.fit(batch.x, batch.y), chain, context=CONTEXT)
    xt, _, ft = _data(257, seed=6)
    xt[:8, 1] = xt[:8, 2]
    path = export_model(model, tmp_path / "p.onnx")
    assert _rel(_run(path, xt, ft), model.predict(xt, ft)) <= 1e-12


def test_transform_onnx_defaults_follow_the_python_inverse():
    """A transform with the default (identity) inverse needs only ``onnx_forward``; one that
    overrides ``inverse`` without ``onnx_inverse`` is refused, naming the method to write."""
    from zoo.errors import UnsupportedModelError
    from zoo.runtime.onnx_export import build_onnx, session

    class Shift(Transform):
        name = "shift"

        def forward(self, batch, ctx):
            return batch.replace(x=batch.x - 0.5)

        def onnx_forward(self, graph, x, ctx):
            return graph.op("Sub", [x, graph.const(np.array(0.5), "half")])

    class Twice(Shift):
        name = "twice"

        def inverse(self, y, batch, ctx):
            return 2.0 * y

    model = _fitted_model("pwcheb", False, "float64")
    x, _, f00 = _data(40, seed=3)
    shifted = Model(model.label, model.regressor, Chain([Shift()]), context=CONTEXT)
    got = session(build_onnx(shifted).SerializeToString()).run(["y"], {"x": x})[0]
    assert _rel(got, shifted.predict(x)) <= 1e-12
    twice = Model(model.label, model.regressor, Chain([Twice()]), context=CONTEXT)
    with pytest.raises(UnsupportedModelError, match=r"transform 'twice'.*onnx_inverse"):
        build_onnx(twice)
