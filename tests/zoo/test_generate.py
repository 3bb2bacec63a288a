import numpy as np
import pytest
import zarr

from zoo.errors import ConfigError
from zoo.training.generate import generate


def _arrays(path):
    g = zarr.open_group(str(path), mode="r")
    return {k: g[k][...] for k in ("x", "f00", "f11")}, dict(g.attrs["zoo_generate"])


def test_reproducible_and_resumable(toy_process, tmp_path):
    full = generate(toy_process, tmp_path / "full.zarr", n=1000, seed=5, chunk=256)
    assert full["complete"]
    # an interrupted run: only chunks 0 and 2 done, then resumed
    part = generate(toy_process, tmp_path / "part.zarr", n=1000, seed=5, chunk=256, chunks=[0, 2])
    assert not part["complete"]
    seen = []
    generate(toy_process, tmp_path / "part.zarr", n=1000, seed=5, chunk=256, on_chunk=seen.append)
    a, meta_a = _arrays(tmp_path / "full.zarr")
    b, meta_b = _arrays(tmp_path / "part.zarr")
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert meta_a == meta_b and meta_a["complete"]
    assert sum(seen) == 1000
    assert not (tmp_path / ".part.zarr.progress").exists()
    seen.clear()  # rerun on a finished output: nothing computed, progress reported, no markers
    assert generate(toy_process, tmp_path / "part.zarr", n=1000, seed=5, chunk=256,
                    on_chunk=seen.append)["complete"]
    assert sum(seen) == 1000 and not (tmp_path / ".part.zarr.progress").exists()
    np.testing.assert_array_equal(a["f00"], toy_process.evaluate(a["x"])["f00"])


def test_other_seed_gives_other_points_and_conflicts_are_refused(toy_process, tmp_path):
    generate(toy_process, tmp_path / "a.zarr", n=100, seed=1, chunk=64)
    generate(toy_process, tmp_path / "b.zarr", n=100, seed=2, chunk=64)
    assert not np.array_equal(_arrays(tmp_path / "a.zarr")[0]["x"], _arrays(tmp_path / "b.zarr")[0]["x"])
    with pytest.raises(ConfigError, match="different generated data"):
        generate(toy_process, tmp_path / "a.zarr", n=100, seed=3, chunk=64)
    with pytest.raises(ConfigError):
        generate(toy_process, tmp_path / "c.zarr", n=0, seed=3)


def test_edge_sampling_warp_is_monotone_and_has_the_stated_density():
    from zoo.training.generate import warp_edges

    u = np.linspace(0.0, 1.0, 100_001)
    x = warp_edges(u, 20.0)
    assert x[0] == 0.0 and abs(x[-1] - 1.0) < 1e-15 and abs(x[50_000] - 0.5) < 1e-15
    assert np.all(np.diff(x) > 0)
    dens = np.diff(u) / np.diff(x)  # density of x = du/dx
    assert dens[0] / dens[50_000] == pytest.approx(20.0, rel=1e-6)
    np.testing.assert_array_equal(warp_edges(u, 1.0), u)


def test_edge_sampled_points_follow_the_warp(tmp_path):
    """The fraction of points below t equals the warp's inverse at t (4 sigma of binomial)."""
    from scipy.optimize import brentq

    from zoo.training.generate import chunk_points, warp_edges

    x = chunk_points(7, 0, 200_000, 2, "edges:20")
    for t in (1e-3, 1e-2, 0.1, 0.3):
        p = brentq(lambda u, t=t: warp_edges(u, 20.0) - t, 0.0, 0.5, xtol=1e-14)
        got = (x < t).mean()
        assert abs(got - p) <= 4 * np.sqrt(p * (1 - p) / x.size), (t, got, p)
        if t <= 1e-3:  # near the face: (F + 1) / 2 = 10.5 times the uniform density
            assert p == pytest.approx(10.5 * t, rel=0.05)
    np.testing.assert_array_equal(chunk_points(7, 0, 10, 2), chunk_points(7, 0, 10, 2, "uniform"))


def test_sampling_is_recorded_and_conflicts_are_refused(toy_process, tmp_path):
    from zoo.training.generate import provenance

    uni = generate(toy_process, tmp_path / "u.zarr", n=300, seed=1, chunk=128)
    edg = generate(toy_process, tmp_path / "e.zarr", n=300, seed=1, chunk=128, sampling="edges:8")
    assert "sampling" not in uni and edg["sampling"] == "edges:8"
    # uniform data keep the provenance they had before sampling existed
    assert uni["provenance"] == provenance(toy_process, uni["terms"], 1, 300, 128)
    assert edg["provenance"] != uni["provenance"]
    a, _ = _arrays(tmp_path / "e.zarr")
    np.testing.assert_array_equal(a["f00"], toy_process.evaluate(a["x"])["f00"])
    with pytest.raises(ConfigError, match="different generated data"):
        generate(toy_process, tmp_path / "e.zarr", n=300, seed=1, chunk=128)
    for bad in ("edges", "edges:0.5", "edges:x", "sobol:3", "edges:nan"):
        with pytest.raises(ConfigError, match="edges:F"):
            generate(toy_process, tmp_path / "bad.zarr", n=10, sampling=bad)
        assert not (tmp_path / "bad.zarr").exists()  # refused before anything was written
