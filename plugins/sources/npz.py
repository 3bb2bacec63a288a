"""``npz``: a NumPy ``.npz`` archive with keys ``x`` (N, D), ``y`` (N,), optional ``f00``.

``target=<key>`` picks another array as the target. Loaded with
``np.load(path, allow_pickle=False)`` (no object arrays, nothing executed).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from zoo.errors import InputError
from zoo.plugins.sources._common import (
    check_block,
    check_label,
    check_limit,
    check_options,
    existing_path,
    make_dataset,
)
from zoo.training.data import Dataset

NAME = "npz"


def sniff(path: str | Path) -> bool:
    """True for a ``.npz`` file (a zip archive)."""
    p = Path(path)
    return p.is_file() and p.suffix == ".npz" and zipfile.is_zipfile(p)


def read_npz(
    path: str | Path,
    *,
    target: str | None = None,
    label: str | None = None,
    limit: int | None = None,
    **options,
) -> Dataset:
    """Read ``x``, the target (``y`` unless ``target`` says otherwise) and ``f00`` if present."""
    check_options(NAME, options, ())
    target = "y" if target is None else str(target)
    limit = check_limit(limit)
    label = check_label(label)
    p = existing_path(path, NAME)
    rows = slice(None) if limit is None else slice(0, limit)
    try:
        with np.load(p, allow_pickle=False) as archive:
            keys = set(archive.files)
            missing = [k for k in ("x", target) if k not in keys]
            if missing:
                raise InputError(
                    f"{p}: missing array(s) {', '.join(map(repr, missing))}; the archive has "
                    f"{', '.join(sorted(keys)) or 'nothing'} (expected x, {target} and optionally f00)"
                )
            arrays = {k: archive[k] for k in ("x", target, "f00") if k in keys}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{p}: cannot read as .npz without pickle ({exc})") from None
    x = np.ascontiguousarray(arrays["x"][rows], dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"{p}: x has shape {arrays['x'].shape}; expected (N, D)")
    y = np.ascontiguousarray(arrays[target][rows], dtype=np.float64)
    f00 = arrays.get("f00")
    f00 = (
        None
        if f00 is None or target == "f00"
        else np.ascontiguousarray(f00[rows], dtype=np.float64)
    )
    for name, v in (("target " + target, y), ("f00", f00)):
        if v is not None and v.shape != (x.shape[0],):
            raise InputError(
                f"{p}: {name} has shape {v.shape}; expected ({x.shape[0]},) to match x"
            )
    check_block(x, y, f00, str(p))
    return make_dataset(NAME, p, x, y, f00, target=target, label=label, options={})


read_npz.sniff = sniff  # type: ignore[attr-defined]
