import pytest

from zoo.errors import LabelSyntaxError
from zoo.labels import Label, matches, parse

GOOD = [
    "qqbar-zz-4l/8d/f11/LLR",
    "qqbar-zz-4l/8d/f11/LLR@3",
    "qqbar-zz-4l/4d/f01/L+-@best",
    "qqbar-zz-4l/2d/f00/L00@latest",
    "qqbar-zz-4l/8d/y2/sum@my-alias_2",
]


@pytest.mark.parametrize("text", GOOD)
def test_round_trip(text):
    assert str(parse(text)) == text


def test_fields():
    lab = parse("qqbar-zz-4l/8d/f11/LLR@3")
    assert lab == Label("qqbar-zz-4l", 8, "f11", "LLR", 3)
    assert lab.key == "qqbar-zz-4l/8d/f11/LLR"
    assert lab.base.selector is None
    assert parse("a/2d/f00/x@best").selector == "best"


@pytest.mark.parametrize(
    "text, field",
    [
        ("qqbar-zz-4l/8d/f11", "4 fields"),
        ("qqbar-zz-4l/8/f11/LLR", "dimension"),
        ("Qqbar/8d/f11/LLR", "process"),
        ("qqbar/8d/F11/LLR", "term"),
        ("qqbar/8d/f11/L L", "whitespace"),
        ("qqbar/8d/f11/LLR@0", "selector"),
        ("qqbar/8d/f11/LLR@Best", "selector"),
        ("qqbar/8d/f11/LLR@1@2", "more than one"),
        ("qqbar/0d/f11/LLR", "dimension"),
        ("qqbar//f11/LLR", "empty"),
        ("qqbar/8d/f11/L*R", "helicity"),
    ],
)
def test_malformed_names_the_problem(text, field):
    with pytest.raises(LabelSyntaxError) as info:
        parse(text)
    msg = str(info.value)
    assert field in msg and "e.g." in msg
    assert isinstance(info.value, ValueError)


def test_wildcards():
    assert matches("qqbar-zz-4l/8d/f11/LLR", "qqbar-zz-4l/8d/*/L?R")
    assert matches("qqbar-zz-4l/8d/f11/LLR", "qqbar-zz-4l/8d")
    assert matches("qqbar-zz-4l/8d/f11/LLR", "*")
    assert not matches("qqbar-zz-4l/8d/f11/LLR", "qqbar-zz-4l/4d")
    assert not matches("qqbar-zz-4l/8d/f11/LLR", "*/f11")  # '*' never crosses '/'
    assert matches("qqbar-zz-4l/8d/f11/LLR", "*/*/f1[01]/*")
    with pytest.raises(LabelSyntaxError):
        matches("a/2d/f00/x", "a/b/c/d/e")
