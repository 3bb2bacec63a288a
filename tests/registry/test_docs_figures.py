"""The precision figures quoted in BENCHMARKS.md (section 3) and README.md are the shipped
cards' (which tests/registry/test_bundled.py reproduces on fresh points)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zoo.labels import as_label
from zoo.registry.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = Registry.bundled().list()
pytestmark = pytest.mark.skipif(not ENTRIES, reason="registry/bundled is empty")
PCT = re.compile(r"(\d+(?:\.\d+)?)%")


def _cards() -> dict[tuple[int, str], list[tuple[float, float, str]]]:
    """(dimension, term) -> [(within 1%, within 0.1%, helicity)] of the shipped defaults."""
    out: dict[tuple[int, str], list[tuple[float, float, str]]] = {}
    for e in ENTRIES:
        lab, m = as_label(e["label"]), e["card"]["metrics"]["test"]
        out.setdefault((lab.dimension, lab.term), []).append(
            (m["frac_lt_1pct"], m["frac_lt_0p1pct"], lab.helicity))
    return out


def _same(quoted: str, value: float) -> bool:
    """``quoted`` (a percentage as written) is ``value`` rounded to its decimals."""
    decimals = len(quoted.partition(".")[2])
    return f"{100 * value:.{decimals}f}" == quoted


def _section3_rows() -> dict[tuple[int, str], list[str]]:
    text = (ROOT / "BENCHMARKS.md").read_text()
    section = text.split("## 3.")[1].split("\n## ")[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| (\d)D \| (f\d\d) \|", line)
        if m:
            rows[(int(m.group(1)), m.group(2))] = line.split("|")[1:-1]
    return rows


def test_benchmarks_section3_table_is_the_cards() -> None:
    """Per dimension and term: the best label (both columns), the mean over the canonical
    labels and the worst one, as the cards say; the heading's claim matches the targets."""
    rows = _section3_rows()
    cards = _cards()
    assert set(rows) == set(cards)
    for key, labels in cards.items():
        cells = rows[key]
        best, worst = max(labels), min(labels)
        quoted = PCT.findall(cells[3])
        assert best[2] in cells[3] and len(quoted) == 2, (key, cells[3])
        assert _same(quoted[0], best[0]) and _same(quoted[1], best[1]), (key, cells[3], best)
        if len(labels) > 1:
            mean = [sum(v[i] for v in labels) / len(labels) for i in (0, 1)]
            q = PCT.findall(cells[4])
            assert worst[2] in cells[4] and len(q) == 4, (key, cells[4])
            assert all(_same(a, b) for a, b in zip(q, [*mean, worst[0], worst[1]])), (
                key, cells[4], mean, worst)
        target = [float(t) / 100 for t in PCT.findall(cells[5])]
        met = all(v[0] >= target[0] and v[1] >= target[1] for v in labels)
        assert met == ("met" in cells[5]), (key, cells[5])
    heading = (ROOT / "BENCHMARKS.md").read_text().split("## 3.")[1].splitlines()[0]
    assert "met on every label in 2D, 4D and 8D" in heading


def test_readme_f11_ranges_are_the_cards() -> None:
    """README: "f11 within 1% on A-B% of the points in 2D, C-D% in 4D, E% in 8D"."""
    text = " ".join((ROOT / "README.md").read_text().split())
    m = re.search(r"f11 within 1% on ([\d.]+)(?:-([\d.]+))?% of the points in 2D, ([\d.]+)(?:-([\d.]+))?% "
                  r"in 4D, ([\d.]+)% in 8D", text)
    assert m, "README no longer quotes the f11 ranges in this form: update this test"
    cards = _cards()
    for (lo, hi), dim in (((m.group(1), m.group(2) or m.group(1)), 2), ((m.group(3), m.group(4) or m.group(3)), 4),
                          ((m.group(5), m.group(5)), 8)):
        values = [v[0] for v in cards[(dim, "f11")]]
        assert _same(lo, min(values)) and _same(hi, max(values)), (dim, lo, hi, values)
