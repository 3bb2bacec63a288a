"""The pretrained amplitudes shipped in ``registry/bundled``, against the exact generator.

Every shipped label is loaded through a *symmetry-related* (non-canonical) label of its
orbit with the public API (``zoo.load(label).predict(x)``) and compared with the generator
on points it never saw:

* **Uniform points** (what the cards measure): one set per dimension, ``N_FRESH`` points
  drawn from ``default_rng([20_261_203, D])`` (the training and test sets use other
  streams: ``zoo generate`` draws chunk i from ``default_rng([seed, i])`` with seed 1
  (training) and 10_000 + D (test, scripts/bench_table1.py); scripts/fit_factorised_8d.py
  draws ``default_rng(seed)``, seeds 1, 11, 21, 31). The generator evaluates all terms and
  helicities once per set; every label of the dimension is scored on it. delta as on the
  cards (zoo/training/metrics.py, scripts/bench_table1.py): f11 ``(pred - true) / |true|``, f01
  ``(pred - true) / f00``. In both columns (``|delta| < 1%`` and ``< 0.1%``) the number of
  misses k must not exceed :func:`max_misses`: the ``1 - ALPHA`` binomial quantile at the
  card's miss rate, taken at the upper ``1 - ALPHA`` Clopper-Pearson bound of the card's
  own count (its ``n`` test points: 2 x 10^5 in 2D/4D, 10^6 in 8D), ``ALPHA = 1e-4``. :func:`caught_rate` is the miss rate
  that fails the check with 90% probability; at these n (the shipped cards, computed by
  those functions): 4D and 8D 1-3x the card's miss rate in the 0.1% column, 2-10x in the 1%
  column; 2D (cards missing 1e-6 - 7e-4) 2-13x in the 0.1% column and 9-12x in the 1% column
  where the card misses more than 3e-5, else a miss rate of 2-3e-4 (within 1%: 99.97-99.98%;
  L-0 f01, L--/L00/L-+ f11, and L-0 f01 in the 0.1% column): resolving 1e-6 takes ~10^7
  generated points (~1 h).
* **Faces** (``face_points``): points whose x1 or x2 lies within [1e-4, 1e-3] of 0 or 1,
  some within [1e-6, 1e-4] and some within [1e-11, 1e-6] (the generator is exact as a
  function of x up to the faces), the other coordinates uniform. The uniform cards do not
  cover them (the ``test_faces`` record of the newer cards does: scripts/face_check.py);
  each label must keep the misses measured when this test was written (``FACE_MEASURED``).

Slow (75 s wall, 55 s CPU on the loaded 2-core VM; mostly the generator at ~3k points/s in
2D/4D and ~30-60 ms per face point), marked ``slow``; CI runs them.
"""

from __future__ import annotations

import functools
import hashlib
import math

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats

from zoo import plugin_manager, resolver
from zoo.api import load
from zoo.cli import cli
from zoo.labels import as_label
from zoo.registry.registry import Registry

#: uniform points per dimension (generator: 2D ~3.7k, 4D ~3k, 8D ~20k points/s)
N_FRESH = {2: 40_000, 4: 20_000, 8: 50_000}
#: face points per dimension: (within [1e-4, 1e-3] of a face, within [1e-6, 1e-4],
#: within [1e-11, 1e-6])
N_FACE = {2: (192, 16, 16), 4: (192, 16, 16), 8: (512, 64, 64)}
#: false-alarm probability of one check (a model as good as its card failing it)
ALPHA = 1e-4
SEED = 20_261_203
COLUMNS = (("frac_lt_1pct", 1e-2), ("frac_lt_0p1pct", 1e-3))

ENTRIES = sorted(Registry.bundled().list(), key=lambda e: e["label"])
LABELS = [e["label"] for e in ENTRIES]
CARDS = {e["label"]: e["card"] for e in ENTRIES}
pytestmark = pytest.mark.skipif(not LABELS, reason="registry/bundled is empty")

