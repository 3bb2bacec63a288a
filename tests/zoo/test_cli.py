"""The command line: verbs, messages and exit codes a shell user relies on."""

import json
import tarfile

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.cli.jobs import register_jobs
from zoo.model import Model
from zoo.transform import Chain

register_jobs(cli)


def _model(label="thirdparty/3d/f00/one", trees=20):
    from zoo import plugin_manager

    x = np.random.default_rng(0).random((400, 3))
    y = 1 + x[:, 0] + 2 * x[:, 1] * x[:, 2]
    reg = plugin_manager.get("regressors", "xgboost")(n_estimators=trees, max_depth=3, seed=0)
    return Model(label, reg.fit(x, y), Chain([])), x


@pytest.fixture
def reg(tmp_path):
    path = tmp_path / "reg"
    for trees in (20, 30):
        model, x = _model(trees=trees)
        zoo.publish(model, registry=path, reference_x=x[:64])
    return str(path)


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_plugins():
    out = run("plugins")
    assert out.exit_code == 0
    for name in ("skdnn", "dnn", "xgboost", "catboost", "f00-normalise", "qqbar-zz-4l/8d"):
        assert name in out.output


def test_list_show_verify(reg):
    out = run("list", "thirdparty/*", "--registry", reg, "--json")
    assert out.exit_code == 0
    assert [e["label"] for e in json.loads(out.output)] == ["thirdparty/3d/f00/one@2"]
    out = run("list", "--registry", reg, "--all-versions", "--json")
    assert len(json.loads(out.output)) == 2
    out = run("list", "--registry", reg, "--where", "n_parameters>=1e9", "--json")
    assert json.loads(out.output) == []
    out = run("show", "thirdparty/3d/f00/one@1", "--registry", reg)
    assert out.exit_code == 0 and "xgboost" in out.output
    out = run("verify", "thirdparty/3d/f00/one@latest", "--registry", reg)
    assert out.exit_code == 0 and "ok" in out.output
    out = run("verify", "--all", "--registry", reg)
    assert out.exit_code == 0 and out.output.count("ok  ") == 2 and "2 ok, 0 failed" in out.output


def test_exit_codes(reg):
    assert run("show", "thirdparty/3d/f00/two", "--registry", reg).exit_code == 3
    assert run("show", "thirdparty/3d/f00/one@9", "--registry", reg).exit_code == 3
    bad = run("show", "not a label", "--registry", reg)
    assert bad.exit_code == 2 and "malformed label" in bad.output
    assert run("list", "--where", "nonsense", "--registry", reg).exit_code == 2


def test_tampered_artifact_exit_code(reg, tmp_path):
    from pathlib import Path

    victim = next(Path(reg).rglob("model/*"))
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-3])
    out = run("verify", "--all", "--registry", reg)
    assert out.exit_code == 4
    assert victim.name in out.output


def test_export_import_fetch_rm(reg, tmp_path):
    bundle = tmp_path / "one.tar.gz"
    assert run("export", "thirdparty/3d/f00/one@1", "--to", str(bundle), "--registry", reg).exit_code == 0
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert any(n.endswith("card.json") for n in names)
    other = str(tmp_path / "other")
    out = run("import", str(bundle), "--registry", other)
    assert out.exit_code == 0 and "thirdparty/3d/f00/one@1" in out.output
    out = run("fetch", "thirdparty/3d/f00/one@2", "--from", reg, "--registry", other)
    assert out.exit_code == 0, out.output
    assert len(zoo.list("thirdparty/*", registry=other, all_versions=True)) == 2
    # fetching an identical artifact again does not duplicate it
    assert "@2" in run("fetch", "thirdparty/3d/f00/one@2", "--from", reg, "--registry", other).output
    assert len(zoo.list("thirdparty/*", registry=other, all_versions=True)) == 2
    # rm asks unless --yes; answering no keeps the version
    out = run("rm", "thirdparty/3d/f00/one@1", "--registry", other, input="n\n")
    assert out.exit_code == 1 and "kept" in out.output
    out = run("rm", "thirdparty/3d/f00/one@1", "--registry", other, "--yes")
    assert out.exit_code == 0
    assert [e["version"] for e in zoo.list("*", registry=other, all_versions=True)] == [2]
    assert run("rm", "thirdparty/3d/f00/one", "--registry", other, "--yes").exit_code == 2
    assert run("reindex", "--registry", other).output.strip() == "indexed 1 versions"


def test_alias(reg):
    assert run("alias", "thirdparty/3d/f00/one@1", "paper", "--registry", reg).exit_code == 0
    out = run("show", "thirdparty/3d/f00/one@paper", "--registry", reg, "--json")
    assert json.loads(out.output)["version"] == 1


def test_generate_and_resolve(tmp_path, toy_process):
    out = run("generate", "toy/3d", "--n", "1000", "--seed", "3", "--chunk", "300",
              "--out", str(tmp_path / "a.zarr"))
    assert out.exit_code == 0, out.output
    run("generate", "toy/3d", "--n", "1000", "--seed", "3", "--chunk", "300",
        "--out", str(tmp_path / "b.zarr"))
    import zarr

    a, b = zarr.open_group(str(tmp_path / "a.zarr")), zarr.open_group(str(tmp_path / "b.zarr"))
    assert np.array_equal(a["x"][:], b["x"][:]) and np.array_equal(a["f11"][:], b["f11"][:])
    np.testing.assert_allclose(a["f00"][:], toy_process.evaluate(a["x"][:])["f00"], rtol=0)
    out = run("resolve", "toy/3d/f11/RR")
    assert "toy/3d/f11/LL" in out.output and "flip" in out.output
    out = run("generate", "toy/3d", "--n", "500", "--seed", "3", "--sampling", "edges:10",
              "--out", str(tmp_path / "e.zarr"))
    assert out.exit_code == 0, out.output
    e = zarr.open_group(str(tmp_path / "e.zarr"))
    assert e.attrs["zoo_generate"]["sampling"] == "edges:10"
    assert not np.array_equal(e["x"][:], a["x"][:500])
    out = run("generate", "toy/3d", "--n", "10", "--sampling", "beta", "--out", str(tmp_path / "f.zarr"))
    assert out.exit_code != 0 and "edges:F" in out.output and not (tmp_path / "f.zarr").exists()


@pytest.mark.parametrize("dim", [2, 4, 8])
def test_generate_reference_process(tmp_path, dim):
    out = run("generate", f"qqbar-zz-4l/{dim}d", "--n", "64", "--seed", "1",
              "--out", str(tmp_path / "d.zarr"))
    assert out.exit_code == 0, out.output
    import zarr

    g = zarr.open_group(str(tmp_path / "d.zarr"), mode="r")
    hel = 8 if dim == 8 else 18
    assert g["x"].shape == (64, dim) and g["f11"].shape == (64, hel)
    assert g.attrs["zoo_generate"]["complete"]
    assert np.all(g["f00"][:] >= 0) and np.all(g["f11"][:] > 0)
