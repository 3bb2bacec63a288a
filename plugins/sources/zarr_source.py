"""``zarr``: Zarr groups, either plain or written by ``zoo generate``.

(a) plain: arrays ``x`` (N, D), ``y`` (N,) (or ``target=<name>``), optional ``f00``.
(b) ``zoo generate`` output, recognised by the group attribute ``"zoo_generate"``
    (``{"process", "dimension", "helicities", "terms", "seed", "n",
    "generator_version", "provenance"}``): ``x`` (N, D) and one (N, H) array per term
    (``f00``, ``f01``, ``f11``; columns = helicities). A ``label`` such as
    ``qqbar-zz-4l/8d/f11/LLR`` selects ``y = f11[:, col(LLR)]`` and ``f00 = f00[:, col]``
    (the helicity ``sum`` sums the columns); ``target=<term>`` plus option
    ``helicity=<h>`` does the same without a label.

Arrays are copied chunk by chunk (along rows) into preallocated float64 arrays.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from zoo.errors import InputError, UnknownLabelError
from zoo.labels import parse
from zoo.plugins.sources._common import (
    check_block,
    check_label,
    check_limit,
    check_options,
    existing_path,
    make_dataset,
)
from zoo.training.data import Dataset

NAME = "zarr"
GENERATE_ATTR = "zoo_generate"
SUM = "sum"


def sniff(path: str | Path) -> bool:
    """True for a directory holding a Zarr group (v3 ``zarr.json`` or v2 ``.zgroup``)."""
    p = Path(path)
    try:
        if (p / "zarr.json").is_file():
            return json.loads((p / "zarr.json").read_text()).get("node_type") == "group"
        return (p / ".zgroup").is_file()
    except (OSError, ValueError):
        return False


def _rows_step(arr) -> int:
    chunks = getattr(arr, "chunks", None) or (arr.shape[0],)
    return max(1, int(chunks[0]))


def _copy_rows(arr, out: np.ndarray, n: int, pick=None) -> None:
    """``out[:n] = pick(arr[rows])`` one row-chunk at a time."""
    step = _rows_step(arr)
    step *= max(1, (1 << 22) // max(1, step * int(np.prod(arr.shape[1:], dtype=np.int64)) * 8))
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        block = np.asarray(arr[lo:hi])
        out[lo:hi] = block if pick is None else pick(block)


def _open(p: Path):
    import zarr

    try:
        return zarr.open_group(store=str(p), mode="r")
    except Exception as exc:  # zarr raises several types for a non-group path
        raise InputError(f"{p}: not a readable Zarr group ({exc})") from None


def _array(group, key: str, p: Path):
    if key not in group.array_keys():
        raise InputError(
            f"{p}: no array {key!r}; the group has {sorted(group.array_keys()) or 'no arrays'}"
        )
    return group[key]


def read_zarr(
    path: str | Path,
    *,
    target: str | None = None,
    label: str | None = None,
    limit: int | None = None,
    **options,
) -> Dataset:
    """Read a plain or ``zoo generate`` Zarr group (see the module docstring)."""
    check_options(NAME, options, ("helicity",))
    limit = check_limit(limit)
    label = check_label(label)
    p = existing_path(path, NAME)
    group = _open(p)
    gen = group.attrs.get(GENERATE_ATTR)
    xa = _array(group, "x", p)
    if len(xa.shape) != 2:
        raise InputError(f"{p}: x has shape {xa.shape}; expected (N, D)")
    n_all, d = int(xa.shape[0]), int(xa.shape[1])
    n = n_all if limit is None else min(limit, n_all)
    x = np.empty((n, d), dtype=np.float64)
    _copy_rows(xa, x, n)
    meta: dict = {}

    if gen is None:  # plain layout
        if options.get("helicity") is not None:
            raise InputError(f"{p}: option helicity= applies to 'zoo generate' output only")
        target = "y" if target is None else str(target)
        ya = _array(group, target, p)
        if not (len(ya.shape) == 1 or (len(ya.shape) == 2 and ya.shape[1] == 1)):
            raise InputError(f"{p}: {target} has shape {ya.shape}; expected ({n_all},)")
        if int(ya.shape[0]) != n_all:
            raise InputError(f"{p}: {target} has {ya.shape[0]} rows but x has {n_all}")
        y = np.empty(n, dtype=np.float64)
        _copy_rows(ya, y, n, (lambda b: b.reshape(len(b))) if len(ya.shape) > 1 else None)
        f00 = None
        if "f00" in group.array_keys() and target != "f00":
            f00 = np.empty(n, dtype=np.float64)
            _copy_rows(group["f00"], f00, n)
        column = target
    else:
        helicities = [str(h) for h in gen.get("helicities", [])]
        terms = [str(t) for t in gen.get("terms", [])]
        if label is not None:
            lab = parse(label)
            if lab.process != gen.get("process") or lab.dimension != int(gen.get("dimension", d)):
                raise InputError(
                    f"{p}: label {label!r} does not match this data "
                    f"({gen.get('process')}/{gen.get('dimension')}d)"
                )
            term, helicity = lab.term, lab.helicity
        elif target is not None and options.get("helicity") is not None:
            term, helicity = str(target), str(options["helicity"])
        else:
            raise InputError(
                f"{p}: 'zoo generate' output holds terms {terms} for helicities {helicities}; "
                f"choose one with label='{gen.get('process')}/{d}d/<term>/<helicity|sum>' "
                "(or target=<term> with option helicity=<h>)"
            )
        if term not in terms:
            raise UnknownLabelError(f"{p}: no term {term!r}; this data has {', '.join(terms)}")
        if helicity != SUM and helicity not in helicities:
            raise UnknownLabelError(
                f"{p}: no helicity {helicity!r}; choose one of {', '.join(helicities)} or 'sum'"
            )

        def pick(block: np.ndarray) -> np.ndarray:
            if helicity == SUM:
                return block.sum(axis=1)
            return block[:, helicities.index(helicity)]

        y = np.empty(n, dtype=np.float64)
        _copy_rows(_array(group, term, p), y, n, pick)
        f00 = None
        if "f00" in group.array_keys():
            f00 = np.empty(n, dtype=np.float64)
            _copy_rows(group["f00"], f00, n, pick)
        column = f"{term}/{helicity}"
        meta = {"generator": dict(gen), "term": term, "helicity": helicity}
        target = term
    check_block(x, y, f00, str(p))
    return make_dataset(
        NAME, p, x, y, f00, target=target, label=label, options={"column": column}, meta=meta
    )


read_zarr.sniff = sniff  # type: ignore[attr-defined]
