"""Reusable contract tests for regressor plugins (built-in and third-party).

Subclass :class:`RegressorContract` in a test module and provide
``regressor_factory``, a method (or staticmethod) returning a fresh, small,
fast-to-train, seeded instance::

    from zoo.testing import RegressorContract

    class TestMyRegressor(RegressorContract):
        def regressor_factory(self):
            return MyRegressor(n_estimators=20, seed=0)

The class is collected by pytest through the subclass (its name starts with ``Test``).
The same factory must give the same predictions every time (determinism is tested).

Accuracy: fitted on ``n_train`` = 1000 uniform points of :func:`smooth_function` (targets
standardised), the RMS error on 500 new points, relative to the target's standard deviation
(:func:`relative_rms_error`), must be at most ``max_relative_rms`` (default 0.1, i.e.
R^2 >= 0.99). Built-in families state their measured level and set a bound ~2-3x above it
(tests/plugins/test_regressors.py): a working model passes, one 5x worse fails.
The optional parts of the contract are checked too: the fast path
(:meth:`~zoo.regressor.Regressor.fast_predictor`) must equal ``predict``, and the ONNX form
(:meth:`~zoo.regressor.Regressor.onnx_nodes`) must either equal ``predict`` in ONNX Runtime
or be refused with :class:`~zoo.errors.UnsupportedModelError`; and a per-point uncertainty
(:meth:`~zoo.regressor.Regressor.predict_uncertainty`), where the regressor has one, must
survive save/load and rank the errors (larger where the errors are larger).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from zoo.errors import UnsupportedModelError, ZooError
from zoo.regressor import Regressor

PICKLE_MAGIC = b"\x80"


def smooth_function(x: np.ndarray) -> np.ndarray:
    """A smooth test function on [0, 1]^3 (values of order one)."""
    return (
        np.sin(3.0 * x[:, 0]) * np.exp(-x[:, 1])
        + x[:, 2] ** 2
        + 0.5 * np.cos(2.0 * x[:, 0] * x[:, 2])
    )


def relative_rms_error(pred: np.ndarray, y_test: np.ndarray) -> float:
    """RMS of ``pred - y_test`` over the standard deviation of ``y_test`` (0: exact; 1: no
    better than the mean)."""
    pred, y_test = np.asarray(pred, dtype=np.float64), np.asarray(y_test, dtype=np.float64)
    return float(np.sqrt(np.mean((pred - y_test) ** 2)) / np.std(y_test))


def check_accuracy(pred: np.ndarray, y_test: np.ndarray, max_relative_rms: float) -> float:
    """Raise AssertionError unless ``relative_rms_error(pred, y_test) <= max_relative_rms``;
    return the error."""
    err = relative_rms_error(pred, y_test)
    assert np.isfinite(err) and err <= max_relative_rms, (
        f"relative RMS error {err:.4g} on the contract's reference function exceeds "
        f"{max_relative_rms:g}: the regressor does not learn a smooth 3D function")
    return err


def contract_dataset(
    n_train: int = 1000, n_test: int = 500, seed: int = 1234
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test): uniform 3D points, standardised targets."""
    rng = np.random.default_rng(seed)
    x, x_test = rng.random((n_train, 3)), rng.random((n_test, 3))
    y, y_test = smooth_function(x), smooth_function(x_test)
    mean, std = y.mean(), y.std()
    return x, (y - mean) / std, x_test, (y_test - mean) / std