#: misses (|delta| >= 1%, >= 0.1%) on the face set of the label's dimension, measured when
#: this test was written (2026-12-03, ninth session: every default retrained with the
#: endpoint factors and angle cells graded towards the beam; 4D/8D measured again on
#: 2026-12-04 after the eleventh session's refit on Chebyshev-density points, 4D f01 L-- and
#: L-0 after the twelfth session's refit with mass degree 10, the earlier counts and largest |delta| in
#: brackets; before, 4D f11 missed 1% at
#: 13-16 of these points, 4D f01 at 27-32, 8D f11 42, 8D f01 97); the same points every run,
#: so the check allows the measured count
#: plus a margin of 2 + 25% (arithmetic at points on the thresholds may differ between
#: platforms), not a statistical one.
FACE_MEASURED: dict[str, tuple[int, int]] = {
    "qqbar-zz-4l/2d/f01/L-+@9": (0, 0),  # of 224; max |delta| 1.85e-04
    "qqbar-zz-4l/2d/f01/L--@10": (0, 0),  # of 224; max |delta| 1.72e-04
    "qqbar-zz-4l/2d/f01/L-0@11": (0, 0),  # of 224; max |delta| 1.82e-05
    "qqbar-zz-4l/2d/f01/L00@8": (0, 0),  # of 224; max |delta| 1.86e-04
    "qqbar-zz-4l/2d/f11/L-+@9": (0, 0),  # of 224; max |delta| 1.13e-05
    "qqbar-zz-4l/2d/f11/L--@10": (0, 0),  # of 224; max |delta| 1.15e-05
    "qqbar-zz-4l/2d/f11/L-0@9": (0, 0),  # of 224; max |delta| 1.54e-06
    "qqbar-zz-4l/2d/f11/L00@9": (0, 0),  # of 224; max |delta| 1.15e-05
    "qqbar-zz-4l/4d/f01/L-+@10": (5, 22),  # of 224; max |delta| 2.59e-02 (was (2, 18), 7.25e-02)
    "qqbar-zz-4l/4d/f01/L--@12": (2, 10),  # of 224; max |delta| 3.15e-02 (was @10 (1, 20), 2.62e-02)
    "qqbar-zz-4l/4d/f01/L-0@12": (2, 8),  # of 224; max |delta| 1.10e-02 (was @10 (2, 21), 4.80e-02)
    "qqbar-zz-4l/4d/f01/L00@10": (1, 15),  # of 224; max |delta| 2.31e-02 (was (2, 11), 3.04e-02)
    "qqbar-zz-4l/4d/f11/L-+@11": (0, 1),  # of 224; max |delta| 1.07e-03 (was (0, 1), 4.29e-03)
    "qqbar-zz-4l/4d/f11/L--@13": (0, 1),  # of 224; max |delta| 1.28e-03 (was (0, 2), 1.99e-03)
    "qqbar-zz-4l/4d/f11/L-0@13": (0, 0),  # of 224; max |delta| 9.66e-04 (was (0, 2), 1.89e-03)
    "qqbar-zz-4l/4d/f11/L00@13": (0, 0),  # of 224; max |delta| 9.45e-04 (was (0, 1), 1.25e-03)
    "qqbar-zz-4l/8d/f01/LLL@12": (9, 69),  # of 640; max |delta| 4.64e-02 (was (9, 55), 1.76e-01)
    "qqbar-zz-4l/8d/f11/LLL@14": (0, 4),  # of 640; max |delta| 2.31e-03 (was (0, 3), 6.32e-03)
}


def max_misses(n: int, p_card: float, n_card: int, alpha: float = ALPHA) -> int:
    """Largest number of misses among ``n`` fresh points consistent with a card that measured
    miss rate ``p_card`` on ``n_card`` points: the ``1 - alpha`` quantile of Binomial(n, p),
    p the upper ``1 - alpha`` Clopper-Pearson bound of the card's count."""
    k_card = round(p_card * n_card)
    p_hi = stats.beta.ppf(1 - alpha, k_card + 1, n_card - k_card) if k_card < n_card else 1.0
    return int(stats.binom.isf(alpha, n, p_hi))


def caught_rate(n: int, k_max: int, power: float = 0.9) -> float:
    """The miss rate at which more than ``k_max`` of ``n`` points miss with probability
    ``power`` (what the check catches)."""
    lo, hi = 1e-12, 1.0
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if stats.binom.sf(k_max, n, mid) >= power else (mid, hi)
    return hi


