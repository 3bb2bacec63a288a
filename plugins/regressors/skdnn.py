"""Plugin module of the sk-DNN regressor (``skdnn``); torch is imported only when used."""

from __future__ import annotations

from typing import Any

from zoo.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    if name == "SkDNNRegressor":
        from .torch_models import SkDNNRegressor

        return SkDNNRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def zoo_register_regressors(register):
    from .torch_models import SkDNNRegressor

    register("skdnn", SkDNNRegressor)
