"""``zoo predict`` on npz/csv/zarr inputs, resume, errors, and Dask (LocalCluster, 2 workers)."""

from __future__ import annotations

import click
import numpy as np
import pytest
from click.testing import CliRunner

LABEL = "qqbar-zz-4l/8d/f11/sum"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A small xgboost model of LABEL published into a temporary registry."""
    from zoo import plugin_manager
    from zoo.api import publish
    from zoo.model import Model
    from zoo.transform import Batch, Chain

    reg_dir = tmp_path_factory.mktemp("reg") / "reg"
    rng = np.random.default_rng(0)
    x = rng.random((500, 8))
    y = 1.0 + x @ np.arange(1.0, 9.0)
    chain = Chain([plugin_manager.get("transforms", "standardise")(target="y")])
    model = Model(LABEL, plugin_manager.get("regressors", "xgboost")(
        n_estimators=10, max_depth=3, early_stopping_rounds=None, n_jobs=1), chain)
    b = chain.fit_forward(Batch(x=x, y=y), model.context)
    model.regressor.fit(b.x, b.y)
    publish(model, registry=reg_dir, reference_x=x)
    return reg_dir, model


@pytest.fixture
def cli():
    from zoo.cli.jobs import generate_cmd
    from zoo.cli.predict import register_commands

    group = click.Group("zoo")
    group.add_command(generate_cmd)
    register_commands(group)
    return group


def _points(n=1000, seed=1):
    return np.random.default_rng(seed).random((n, 8))


def _read_y(out):
    import zarr

    g = zarr.open_group(str(out), mode="r")
    assert g.attrs["zoo_predict"]["complete"] is True
    return g["y"][...]


def _invoke(cli, *args):
    res = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return res


@pytest.mark.parametrize("fmt", ["npz", "csv", "zarr"])
def test_predict_formats(tmp_path, cli, published, fmt):
    import zarr

    reg, model = published
    x = _points()
    src = tmp_path / f"points.{fmt}"
    if fmt == "npz":
        np.savez(src, x=x)
    elif fmt == "csv":
        np.savetxt(src, x, delimiter=",", header=",".join(f"x{i}" for i in range(8)),
                   comments="", fmt="%.17g")
    else:
        g = zarr.open_group(str(src), mode="w")
        g.create_array("x", data=x, chunks=(300, 8))
    out = tmp_path / "out.zarr"
    res = _invoke(cli, "predict", LABEL, "--input", src, "--output", out, "--chunk", 256,
                  "--registry", reg)
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(_read_y(out), model.predict(x), rtol=1e-12)


def test_resume_skips_finished_chunks(tmp_path, cli, published):
    reg, model = published
    x = _points(900)
    src = tmp_path / "p.npz"
    np.savez(src, x=x)
    out = tmp_path / "out.zarr"
    assert _invoke(cli, "predict", LABEL, "--input", src, "--output", out, "--chunk", 300,
                   "--registry", reg).exit_code == 0
    import zarr

    g = zarr.open_group(str(out), mode="r+")
    g["y"][0:300] = -1.0  # a finished chunk: a rerun must not recompute it
    (out / ".zoo-done" / "2").unlink()  # an unfinished one: recomputed
    g["y"][600:900] = 0.0
    assert _invoke(cli, "predict", LABEL, "--input", src, "--output", out, "--chunk", 300,
                   "--registry", reg).exit_code == 0
    y = _read_y(out)
    assert (y[:300] == -1.0).all()
    np.testing.assert_allclose(y[300:], model.predict(x[300:]), rtol=1e-12)


def test_bad_inputs(tmp_path, cli, published):
    reg, _ = published
    bad = tmp_path / "bad.npz"
    np.savez(bad, points=np.zeros((3, 8)))
    res = CliRunner().invoke(cli, ["predict", LABEL, "--input", str(bad), "--output",
                                   str(tmp_path / "o.zarr"), "--registry", str(reg)])
    assert res.exit_code == 2 and "needs 'x'" in res.output
    res = CliRunner().invoke(cli, ["predict", LABEL, "--input", str(tmp_path / "none.npz"),
                                   "--output", str(tmp_path / "o.zarr")])
    assert res.exit_code == 2 and "does not exist" in res.output
    txt = tmp_path / "p.txt"
    txt.write_text("1,2\n")
    res = CliRunner().invoke(cli, ["predict", LABEL, "--input", str(txt), "--output",
                                   str(tmp_path / "o.zarr")])
    assert res.exit_code == 2 and "unknown format" in res.output


def test_dask_predict_and_generate_on_a_local_cluster(tmp_path, cli, published):
    import zarr

    from zoo import plugin_manager
    from zoo.runtime.distributed import dask_generate, dask_predict
    from zoo.training.generate import generate

    reg, model = published
    gen = tmp_path / "gen.zarr"
    # edge-dense sampling: the option reaches the workers (same points as one process)
    meta = dask_generate("qqbar-zz-4l/8d", gen, n=1200, seed=3, terms=["f00"], chunk=200,
                         scheduler="local", n_workers=2, sampling="edges:5")
    assert meta["complete"] and meta["sampling"] == "edges:5"
    ref = tmp_path / "ref.zarr"
    generate(plugin_manager.get("processes", "qqbar-zz-4l/8d"), ref, n=1200, seed=3,
             terms=["f00"], chunk=200, sampling="edges:5")
    g, r = zarr.open_group(str(gen), mode="r"), zarr.open_group(str(ref), mode="r")
    np.testing.assert_array_equal(g["x"][...], r["x"][...])
    np.testing.assert_array_equal(g["f00"][...], r["f00"][...])
    # a rerun on the finished output (both workers at once) is a no-op, not a race on the
    # progress markers
    again = dask_generate("qqbar-zz-4l/8d", gen, n=1200, seed=3, terms=["f00"], chunk=200,
                          scheduler="local", n_workers=2, sampling="edges:5")
    assert again["complete"] and not (tmp_path / ".gen.zarr.progress").exists()
    np.testing.assert_array_equal(zarr.open_group(str(gen), mode="r")["x"][...], r["x"][...])
    # predict the generated points over 2 workers; the generated group has x (and f00)
    out = tmp_path / "pred.zarr"
    meta = dask_predict(LABEL, gen, out, scheduler="local", registry=str(reg), chunk=256)
    assert meta["complete"]
    np.testing.assert_allclose(_read_y(out), model.predict(g["x"][...]), rtol=1e-12)
    with pytest.raises(Exception, match="Zarr input"):
        src = tmp_path / "p.npz"
        np.savez(src, x=_points(10))
        dask_predict(LABEL, src, tmp_path / "o2.zarr", registry=str(reg))
