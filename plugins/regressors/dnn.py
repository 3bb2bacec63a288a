"""Plugin module of the plain-MLP regressor (``dnn``); torch is imported only when used."""

from __future__ import annotations

from typing import Any

from zoo.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    if name == "DNNRegressor":
        from .torch_models import DNNRegressor

        return DNNRegressor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def zoo_register_regressors(register):
    from .torch_models import DNNRegressor

    register("dnn", DNNRegressor)
