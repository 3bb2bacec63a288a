"""Transforms and the transform chain between physical data and a regressor.

A :class:`Transform` acts on a :class:`Batch` (points ``x``, target ``y`` and the
leading-order term ``f00`` when known). The chain is fitted on the training split in
order, applied in the same order at predict time, and its inverse maps the regressor's
output back to the physical quantity in reverse order. Every transform stores its
hyperparameters (``__init__`` keywords, recorded in the card) and its fitted state as
named float64 arrays (stored with Zarr in the artifact).

Conventions:

* ``forward(batch, ctx)`` returns a new batch; at predict time ``batch.y`` is ``None``.
* ``inverse(y, batch, ctx)`` maps a prediction in this step's *output* space back to
  its *input* space; ``batch`` is the batch this step received in ``forward``.
* ``augment`` transforms (``training_only = True`` for the added rows) may change the
  number of rows only in :meth:`Transform.fit_forward` on training data.

ONNX form (optional; used by ``zoo export --format onnx``): ``onnx_forward(graph, x, ctx)``
appends the point map to a :class:`zoo.runtime.onnx_graph.Graph`, ``onnx_inverse(graph, y, ctx)``
the inverse target map. The defaults refuse (:class:`~zoo.errors.UnsupportedModelError`),
except that ``onnx_inverse`` is the identity for a transform that keeps the default
(identity) :meth:`Transform.inverse`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from zoo.errors import UnsupportedModelError
from zoo.params import Params

if TYPE_CHECKING:
    from zoo.runtime.onnx_graph import ExportContext, Graph


@dataclass(frozen=True)
class Batch:
    """Points ``x`` (N, D) float64, target ``y`` (N,) and ``f00`` (N,) when known."""

    x: np.ndarray
    y: np.ndarray | None = None
    f00: np.ndarray | None = None

    def replace(self, **changes: Any) -> Batch:
        return replace(self, **changes)

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class Context:
    """What a transform may need beyond the batch.

    ``label``: the canonical label string of the function; ``process``: the process
    plugin (``None`` for data without one); ``f00``: a callable giving the exact
    leading-order term at canonical points (from the process), or ``None``; ``f00_sum``:
    likewise the leading order summed over all helicities of the process, or ``None``;
    ``symmetries``: coordinate maps under which this function is invariant.
    """

    label: str = ""
    process: Any = None
    f00: Callable[[np.ndarray], np.ndarray] | None = None
    f00_sum: Callable[[np.ndarray], np.ndarray] | None = None
    invariances: Sequence[tuple[str, Callable[[np.ndarray], np.ndarray]]] = field(
        default_factory=tuple
    )


class Transform(Params, abc.ABC):
    """Base class of transform plugins."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"

    def fit(self, batch: Batch, ctx: Context) -> Transform:
        """Learn state from training data (default: nothing to learn)."""
        return self

    def fit_forward(self, batch: Batch, ctx: Context) -> Batch:
        """Fit, then transform the *training* batch (augmenting transforms override)."""
        return self.fit(batch, ctx).forward(batch, ctx)

    @abc.abstractmethod
    def forward(self, batch: Batch, ctx: Context) -> Batch:
        """Transform a batch (at predict time ``batch.y`` is ``None``)."""

    def inverse(self, y: np.ndarray, batch: Batch, ctx: Context) -> np.ndarray:
        """Map predictions of this step's output space back (default: identity on y)."""
        return y

    # -- optional: the ONNX form ----------------------------------------------------------
    def onnx_forward(self, graph: Graph, x: str, ctx: ExportContext) -> str:
        """Append the ONNX nodes of :meth:`forward` on points; return the new points' name.

        ``x`` names (N, D) float64 points; return (N, D) float64 (``x`` itself when the
        transform acts on the target only). ``ctx`` gives the dimension, the model's
        :class:`Context` (``ctx.context.invariances``) and :meth:`ExportContext.input` for
        extra graph inputs. The default refuses with
        :class:`~zoo.errors.UnsupportedModelError`: override it to give the transform an
        ONNX form.
        """
        raise self._no_onnx(ctx, "onnx_forward")

    def onnx_inverse(self, graph: Graph, y: str, ctx: ExportContext) -> str:
        """Append the ONNX nodes of :meth:`inverse`; return the name of the mapped target.

        ``y`` names the (N,) float64 prediction in this step's output space; return (N,)
        float64. Inputs the inverse needs beyond ``y`` (e.g. ``f00``) are graph inputs:
        ``ctx.input(name, doc)``. Called in reverse chain order after the regressor's nodes;
        when the export has a ``sigma`` output, once more for each of ``y + s`` and ``y - s``
        (inputs declared with ``ctx.input`` are shared).
        The default is the identity when :meth:`inverse` is the default identity, else it
        refuses with :class:`~zoo.errors.UnsupportedModelError`.
        """
        if type(self).inverse is Transform.inverse:
            return y
        raise self._no_onnx(ctx, "onnx_inverse")

    def _no_onnx(self, ctx: ExportContext, method: str) -> UnsupportedModelError:
        label = getattr(ctx, "label", "") or "the model"
        return UnsupportedModelError(
            f"transform {self.name or type(self).__name__!r} of {label} has no ONNX form (its "
            f"plugin does not implement Transform.{method}); export a model whose transforms "
            "all have one")

    def get_state(self) -> dict[str, np.ndarray]:
        """Fitted state as named arrays (default: none)."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore fitted state written by :meth:`get_state`."""
        if state:
            raise ValueError(f"{type(self).__name__} has no state but got {sorted(state)}")

    def describe(self) -> str:
        """One line for cards and ``zoo show``."""
        params = ", ".join(f"{k}={v}" for k, v in self.get_params().items())
        return f"{self.name}({params})"


class Chain:
    """An ordered list of fitted transforms."""

    def __init__(self, steps: Sequence[Transform]):
        self.steps = list(steps)

    def fit_forward(self, batch: Batch, ctx: Context) -> Batch:
        for step in self.steps:
            batch = step.fit_forward(batch, ctx)
        return batch

    def forward(self, batch: Batch, ctx: Context) -> Batch:
        for step in self.steps:
            batch = step.forward(batch, ctx)
        return batch

    def forward_with_inputs(self, batch: Batch, ctx: Context) -> tuple[Batch, list[Batch]]:
        inputs = []
        for step in self.steps:
            inputs.append(batch)
            batch = step.forward(batch, ctx)
        return batch, inputs

    def inverse(self, y: np.ndarray, inputs: Sequence[Batch], ctx: Context) -> np.ndarray:
        for step, batch in zip(reversed(self.steps), reversed(inputs)):
            y = step.inverse(y, batch, ctx)
        return y

    def describe(self) -> list[dict[str, Any]]:
        return [
            {"name": s.name, "version": s.version, "params": s.get_params()} for s in self.steps
        ]