class RegressorContract:
    """The behaviour every :class:`zoo.regressor.Regressor` plugin must show."""

    #: rows of training and test data
    n_train: int = 1000
    n_test: int = 500
    #: largest RMS test error relative to the target's standard deviation (module doc)
    max_relative_rms: float = 0.1
    #: |fast - predict| <= rtol * max(|predict|, 1), by the regressor's dtype
    fast_rtol: dict[str, float] = {"float32": 1e-5, "float64": 1e-12}  # noqa: RUF012
    #: the same for the ONNX form in ONNX Runtime (float32 arithmetic; ORT has no double Erf)
    onnx_rtol: float = 1e-5

    def regressor_factory(self) -> Regressor:
        """Return a fresh, small, seeded, unfitted regressor (override this)."""
        raise NotImplementedError("subclasses of RegressorContract define regressor_factory")

    # -- fixtures ----------------------------------------------------------------------
    @pytest.fixture(scope="class")
    @classmethod
    def data(cls) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return contract_dataset(cls.n_train, cls.n_test)

    @pytest.fixture(scope="class")
    @classmethod
    def fitted(cls, data) -> dict[str, Any]:
        x, y, x_test, _ = data
        reg = cls().regressor_factory()
        params_before = reg.get_params()
        returned = reg.fit(x, y)
        return {
            "reg": reg,
            "returned": returned,
            "params_before": params_before,
            "pred": reg.predict(x_test),
        }

    # -- tests -------------------------------------------------------------------------
    def test_is_regressor(self) -> None:
        assert isinstance(self.regressor_factory(), Regressor)

    def test_fit_returns_self(self, fitted) -> None:
        assert fitted["returned"] is fitted["reg"]
        assert fitted["reg"].is_fitted

    def test_predict_shape_dtype_finite(self, fitted, data) -> None:
        pred = fitted["pred"]
        assert isinstance(pred, np.ndarray)
        assert pred.shape == (data[2].shape[0],)
        assert pred.dtype == np.float64
        assert np.isfinite(pred).all()
        one = fitted["reg"].predict(data[2][:1])
        assert one.shape == (1,) and one.dtype == np.float64

    def test_accuracy_on_the_reference_function(self, fitted, data) -> None:
        check_accuracy(fitted["pred"], data[3], self.max_relative_rms)

    def test_params_roundtrip_and_json(self, fitted) -> None:
        reg = fitted["reg"]
        params = reg.get_params()
        assert params == fitted["params_before"], "fit must not change hyperparameters"
        assert json.loads(json.dumps(params)) == params
        assert set(params) == set(type(reg)._param_names())
        assert type(reg)(**params).get_params() == params

    def test_unfitted_has_no_learned_state(self) -> None:
        reg = self.regressor_factory()
        assert not reg.is_fitted
        assert reg.n_parameters == 0

    def test_deterministic_under_seed(self, fitted, data) -> None:
        x, y, x_test, _ = data
        again = self.regressor_factory().fit(x, y)
        np.testing.assert_array_equal(again.predict(x_test), fitted["pred"])

    def test_save_load_identical(self, fitted, data, tmp_path: Path) -> None:
        reg = fitted["reg"]
        written = reg.save(tmp_path)
        assert written, "save must return the relative paths it wrote"
        for rel in written:
            assert not Path(rel).is_absolute()
            assert (tmp_path / rel).is_file()
        for path in tmp_path.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    assert fh.read(1) != PICKLE_MAGIC, f"{path} looks like a pickle"
                assert path.suffix not in {".pkl", ".pickle", ".pt", ".pth", ".joblib"}
        loaded = type(reg).load(tmp_path, reg.get_params())
        assert loaded.get_params() == reg.get_params()
        assert loaded.dtype == reg.dtype
        assert loaded.n_parameters == reg.n_parameters
        np.testing.assert_array_equal(loaded.predict(data[2]), fitted["pred"])

    def test_n_parameters_positive(self, fitted) -> None:
        n = fitted["reg"].n_parameters
        assert isinstance(n, int) and n > 0

    def test_dtype(self, fitted) -> None:
        assert fitted["reg"].dtype in ("float32", "float64")

    def test_unfitted_predict_raises(self, data, tmp_path: Path) -> None:
        reg = self.regressor_factory()
        with pytest.raises(ZooError, match="fit"):
            reg.predict(data[2])
        with pytest.raises(ZooError):
            reg.save(tmp_path)

    def test_wrong_dimension_raises(self, fitted, data) -> None:
        with pytest.raises(ZooError):
            fitted["reg"].predict(data[2][:, :2])
        with pytest.raises(ZooError):
            fitted["reg"].predict(np.full((2, 3), np.nan))

    def test_fast_predictor_equals_predict(self, fitted, data) -> None:
        from zoo.runtime.inference import Predictor, fast_predictor

        reg, x_test = fitted["reg"], data[2]
        pred = fast_predictor(reg)
        assert isinstance(pred, Predictor)
        got, want = pred(x_test), fitted["pred"]
        assert got.shape == want.shape and got.dtype == np.float64
        rtol = self.fast_rtol[reg.dtype]
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * max(1.0, np.abs(want).max()))
        assert abs(pred.one(x_test[0]) - want[0]) <= rtol * max(1.0, abs(want[0]))
        np.testing.assert_array_equal(fast_predictor(reg, backend="native")(x_test), want)

    def test_onnx_form_equals_predict_or_is_refused(self, fitted, data) -> None:
        from zoo.runtime.onnx_graph import Graph, build_model

        reg, x_test = fitted["reg"], data[2]
        g = Graph()
        g.input("x", "float64", ["N", x_test.shape[1]])
        try:
            y = reg.onnx_nodes(g, "x")
        except UnsupportedModelError as exc:
            assert "onnx" in str(exc).lower()
            return
        import onnx
        import onnxruntime as ort

        flat = g.const(np.array([-1], dtype=np.int64), "flat")
        y = g.op("Reshape", [g.cast(y, "float64"), flat])
        g.nodes.append(onnx.helper.make_node("Identity", [y], ["y"]))

        proto = build_model(g, [("y", "float64", ["N"])])
        onnx.checker.check_model(proto)
        sess = ort.InferenceSession(proto.SerializeToString(),
                                    providers=["CPUExecutionProvider"])
        got, want = sess.run(["y"], {"x": x_test})[0], fitted["pred"]
        np.testing.assert_allclose(got, want, rtol=0,
                                   atol=self.onnx_rtol * max(1.0, np.abs(want).max()))

    def test_uncertainty_or_refused(self, fitted, data, tmp_path: Path) -> None:
        """Optional: a regressor with an uncertainty returns (predict(x), s >= 0 finite),
        keeps it through save/load, and s grows with the error more than it shrinks:
        where the 10% largest s are, the mean error must exceed its mean where the 10%
        smallest are. Without one it says so (has_uncertainty False, a refusal)."""
        reg, x_test, y_test = fitted["reg"], data[2], data[3]
        if not reg.has_uncertainty:
            with pytest.raises(UnsupportedModelError):
                reg.predict_uncertainty(x_test)
            return
        y, s = reg.predict_uncertainty(x_test)
        assert y.shape == s.shape == (len(x_test),) and s.dtype == np.float64
        np.testing.assert_allclose(y, fitted["pred"], rtol=1e-12, atol=0)
        assert np.isfinite(s).all() and (s >= 0).all()
        reg.save(tmp_path)
        again = type(reg).load(tmp_path, reg.get_params())
        assert again.has_uncertainty
        np.testing.assert_allclose(again.predict_uncertainty(x_test)[1], s, rtol=1e-6)
        err = np.abs(y - y_test)
        order = np.argsort(s)
        tenth = max(1, len(s) // 10)
        assert err[order[-tenth:]].mean() > err[order[:tenth]].mean()
