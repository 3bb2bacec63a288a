import numpy as np
import pytest

from zoo import resolver
from zoo.errors import UnknownLabelError
from zoo.process import CoordinatePermutation, Symmetry


def test_group_closure_and_orbits(toy_process):
    res = resolver.Resolver(toy_process)
    # flip and swap commute and are involutions: a group of order 4
    assert len(res.group) == 4
    assert res.orbits == [["LL", "RR"], ["LR", "RL"]]
    assert res.canonical_helicities == ["LL", "LR"]


@pytest.mark.parametrize("hel", ["LL", "LR", "RL", "RR"])
@pytest.mark.parametrize("term", ["f00", "f11"])
def test_resolution_reproduces_the_function(toy_process, hel, term):
    r = resolver.resolve(f"toy/3d/{term}/{hel}@2")
    assert r.canonical.helicity in ("LL", "LR")
    assert r.canonical.selector == 2 or r.canonical.selector is None
    x = np.random.default_rng(3).random((200, 3))
    want = toy_process.function(x, term, hel)
    got = toy_process.function(r.coord_map(x), term, r.canonical.helicity)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_invariances(toy_process):
    res = resolver.Resolver(toy_process)
    names = [el.name for el in res.invariances("toy/3d/f00/LL")]
    assert names == ["swap"]
    lr = res.invariances("toy/3d/f00/LR")
    assert len(lr) == 1 and set(lr[0].word) == {"flip", "swap"}
    assert len(res.invariances("toy/3d/f00/sum")) == 3
    x = np.random.default_rng(0).random((50, 3))
    for el in lr:
        np.testing.assert_allclose(toy_process.function(el.coord_map(x), "f00", "LR"),
                                   toy_process.function(x, "f00", "LR"), rtol=1e-14)


def test_unknown_helicity_and_term(toy_process):
    with pytest.raises(UnknownLabelError, match="choose one of LL, LR, RL, RR"):
        resolver.resolve("toy/3d/f00/XX")
    with pytest.raises(UnknownLabelError, match="no term 'f99'"):
        resolver.resolve("toy/3d/f99/LL")


def test_label_without_process_resolves_to_itself():
    r = resolver.resolve("nothing-here/5d/f00/abc@1")
    assert r.is_canonical and r.canonical == r.requested


def test_verify_symmetries_passes_and_catches_a_wrong_one(toy_process):
    worst = resolver.verify_symmetries(toy_process)
    assert set(worst) == {"flip", "swap"} and max(worst.values()) < 1e-13

    class Broken(type(toy_process)):
        def symmetries(self):
            return [Symmetry("bad", {"LL": "LL", "LR": "LR", "RL": "RL", "RR": "RR"},
                             CoordinatePermutation((1, 0, 2)))]

    with pytest.raises(AssertionError, match="bad"):
        resolver.verify_symmetries(Broken())
