import numpy as np
import pytest
import zarr

from zoo.errors import ConfigError
from zoo.generate import generate


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
