"""The torch networks: sk-DNN (residual MLP of Bishara, Paul, Dy) and a plain MLP."""

from __future__ import annotations

from torch import Tensor, nn

from .torch_training import TorchRegressor, make_activation


class SkipBlock(nn.Module):
    """y = g(h(x) + W x): h is three dense layers (g after the first two, the last
    linear); W is a bias-free trainable projection when the widths differ, else identity."""

    def __init__(self, n_in: int, n_out: int, width: int, activation: str) -> None:
        super().__init__()
        self.h = nn.Sequential(
            nn.Linear(n_in, width),
            make_activation(activation),
            nn.Linear(width, width),
            make_activation(activation),
            nn.Linear(width, n_out),
        )
        self.skip = nn.Identity() if n_in == n_out else nn.Linear(n_in, n_out, bias=False)
        self.g = make_activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        return self.g(self.h(x) + self.skip(x))


class SkDNN(nn.Module):
    """Input layer to ``width``, ``depth`` skip blocks of that width, linear output
    (``n_out`` columns: the value, and log sigma^2 for a gaussian head)."""

    def __init__(self, n_features: int, width: int, depth: int, activation: str,
                 n_out: int = 1) -> None:
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(n_features, width), make_activation(activation))
        self.blocks = nn.Sequential(
            *(SkipBlock(width, width, width, activation) for _ in range(depth))
        )
        self.out = nn.Linear(width, n_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.out(self.blocks(self.inp(x)))


def mlp(n_features: int, width: int, depth: int, activation: str,
        n_out: int = 1) -> nn.Sequential:
    """Plain MLP: ``depth`` hidden layers of ``width`` units, linear output (``n_out``)."""
    layers: list[nn.Module] = []
    n_in = n_features
    for _ in range(depth):
        layers += [nn.Linear(n_in, width), make_activation(activation)]
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class SkDNNRegressor(TorchRegressor):
    """sk-DNN regressor: ``depth`` residual blocks (3 dense layers each) of ``width``."""

    name = "skdnn"

    def _build_module(self, n_features: int) -> nn.Module:
        return SkDNN(n_features, int(self.width), int(self.depth), self.activation,
                     self._n_outputs)


class DNNRegressor(TorchRegressor):
    """Plain fully connected regressor: ``depth`` hidden layers of ``width`` units."""

    name = "dnn"

    def _build_module(self, n_features: int) -> nn.Module:
        return mlp(n_features, int(self.width), int(self.depth), self.activation,
                   self._n_outputs)