def related(label: str) -> str:
    """A label of the same orbit other than the canonical one (else the label itself)."""
    lab = as_label(label)
    proc = resolver.find_process(lab)
    for h in proc.helicities:
        other = f"{lab.process}/{lab.dimension}d/{lab.term}/{h}"
        if h != lab.helicity and resolver.resolve(other).canonical.base == lab.base:
            return other
    return lab.key


def _process(dim: int):
    return plugin_manager.get("processes", f"qqbar-zz-4l/{dim}d")


def face_points(dim: int) -> np.ndarray:
    """Points with x1 or x2 (half each) at a log-uniform distance from 0 or 1 (random side):
    ``N_FACE[dim][0]`` in [1e-4, 1e-3], ``N_FACE[dim][1]`` in [1e-6, 1e-4], ``N_FACE[dim][2]``
    in [1e-11, 1e-6]; the other coordinates uniform."""
    rng = np.random.default_rng([SEED, dim, 1])
    parts = []
    for n, (lo, hi) in zip(N_FACE[dim], ((-4, -3), (-6, -4), (-11, -6))):
        x = rng.random((n, dim))
        d = 10.0 ** rng.uniform(lo, hi, n)
        axis = np.arange(n) % 2
        x[np.arange(n), axis] = np.where(rng.random(n) < 0.5, d, 1.0 - d)
        parts.append(x)
    return np.concatenate(parts)


@functools.cache
def exact(dim: int, kind: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(x, {term: (N, helicities)}) of the generator on the uniform or face set of ``dim``
    (computed once per session)."""
    x = (np.random.default_rng([SEED, dim]).random((N_FRESH[dim], dim)) if kind == "uniform"
         else face_points(dim))
    return x, _process(dim).evaluate(x, ["f00", "f01", "f11"])


@pytest.fixture(scope="module", autouse=True)
def _f00_once():
    """The f00-normalised models compute the exact f00 (all helicities) of the points they
    are given, ~3 s per label at 40,000 2D points: answer repeated f00-only queries on the
    same (large) array from the first evaluation. The models' code path is unchanged."""
    memo: dict[tuple[int, bytes], dict[str, np.ndarray]] = {}

    def memoised(proc):
        evaluate = proc.evaluate

        def f00_once(x, terms=None):
            if terms is None or list(terms) != ["f00"] or len(x) < 10_000:
                return evaluate(x, terms)
            x = np.ascontiguousarray(x, dtype=np.float64)
            key = (id(proc), hashlib.blake2b(x.tobytes(), digest_size=16).digest())
            if key not in memo:
                memo[key] = evaluate(x, terms)
            return {"f00": memo[key]["f00"].copy()}

        return f00_once

    with pytest.MonkeyPatch.context() as mp:
        for dim in N_FRESH:
            mp.setattr(_process(dim), "evaluate", memoised(_process(dim)))
        yield


def abs_delta(label: str, kind: str) -> tuple[str, np.ndarray]:
    """(requested label, |delta| (N,)) of a shipped ``label``, loaded by a related label, on
    the ``kind`` set; delta as on the cards."""
    requested = related(label)
    lab = as_label(requested)
    x, f = exact(lab.dimension, kind)
    j = _process(lab.dimension).helicity_index(lab.helicity)
    amp = load(requested, verify=False)
    assert amp.canonical.base == as_label(label).base
    truth = f[lab.term][:, j]
    denom = np.abs(truth) if lab.term == "f11" else f["f00"][:, j]
    return requested, np.abs(amp.predict(x) - truth) / denom


def check(a: np.ndarray, reference: dict, what: str) -> list[str]:
    """The columns of ``reference`` (card metrics: ``n``, ``frac_lt_1pct``,
    ``frac_lt_0p1pct``) that ``|delta|`` values ``a`` fail (empty: all reproduced)."""
    failures = []
    for key, bound in COLUMNS:
        p = 1.0 - float(reference[key])
        k = int(np.count_nonzero(a >= bound))
        k_max = max_misses(a.size, p, int(reference["n"]))
        if k > k_max:
            failures.append(
                f"{what}: {k} of {a.size} fresh points miss |delta| < {bound:g} "
                f"({1 - k / a.size:.5%} within; {what} says {1 - p:.5%} on {reference['n']} "
                f"points; allowed {k_max} misses, a check that catches a miss rate of "
                f"{caught_rate(a.size, k_max):.1e} at 90%)")
    return failures


@pytest.mark.slow
@pytest.mark.parametrize("label", LABELS)
def test_card_is_reproduced_on_fresh_uniform_points(label: str) -> None:
    requested, a = abs_delta(label, "uniform")
    failures = check(a, CARDS[label]["metrics"]["test"], f"the card of {label}")
    assert not failures, f"{requested}: " + "; ".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("label", LABELS)
def test_faces_keep_their_measured_precision(label: str) -> None:
    requested, a = abs_delta(label, "face")
    for (_, bound), measured in zip(COLUMNS, FACE_MEASURED[label]):
        k = int(np.count_nonzero(a >= bound))
        assert k <= measured + 2 + measured // 4, (
            f"{requested}: {k} of {a.size} face points miss |delta| < {bound:g}; "
            f"{measured} when measured")


