"""Built-in exporters: ``onnx`` (the physical value as an ONNX graph) and ``bundle``.

This module only implements the hook; the work is imported when an exporter runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zoo.hookspecs import hookimpl


def export_onnx(amplitude: Any, path: str | os.PathLike, **options: Any) -> Path:
    """Write the amplitude (symmetry map, transform chain, regressor) as one ONNX file.

    Inputs ``x`` (N, D) and, when the chain normalises by f00, ``f00`` (N,) of the
    requested label at x; output ``y`` (N,), the physical value, and ``sigma`` (N,), its
    calibrated uncertainty, where the regressor has an ONNX uncertainty. Option ``io_dtype``:
    ``float64`` (default) or ``float32``.
    """
    from zoo.runtime.onnx_export import export_amplitude

    return export_amplitude(amplitude, path, **options)


def export_bundle(amplitude: Any, path: str | os.PathLike, **options: Any) -> Path:
    """The artifact as a tar.gz bundle (the registry's own format, hashes included)."""
    from zoo.registry.registry import Registry

    if options:
        raise TypeError(f"the bundle exporter takes no options, got {sorted(options)}")
    reg = Registry(amplitude.registry_url)
    return reg.export_bundle(amplitude.canonical, path)


@hookimpl
def zoo_register_exporters(register):
    register("onnx", export_onnx)
    register("bundle", export_bundle)
