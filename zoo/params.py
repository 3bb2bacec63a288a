"""scikit-learn style hyperparameters: ``__init__`` stores keywords under the same names."""

from __future__ import annotations

import inspect
from typing import Any

from zoo.errors import ConfigError


class Params:
    """Mixin giving ``get_params``/``set_params``/``repr`` from the ``__init__`` signature."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters given to ``__init__`` (JSON-serialisable)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(
                    f"{type(self).__name__} has no hyperparameter {key!r}; "
                    f"valid ones: {', '.join(sorted(valid)) or '(none)'}"
                )
            setattr(self, key, value)
        return self

    @classmethod
    def from_params(cls, params: dict[str, Any]):
        valid = set(cls._param_names())
        unknown = sorted(set(params) - valid)
        if unknown:
            raise ConfigError(
                f"{cls.__name__} has no hyperparameter(s) {', '.join(map(repr, unknown))}; "
                f"valid ones: {', '.join(sorted(valid)) or '(none)'}"
            )
        return cls(**params)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
