"""Built-in data-source readers: paper-format CSV chunks, npz, parquet, zarr.

This module only implements hooks; the readers live in the sibling modules and are
imported when the hook runs. Every reader is ``reader(path, *, target=None,
label=None, limit=None, **options) -> zoo.training.data.Dataset`` with ``reader.sniff(path)``.
"""

from __future__ import annotations

from zoo.hookspecs import hookimpl


@hookimpl
def zoo_register_sources(register):
    from zoo.plugins.sources.npz import read_npz
    from zoo.plugins.sources.paper_csv import read_paper_csv
    from zoo.plugins.sources.parquet import read_parquet
    from zoo.plugins.sources.zarr_source import read_zarr

    register("paper-csv", read_paper_csv)
    register("npz", read_npz)
    register("parquet", read_parquet)
    register("zarr", read_zarr)
