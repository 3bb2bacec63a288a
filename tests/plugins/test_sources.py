"""Tests of the built-in source readers (paper-csv, npz, parquet, zarr)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pluggy
import pytest

import zoo.hookspecs
import zoo.plugins.sources as sources_plugin
from zoo.errors import ConfigError, InputError, UnknownLabelError
from zoo.plugins.sources.npz import read_npz
from zoo.plugins.sources.paper_csv import read_paper_csv
from zoo.plugins.sources.parquet import read_parquet
from zoo.plugins.sources.zarr_source import read_zarr
from zoo.training.data import Dataset

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SAMPLE = SHARED / "paper_format_sample" / "8D"
READERS = {"paper-csv": read_paper_csv, "npz": read_npz, "parquet": read_parquet, "zarr": read_zarr}
D = 3
HELICITIES = ["LL", "LR", "RL", "RR"]


def toy(n: int = 50, d: int = D, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.random((n, d))
    f00 = 1.0 + x.sum(axis=1)
    y = f00 * (2.0 + np.sin(3 * x[:, 0]))
    return {"x": x, "y": y, "f00": f00}


def write_paper_chunks(
    folder: Path, data: dict, sizes: list[int], header: str | None = None
) -> None:
    folder.mkdir(parents=True)
    x, y_n = data["x"], data["y"]
    y_2 = y_n / data["f00"]
    d = x.shape[1]
    head = header or ",".join([f"x{i}" for i in range(1, d + 1)] + ["yN", "y_2"])
    start = 0
    for k, size in enumerate(sizes):
        rows = np.column_stack([x, y_n, y_2])[start : start + size]
        body = "\n".join(",".join(repr(float(v)) for v in row) for row in rows)
        with gzip.open(folder / f"part-{k:05d}.csv.gz", "wt") as fh:
            fh.write(head + "\n" + body + ("\n" if k % 2 == 0 else ""))  # odd: no final newline
        start += size


@pytest.fixture
def paper_dir(tmp_path) -> tuple[Path, dict]:
    data = toy(50)
    write_paper_chunks(tmp_path / "paper" / "train", data, [20, 17, 13])
    test = toy(7, seed=1)
    write_paper_chunks(tmp_path / "paper" / "test", test, [7])
    return tmp_path / "paper", data


def check_dataset(
    ds: Dataset, data: dict, source: str, *, f00: bool = True, rtol: float = 0.0
) -> None:
    assert isinstance(ds, Dataset)
    assert ds.x.dtype == np.float64 and ds.y.dtype == np.float64
    np.testing.assert_array_equal(ds.x, data["x"])
    np.testing.assert_allclose(ds.y, data["y"], rtol=rtol)
    if f00:
        np.testing.assert_allclose(ds.f00, data["f00"], rtol=max(rtol, 4.5e-16))
    else:
        assert ds.f00 is None
    assert len(ds.provenance) == 64
    assert ds.meta["source"] == source
    assert ds.meta["n"] == len(data["x"]) and ds.meta["dimension"] == data["x"].shape[1]


def test_hook_registers_all_sources():
    pm = pluggy.PluginManager("zoo")
    pm.add_hookspecs(zoo.hookspecs)
    pm.register(sources_plugin)
    found = {}
    pm.hook.zoo_register_sources(register=lambda name, reader: found.__setitem__(name, reader))
    assert found == READERS
    assert all(callable(r.sniff) for r in found.values())


# -- paper-csv ------------------------------------------------------------------------


def test_paper_csv_synthetic(paper_dir):
    root, data = paper_dir
    ds = read_paper_csv(root)  # parent folder: split="train" by default
    check_dataset(ds, data, "paper-csv")
    assert ds.meta["target"] == "yN" and ds.meta["chunks"] == 3 and ds.meta["split"] == "train"
    # y / f00 recovers y_2
    np.testing.assert_allclose(ds.y / ds.f00, data["y"] / data["f00"], rtol=1e-15)
    same = read_paper_csv(root / "train", block_size=256)  # tiny parser blocks, same content
    assert same.provenance == ds.provenance
    np.testing.assert_array_equal(same.y, ds.y)
    ratio = read_paper_csv(root, target="y_2", label="toy/3d/y2/sum")
    assert ratio.f00 is None and ratio.label == "toy/3d/y2/sum"
    np.testing.assert_array_equal(ratio.y, data["y"] / data["f00"])
    assert ratio.provenance != ds.provenance
    test = read_paper_csv(root, split="test")
    assert len(test) == 7 and test.meta["split"] == "test"
    cut = read_paper_csv(root, limit=25)  # stops in the second chunk
    np.testing.assert_array_equal(cut.x, data["x"][:25])
    single = read_paper_csv(root / "train" / "part-00001.csv.gz")
    np.testing.assert_array_equal(single.x, data["x"][20:37])


def test_paper_csv_errors(tmp_path, paper_dir):
    root, data = paper_dir
    with pytest.raises(InputError, match="nowhere"):
        read_paper_csv(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no part-"):
        read_paper_csv(empty)
    with pytest.raises(InputError, match="available splits: test, train"):
        read_paper_csv(root, split="validation")
    with pytest.raises(ConfigError, match="target"):
        read_paper_csv(root, target="y")
    with pytest.raises(ConfigError, match="no option"):
        read_paper_csv(root, colour="red")
    bad = tmp_path / "badheader"
    write_paper_chunks(bad, data, [50], header="x1,x2,x3,yN,y2")
    with pytest.raises(InputError, match=r"part-00000\.csv\.gz.*expected 'x1,x2,x3,yN,y_2'"):
        read_paper_csv(bad)
    # a NaN target and a point outside the unit cube, named with file and row
    for name, key, value, message in (
        ("nan", "y", np.nan, "y contains NaN"),
        ("out", "x", 1.5, "outside"),
    ):
        broken = {k: v.copy() for k, v in data.items()}
        broken[key][11, ...] = value
        write_paper_chunks(tmp_path / name, broken, [50])
        with pytest.raises(InputError, match=rf"part-00000.*{message}.*row 11"):
            read_paper_csv(tmp_path / name)
    # a truncated gzip chunk
    trunc = tmp_path / "trunc"
    write_paper_chunks(trunc, toy(2000), [2000])
    raw = (trunc / "part-00000.csv.gz").read_bytes()
    (trunc / "part-00000.csv.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"part-00000\.csv\.gz.*corrupt"):
        read_paper_csv(trunc)
    # not gzip at all
    (trunc / "part-00000.csv.gz").write_bytes(b"x1,x2\n0.5,0.5\n")
    with pytest.raises(InputError, match=r"part-00000\.csv\.gz"):
        read_paper_csv(trunc)
    # a non-numeric value
    text = tmp_path / "text"
    text.mkdir()
    with gzip.open(text / "part-00000.csv.gz", "wt") as fh:
        fh.write("x1,yN,y_2\n0.5,1.0,2.0\n0.25,abc,1.0\n")
    with pytest.raises(InputError, match=r"part-00000\.csv\.gz.*cannot parse"):
        read_paper_csv(text)


@pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared paper-format sample data not present")
def test_paper_csv_sample():
    ds = read_paper_csv(SAMPLE)
    assert len(ds) == 100_000 and ds.dimension == 8
    ratio = read_paper_csv(SAMPLE, target="y_2")
    np.testing.assert_allclose(ds.y / ds.f00, ratio.y, rtol=1e-15)
    np.testing.assert_array_equal(ratio.x, ds.x)
    assert ((ds.x >= 0) & (ds.x <= 1)).all() and (ds.f00 > 0).all()
    test = read_paper_csv(SAMPLE, split="test")
    assert len(test) == 20_000 and test.meta["chunks"] == 2


# -- npz ----------------------------------------------------------------------------------


def test_npz(tmp_path):
    data = toy()
    np.savez(tmp_path / "d.npz", **data, other=data["y"] * 2)
    ds = read_npz(tmp_path / "d.npz")
    check_dataset(ds, data, "npz")
    other = read_npz(tmp_path / "d.npz", target="other", limit=10)
    np.testing.assert_array_equal(other.y, 2 * data["y"][:10])
    np.savez(tmp_path / "nof00.npz", x=data["x"], y=data["y"])
    check_dataset(read_npz(tmp_path / "nof00.npz"), data, "npz", f00=False)
    # the provenance is content-based: a copy elsewhere hashes the same
    np.savez(tmp_path / "copy.npz", **data, other=data["y"] * 2)
    assert read_npz(tmp_path / "copy.npz").provenance == ds.provenance


def test_npz_errors(tmp_path):
    data = toy()
    with pytest.raises(InputError, match="missing.npz"):
        read_npz(tmp_path / "missing.npz")
    np.savez(tmp_path / "d.npz", **data)
    with pytest.raises(InputError, match="'target'"):
        read_npz(tmp_path / "d.npz", target="target")
    np.savez(tmp_path / "nan.npz", x=data["x"], y=np.where(np.arange(50) == 4, np.nan, data["y"]))
    with pytest.raises(InputError, match="y contains NaN.*row 4"):
        read_npz(tmp_path / "nan.npz")
    np.savez(tmp_path / "out.npz", x=data["x"] - 0.5, y=data["y"])
    with pytest.raises(InputError, match="outside the unit hypercube"):
        read_npz(tmp_path / "out.npz")
    np.savez(tmp_path / "obj.npz", x=np.array([{"a": 1}], dtype=object), y=np.zeros(1))
    with pytest.raises(InputError, match="pickle"):
        read_npz(tmp_path / "obj.npz")
    np.savez(tmp_path / "short.npz", x=data["x"], y=data["y"][:-1])
    with pytest.raises(InputError, match="shape"):
        read_npz(tmp_path / "short.npz")


# -- parquet ----------------------------------------------------------------------------


def write_parquet(path: Path, data: dict, names: dict[str, np.ndarray] | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = {f"x{i + 1}": data["x"][:, i] for i in range(data["x"].shape[1])}
    cols.update(names if names is not None else {"y": data["y"], "f00": data["f00"]})
    pq.write_table(pa.table(cols), path, row_group_size=16)


def test_parquet(tmp_path):
    data = toy()
    write_parquet(tmp_path / "d.parquet", data)
    ds = read_parquet(tmp_path / "d.parquet", batch_size=7)
    check_dataset(ds, data, "parquet")
    cut = read_parquet(tmp_path / "d.parquet", limit=20)
    np.testing.assert_array_equal(cut.x, data["x"][:20])
    paper = {"yN": data["y"], "y_2": data["y"] / data["f00"]}
    write_parquet(tmp_path / "p.parquet", data, paper)
    check_dataset(read_parquet(tmp_path / "p.parquet"), data, "parquet")  # yN by default
    ratio = read_parquet(tmp_path / "p.parquet", target="y_2")
    assert ratio.f00 is None
    np.testing.assert_array_equal(ratio.y, paper["y_2"])
    # a folder of files
    folder = tmp_path / "parts"
    folder.mkdir()
    write_parquet(folder / "a.parquet", {k: v[:30] for k, v in data.items()})
    write_parquet(folder / "b.parquet", {k: v[30:] for k, v in data.items()})
    check_dataset(read_parquet(folder), data, "parquet")


def test_parquet_errors(tmp_path):
    data = toy()
    with pytest.raises(InputError, match="nope.parquet"):
        read_parquet(tmp_path / "nope.parquet")
    write_parquet(tmp_path / "d.parquet", data)
    with pytest.raises(InputError, match="no target column 'yN'"):
        read_parquet(tmp_path / "d.parquet", target="yN")
    write_parquet(
        tmp_path / "nan.parquet", data, {"y": np.where(np.arange(50) == 33, np.nan, data["y"])}
    )
    with pytest.raises(InputError, match="y contains NaN.*row 33"):
        read_parquet(tmp_path / "nan.parquet")
    write_parquet(tmp_path / "out.parquet", {"x": data["x"] * 2}, {"y": data["y"]})
    with pytest.raises(InputError, match="outside"):
        read_parquet(tmp_path / "out.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="junk.parquet"):
        read_parquet(tmp_path / "junk.parquet")


# -- zarr ---------------------------------------------------------------------------------


def write_zarr_plain(path: Path, data: dict) -> None:
    import zarr

    g = zarr.open_group(store=str(path), mode="w")
    for key, value in data.items():
        g.create_array(key, shape=value.shape, dtype="float64", chunks=(16,) + value.shape[1:])[
            ...
        ] = value


def write_zarr_generate(path: Path, data: dict) -> dict:
    import zarr

    n = len(data["x"])
    f00 = data["f00"][:, None] * np.array([1.0, 2.0, 3.0, 4.0])
    f11 = data["y"][:, None] * np.array([0.5, 1.0, 1.5, 2.0])
    g = zarr.open_group(store=str(path), mode="w")
    for key, value in (("x", data["x"]), ("f00", f00), ("f11", f11)):
        g.create_array(key, shape=value.shape, dtype="float64", chunks=(16, value.shape[1]))[
            ...
        ] = value
    g.attrs["zoo_generate"] = {
        "process": "toy",
        "dimension": D,
        "helicities": HELICITIES,
        "terms": ["f00", "f11"],
        "seed": 0,
        "n": n,
        "generator_version": "1",
        "provenance": "abc",
    }
    return {"f00": f00, "f11": f11}


def test_zarr_plain(tmp_path):
    data = toy()
    write_zarr_plain(tmp_path / "plain.zarr", data)
    check_dataset(read_zarr(tmp_path / "plain.zarr"), data, "zarr")
    cut = read_zarr(tmp_path / "plain.zarr", limit=17)
    np.testing.assert_array_equal(cut.y, data["y"][:17])
    write_zarr_plain(tmp_path / "nof00.zarr", {"x": data["x"], "y": data["y"]})
    check_dataset(read_zarr(tmp_path / "nof00.zarr"), data, "zarr", f00=False)


def test_zarr_generate_layout(tmp_path):
    data = toy()
    terms = write_zarr_generate(tmp_path / "gen.zarr", data)
    ds = read_zarr(tmp_path / "gen.zarr", label="toy/3d/f11/RL")
    np.testing.assert_array_equal(ds.x, data["x"])
    np.testing.assert_array_equal(ds.y, terms["f11"][:, 2])
    np.testing.assert_array_equal(ds.f00, terms["f00"][:, 2])
    assert ds.label == "toy/3d/f11/RL" and ds.meta["generator"]["process"] == "toy"
    total = read_zarr(tmp_path / "gen.zarr", label="toy/3d/f11/sum")
    np.testing.assert_allclose(total.y, terms["f11"].sum(axis=1), rtol=1e-15)
    np.testing.assert_allclose(total.f00, terms["f00"].sum(axis=1), rtol=1e-15)
    same = read_zarr(tmp_path / "gen.zarr", target="f11", helicity="RL", limit=10)
    np.testing.assert_array_equal(same.y, ds.y[:10])
    assert read_zarr(tmp_path / "gen.zarr", label="toy/3d/f11/LL").provenance != ds.provenance
    with pytest.raises(InputError, match="label="):
        read_zarr(tmp_path / "gen.zarr")
    with pytest.raises(UnknownLabelError, match="helicity 'XX'"):
        read_zarr(tmp_path / "gen.zarr", label="toy/3d/f11/XX")
    with pytest.raises(UnknownLabelError, match="term 'f01'"):
        read_zarr(tmp_path / "gen.zarr", label="toy/3d/f01/LL")
    with pytest.raises(InputError, match="does not match"):
        read_zarr(tmp_path / "gen.zarr", label="other/3d/f11/LL")


def test_zarr_errors(tmp_path):
    data = toy()
    with pytest.raises(InputError, match="absent.zarr"):
        read_zarr(tmp_path / "absent.zarr")
    write_zarr_plain(tmp_path / "noy.zarr", {"x": data["x"]})
    with pytest.raises(InputError, match="no array 'y'"):
        read_zarr(tmp_path / "noy.zarr")
    write_zarr_plain(
        tmp_path / "nan.zarr",
        {"x": data["x"], "y": np.where(np.arange(50) == 40, np.nan, data["y"])},
    )
    with pytest.raises(InputError, match="y contains NaN.*row 40"):
        read_zarr(tmp_path / "nan.zarr")
    write_zarr_plain(tmp_path / "out.zarr", {"x": data["x"] + 1, "y": data["y"]})
    with pytest.raises(InputError, match="outside"):
        read_zarr(tmp_path / "out.zarr")


# -- sniffing -------------------------------------------------------------------------


def test_sniff_picks_exactly_one_reader(tmp_path, paper_dir):
    root, data = paper_dir
    np.savez(tmp_path / "d.npz", **data)
    write_parquet(tmp_path / "d.parquet", data)
    write_zarr_plain(tmp_path / "d.zarr", data)
    expected = {
        root: "paper-csv",
        root / "train": "paper-csv",
        root / "train" / "part-00000.csv.gz": "paper-csv",
        tmp_path / "d.npz": "npz",
        tmp_path / "d.parquet": "parquet",
        tmp_path / "d.zarr": "zarr",
    }
    for path, name in expected.items():
        assert [n for n, r in READERS.items() if r.sniff(path)] == [name], path
    for path in (tmp_path / "missing", tmp_path / "empty-dir"):
        assert not any(r.sniff(path) for r in READERS.values())
