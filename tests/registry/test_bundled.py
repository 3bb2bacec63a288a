"""The pretrained amplitudes shipped in ``registry/bundled``.

For one bundled version per dimension, term and regressor (defaults and the kept
representatives of other families alike), load it by a *symmetry-related*
(non-canonical) label, compare with freshly computed values of the process at new random points, and
require the fraction within 1% to be at least the card's (measured on 10^6 test points)
minus a statistical margin (4 binomial standard deviations plus 3/n). ``zoo verify
--all`` (hashes and reference points) must pass on the bundle. Skipped when empty.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

from zoo import resolver
from zoo.api import load
from zoo.cli import cli
from zoo.labels import as_label
from zoo.registry.registry import Registry

#: fresh points per dimension (2D/4D functions cost ~1-4k points/s, 8D ~25k)
N_FRESH = {2: 400, 4: 400, 8: 2000}


ENTRIES = Registry.bundled().list(all_versions=True)
LABELS = [e["label"] for e in ENTRIES]
pytestmark = pytest.mark.skipif(not LABELS, reason="registry/bundled is empty")


def _one_per_dimension_term_and_regressor() -> list[str]:
    """The first version (sorted) of every (dimension, term, regressor) in the bundle
    (e.g. 2D f01: pwcheb and the on-shell qqzz-factorised)."""
    by_key: dict[tuple[int, str, str], str] = {}
    for e in sorted(ENTRIES, key=lambda e: e["label"]):
        lab = as_label(e["label"])
        by_key.setdefault((lab.dimension, lab.term, e["card"]["training"]["regressor"]),
                          e["label"])
    return [by_key[k] for k in sorted(by_key)]


def _related(label: str) -> str:
    """A label of the same orbit other than the canonical one (else the label itself)."""
    lab = as_label(label)
    proc = resolver.find_process(lab)
    for h in proc.helicities:
        other = f"{lab.process}/{lab.dimension}d/{lab.term}/{h}"
        if h != lab.helicity and resolver.resolve(other).canonical.base == lab.base:
            return other
    return lab.key


@pytest.mark.parametrize("label", _one_per_dimension_term_and_regressor())
def test_bundled_model_matches_fresh_points(label: str) -> None:
    requested = f"{_related(label)}@{as_label(label).selector}"
    lab = as_label(requested)
    amp = load(requested, verify=False)
    assert amp.canonical.base == as_label(label).base
    n = N_FRESH[lab.dimension]
    x = np.random.default_rng(20_240_607).random((n, lab.dimension))
    proc = resolver.find_process(lab)
    truth = proc.function(x, lab.term, lab.helicity)
    pred = amp.predict(x)
    card = amp.card["metrics"]["test"]
    denom = np.abs(truth) if lab.term == "f11" else proc.function(x, "f00", lab.helicity)
    frac = float(np.mean(np.abs(pred - truth) / denom < 0.01))
    p = float(card["frac_lt_1pct"])
    margin = 4 * math.sqrt(p * (1 - p) / n) + 3 / n
    assert frac >= p - margin, (
        f"{requested} (via {label}): {frac:.4f} of {n} fresh points within 1%, the card "
        f"says {p:.4f} on {card['n']} test points (margin {margin:.4f})"
    )


def test_zoo_verify_all_passes_on_the_bundle() -> None:
    result = CliRunner().invoke(cli, ["verify", "--all"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") >= len(LABELS)
