"""The Chebyshev least-squares regressor: contract, exactness on polynomials, storage."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.errors import ConfigError
from zoo.plugins.regressors.chebyshev import ChebyshevRegressor, multi_indices
from zoo.testing import RegressorContract


class TestChebyshev(RegressorContract):
    max_relative_rms = 1e-3  # measured 2.2e-4 (total degree 6)

    def regressor_factory(self):
        return ChebyshevRegressor(degree=6)


class TestChebyshevTensor(RegressorContract):
    max_relative_rms = 0.08  # measured 0.0315 (tensor degree 3)

    def regressor_factory(self):
        return ChebyshevRegressor(degree=3, basis="tensor")


def test_multi_indices_counts() -> None:
    assert multi_indices(2, 4, "total").shape == (15, 2)
    assert multi_indices(3, 2, "tensor").shape == (27, 3)
    assert multi_indices(2, 4, "total")[0].tolist() == [0, 0]


def test_reproduces_a_polynomial_to_rounding(tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((2000, 2))
    y = 1.0 + 3.0 * x[:, 0] ** 5 - 2.0 * x[:, 0] * x[:, 1] ** 3 + x[:, 1]
    reg = ChebyshevRegressor(degree=6, ridge=0.0).fit(x, y)
    xt = rng.random((500, 2))
    yt = 1.0 + 3.0 * xt[:, 0] ** 5 - 2.0 * xt[:, 0] * xt[:, 1] ** 3 + xt[:, 1]
    assert np.max(np.abs(reg.predict(xt) - yt)) < 1e-10
    files = reg.save(tmp_path)
    assert files == ["chebyshev.safetensors"]
    back = ChebyshevRegressor.load(tmp_path, reg.get_params())
    np.testing.assert_array_equal(back.predict(xt), reg.predict(xt))
    assert back.n_parameters == multi_indices(2, 6, "total").shape[0]


def test_bad_basis_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="basis"):
        ChebyshevRegressor(basis="nope").fit(np.random.default_rng(0).random((50, 2)), np.ones(50))
