"""End to end through the public API, on the toy process: train, publish, load by any label."""

import json

import numpy as np
import pytest

import zoo
from zoo.errors import InputError, IntegrityError, UnknownLabelError, VerificationError
from zoo.training.loop import TrainConfig, train

CONFIG = {
    "label": "toy/3d/f11/LL",
    "regressor": "xgboost",
    "params": {"n_estimators": 200, "max_depth": 6, "learning_rate": 0.2, "seed": 0},
    "transforms": [{"name": "f00-normalise", "params": {"source": "process"}},
                   {"name": "symmetry", "params": {"mode": "fold"}}],
    "n": 6000,
    "seed": 1,
}


@pytest.fixture
def published(toy_process, tmp_path):
    model, test = train(TrainConfig.from_dict(dict(CONFIG)))
    reg = tmp_path / "reg"
    lab = zoo.publish(model, registry=reg, reference_x=test.x)
    return reg, lab, model


def test_card_contents(published):
    reg, lab, model = published
    assert str(lab) == "toy/3d/f11/LL@1"
    card = zoo.load(lab, registry=reg).card
    for key in ("label", "regressor", "transforms", "data", "metrics", "disk_size_bytes",
                "n_parameters", "created_at", "zoo_version", "reference", "dtype", "version"):
        assert key in card, key
    assert card["regressor"]["name"] == "xgboost"
    assert card["regressor"]["params"]["max_depth"] == 6
    assert card["regressor"]["distribution"] == "amplitude-zoo"
    assert [t["name"] for t in card["transforms"]] == ["f00-normalise", "symmetry"]
    assert card["transforms"][1]["params"]["mode"] == "fold"
    assert len(card["data"]["provenance"]) == 64
    assert card["data"]["n_train"] + card["data"]["n_validation"] + card["data"]["n_test"] == 6000
    test = card["metrics"]["test"]
    assert 0.5 < test["frac_lt_1pct"] <= 1.0
    assert card["disk_size_bytes"] > 1000 and card["n_parameters"] > 100


@pytest.mark.parametrize("hel", ["LL", "RR"])
def test_load_any_label_of_the_orbit(published, toy_process, hel):
    reg, lab, model = published
    amp = zoo.load(f"toy/3d/f11/{hel}", registry=reg)
    assert amp.canonical.key == "toy/3d/f11/LL"
    x = np.random.default_rng(7).random((2000, 3))
    truth = toy_process.function(x, "f11", hel)
    delta = np.abs(amp.predict(x) / truth - 1)
    recorded = amp.card["metrics"]["test"]["p90_abs_delta_pct"] / 100
    # independent fresh points: the 90th percentile agrees with the card within a factor 2
    assert np.quantile(delta, 0.9) < 2 * recorded + 1e-6


def test_unrelated_orbit_is_not_found(published):
    reg, _, _ = published
    with pytest.raises(UnknownLabelError, match="toy/3d/f11/LR"):
        zoo.load("toy/3d/f11/RL", registry=reg)


def test_publishing_a_non_canonical_label_is_refused(toy_process, tmp_path):
    cfg = dict(CONFIG, label="toy/3d/f11/RR", n=2000)
    model, test = train(TrainConfig.from_dict(cfg))
    with pytest.raises(UnknownLabelError, match="canonical labels.*toy/3d/f11/LL"):
        zoo.publish(model, registry=tmp_path / "reg", reference_x=test.x)


def test_predict_rejects_bad_input(published):
    reg, lab, _ = published
    amp = zoo.load(lab, registry=reg)
    with pytest.raises(InputError, match=r"expected \(N, 3\)"):
        amp.predict(np.zeros((4, 2)))
    with pytest.raises(InputError, match="NaN"):
        amp.predict(np.array([[0.1, np.nan, 0.2]]))
    with pytest.raises(InputError, match="outside the unit hypercube"):
        amp.predict(np.array([[0.1, 1.5, 0.2]]))
    assert amp.predict(np.array([0.2, 0.3, 0.4])).shape == (1,)


def test_tampered_weights_are_named(published):
    reg, lab, _ = published
    amp = zoo.load(lab, registry=reg)
    victim = next((amp.path / "model").iterdir())
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.chmod(0o644)
    victim.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=victim.name):
        zoo.load(lab, registry=reg)


def test_verify_catches_changed_predictions(published):
    """A model whose reference predictions no longer match fails verification."""
    from zoo import plugin_manager

    reg, lab, _ = published
    amp = zoo.load(lab, registry=reg)
    x = np.random.default_rng(0).random((200, 3))
    other = plugin_manager.get("regressors", "xgboost")(n_estimators=5, max_depth=2, seed=0)
    amp.model.regressor = other.fit(x, np.ones(200))  # a different model behind the same card
    with pytest.raises(VerificationError, match="tolerance"):
        amp.verify()


def test_list_and_filters(published):
    reg, lab, _ = published
    entries = zoo.list("toy/*", registry=reg)
    assert [e["label"] for e in entries] == ["toy/3d/f11/LL@1"]
    assert zoo.list("toy/*", where=["metrics.test.frac_lt_1pct>=0.0"], registry=reg)
    assert not zoo.list("toy/*", where=["regressor.name==skdnn"], registry=reg)
    assert json.dumps(entries)  # JSON-able