def test_the_check_fails_a_model_worse_than_its_card() -> None:
    """A shipped 4D card (p = 9.3e-4 within 1%) on 20,000 points: a model at 5x its miss
    rate fails, one at its rate passes; the 2D card claiming 100.000% within 1% fails at 3
    misses in 40,000 (under 1e-4 of the points) already."""
    rng = np.random.default_rng(0)
    card = {"n": 1_000_000, "frac_lt_1pct": 1 - 9.32e-4, "frac_lt_0p1pct": 1 - 3.74e-3}

    def sample(scale: float) -> np.ndarray:
        a = np.full(20_000, 1e-5)
        u = rng.random(a.size)
        a[u < scale * 3.74e-3] = 2e-3
        a[u < scale * 9.32e-4] = 2e-2
        return a

    assert check(sample(1.0), card, "card") == []
    assert len(check(sample(5.0), card, "card")) == 2
    perfect = {"n": 1_000_000, "frac_lt_1pct": 1.0, "frac_lt_0p1pct": 1.0}
    a = np.full(40_000, 1e-5)
    a[:2] = 0.1
    assert check(a, perfect, "card") == []
    a[:20] = 0.1
    assert len(check(a, perfect, "card")) == 2


def test_every_default_label_is_covered() -> None:
    """The 18 shipped defaults (f11 and f01 of the 4 orbits in 2D and 4D, of LLL in 8D) are
    parametrised; a new default (or version) needs its own face measurement."""
    assert len(LABELS) >= 18
    assert set(FACE_MEASURED) == set(LABELS)


def test_zoo_verify_all_passes_on_the_bundle() -> None:
    result = CliRunner().invoke(cli, ["verify", "--all"])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") >= len(LABELS)


#: the kept versions that are not a default: one representative of each other regressor
#: family, bundled for comparison (docs/bundle.md)
REPRESENTATIVES = sorted({e["label"] for e in Registry.bundled().list(all_versions=True)}
                         - set(LABELS))


@pytest.mark.parametrize("label", REPRESENTATIVES)
def test_family_representatives_match_fresh_points(label: str) -> None:
    """Through a symmetry-related label, the fraction within 1% on fresh points is at least
    the card's (its test points) minus 4 binomial standard deviations plus 3/n (these
    models are far from the defaults, so a coarse check at small n resolves them)."""
    lab = as_label(label)
    requested = f"{related(label)}@{lab.selector}"
    amp = load(requested, verify=False)
    assert amp.canonical.base == lab.base
    n = {2: 400, 4: 400, 8: 2000}[lab.dimension]
    x = np.random.default_rng([SEED, 7, lab.dimension]).random((n, lab.dimension))
    req = as_label(requested)
    proc = _process(lab.dimension)
    truth = proc.function(x, req.term, req.helicity)
    denom = np.abs(truth) if req.term == "f11" else proc.function(x, "f00", req.helicity)
    frac = float(np.mean(np.abs(amp.predict(x) - truth) / denom < 0.01))
    p = float(amp.card["metrics"]["test"]["frac_lt_1pct"])
    margin = 4 * math.sqrt(p * (1 - p) / n) + 3 / n
    assert frac >= p - margin, f"{requested}: {frac:.4f} within 1%, card {p:.4f}"
