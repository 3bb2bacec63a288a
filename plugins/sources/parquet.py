"""``parquet``: a Parquet file (or a folder of ``*.parquet`` files).

Columns ``x1..xD`` and a target column: ``y`` by default (with an optional ``f00``
column), or the paper's ``yN``/``y_2`` (``yN`` gives ``f00 = yN / y_2``, ``y_2`` gives no
f00, as in ``paper-csv``). Row groups are streamed into preallocated arrays.
"""

from __future__ import annotations

import re
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

NAME = "parquet"
_X = re.compile(r"x([1-9][0-9]*)")


def _files(p: Path) -> list[Path]:
    if p.is_file():
        return [p]
    return sorted(f for f in p.glob("*.parquet") if f.is_file())


def sniff(path: str | Path) -> bool:
    """True for a file starting with the Parquet magic ``PAR1`` or a folder of ``*.parquet``."""
    p = Path(path)
    try:
        if p.is_file():
            with open(p, "rb") as fh:
                return fh.read(4) == b"PAR1"
        return p.is_dir() and bool(_files(p))
    except OSError:
        return False


def _columns(names: list[str], file: Path, target: str | None) -> tuple[int, str, str | None]:
    """(D, target column, f00 rule) from the schema: f00 rule is 'f00', 'ratio' or None."""
    xs = sorted(int(m.group(1)) for n in names if (m := _X.fullmatch(n)))
    d = len(xs)
    if d == 0 or xs != list(range(1, d + 1)):
        raise InputError(
            f"{file}: expected coordinate columns x1..xD (consecutive), found "
            f"{[n for n in names if _X.fullmatch(n)] or 'none'} among {names}"
        )
    if target is None:
        target = "y" if "y" in names else "yN" if "yN" in names else "y"
    if target not in names:
        raise InputError(
            f"{file}: no target column {target!r}; columns are {names}. Pass target= one of them"
        )
    if target == "yN" and "y_2" in names:
        rule = "ratio"
    elif target != "f00" and "f00" in names and target != "y_2":
        rule = "f00"
    else:
        rule = None
    return d, target, rule


def read_parquet(
    path: str | Path,
    *,
    target: str | None = None,
    label: str | None = None,
    limit: int | None = None,
    **options,
) -> Dataset:
    """Read ``x1..xD``, the target and f00 (see the module docstring)."""
    import pyarrow.parquet as pq

    check_options(NAME, options, ("batch_size",))
    batch_size = int(options.get("batch_size", 1 << 16))
    limit = check_limit(limit)
    label = check_label(label)
    p = existing_path(path, NAME)
    files = _files(p)
    if not files:
        raise InputError(f"{p}: no *.parquet files in this folder")
    handles = []
    spec = None
    for f in files:
        try:
            pf = pq.ParquetFile(f)
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for non-Parquet files
            raise InputError(f"{f}: cannot read as Parquet ({exc})") from None
        this = _columns(pf.schema_arrow.names, f, target)
        if spec is None:
            spec = this
        elif this != spec:
            raise InputError(f"{f}: columns differ from {files[0].name}; all files must match")
        handles.append(pf)
    d, tcol, rule = spec
    n_all = sum(pf.metadata.num_rows for pf in handles)
    n = n_all if limit is None else min(limit, n_all)
    if n == 0:
        raise InputError(f"{p}: holds no rows")
    cols = [f"x{i}" for i in range(1, d + 1)] + [tcol]
    cols += {"ratio": ["y_2"], "f00": ["f00"], None: []}[rule]
    x = np.empty((n, d), dtype=np.float64)
    y = np.empty(n, dtype=np.float64)
    f00 = None if rule is None else np.empty(n, dtype=np.float64)
    start = 0
    for f, pf in zip(files, handles):
        if start >= n:
            break
        offset = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_size, columns=cols):
                take = min(batch.num_rows, n - start)
                lo, hi = start, start + take
                arrs = [
                    batch.column(j).slice(0, take).to_numpy(zero_copy_only=False)
                    for j in range(len(cols))
                ]
                for j in range(d):
                    x[lo:hi, j] = arrs[j]
                y[lo:hi] = arrs[d]
                if rule == "ratio":
                    np.divide(arrs[d], arrs[d + 1], out=f00[lo:hi])
                elif rule == "f00":
                    f00[lo:hi] = arrs[d + 1]
                check_block(x[lo:hi], y[lo:hi], None if f00 is None else f00[lo:hi], str(f), offset)
                start, offset = hi, offset + take
                if start >= n:
                    break
        except (OSError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"{f}: cannot read ({exc}); the file is corrupt") from None
    return make_dataset(
        NAME,
        p,
        x,
        y,
        f00,
        target=tcol,
        label=label,
        options={"f00": rule},
        meta={"files": [f.name for f in files]},
    )


read_parquet.sniff = sniff  # type: ignore[attr-defined]
