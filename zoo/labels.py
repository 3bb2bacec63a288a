"""Labels: the physics name of one stored function.

Grammar (case-sensitive; whitespace is not allowed anywhere)::

    label     := process "/" dimension "/" term "/" helicity [ "@" selector ]
    process   := [a-z0-9] [a-z0-9-]*          e.g. qqbar-zz-4l
    dimension := [1-9][0-9]* "d"              e.g. 8d   (number of x coordinates)
    term      := [a-z] [a-z0-9_]*             e.g. f00, f01, f11, y2
    helicity  := [A-Za-z0-9+_-]+ | "sum"      e.g. LLR, L+-, L00, sum
    selector  := version | alias
    version   := [1-9][0-9]*                  an immutable published version
    alias     := [a-z] [a-z0-9_-]*            latest, best, or a user-defined alias

Length limits (checked before anything else, so that a hostile label never reaches an
integer conversion or a file name): process and alias at most 64 characters, term and
helicity at most 32, dimension at most 4 digits, version at most 9 digits, the whole
label at most 256 characters.

Examples: ``qqbar-zz-4l/8d/f11/LLR``, ``qqbar-zz-4l/4d/f01/L+-@3``,
``qqbar-zz-4l/8d/y2/sum@best``.

Patterns (for listings) use the same four fields with fnmatch wildcards ``* ? [..]``;
a pattern with fewer fields matches the leading fields (``qqbar-zz-4l/8d`` lists every
term and helicity of that process in 8D).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace

from zoo.errors import LabelSyntaxError

_FIELDS = ("process", "dimension", "term", "helicity")
_PATTERNS = {
    "process": re.compile(r"[a-z0-9][a-z0-9-]*"),
    "dimension": re.compile(r"[1-9][0-9]*d"),
    "term": re.compile(r"[a-z][a-z0-9_]*"),
    "helicity": re.compile(r"[A-Za-z0-9+_-]+"),
}
_HINTS = {
    "process": "lower-case letters, digits and '-', e.g. 'qqbar-zz-4l'",
    "dimension": "a positive integer followed by 'd', e.g. '8d'",
    "term": "a lower-case identifier such as 'f00', 'f01', 'f11'",
    "helicity": "letters, digits, '+', '-', '_', e.g. 'LLR' or 'sum'",
}
#: the longest value each field may have (characters; the dimension's includes the 'd')
MAX_LENGTH = {"process": 64, "dimension": 5, "term": 32, "helicity": 32}
MAX_VERSION_DIGITS = 9
MAX_ALIAS_LENGTH = 64
MAX_LABEL_LENGTH = 256
_VERSION = re.compile(r"[1-9][0-9]*")
_ALIAS = re.compile(r"[a-z][a-z0-9_-]*")
EXAMPLE = "qqbar-zz-4l/8d/f11/LLR@latest"


@dataclass(frozen=True, order=True)
class Label:
    """A parsed label. ``selector`` is ``None``, a version number (int) or an alias (str)."""

    process: str
    dimension: int
    term: str
    helicity: str
    selector: int | str | None = None

    def __str__(self) -> str:
        base = f"{self.process}/{self.dimension}d/{self.term}/{self.helicity}"
        return base if self.selector is None else f"{base}@{self.selector}"

    @property
    def base(self) -> Label:
        """The label without version or alias."""
        return replace(self, selector=None)

    @property
    def key(self) -> str:
        """The label without selector, as a string (the registry's storage key)."""
        return str(self.base)

    @property
    def parts(self) -> tuple[str, str, str, str]:
        return (self.process, f"{self.dimension}d", self.term, self.helicity)

    def with_selector(self, selector: int | str | None) -> Label:
        return replace(self, selector=selector)

    def with_helicity(self, helicity: str) -> Label:
        return replace(self, helicity=helicity)


def _fail(text: str, why: str) -> LabelSyntaxError:
    shown = repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text)} characters)"
    return LabelSyntaxError(
        f"malformed label {shown}: {why}. Labels read "
        f"'process/<D>d/term/helicity[@version|alias]', e.g. {EXAMPLE!r}."
    )


def parse_selector(text: str, raw: str) -> int | str:
    if text[:1].isdigit() and len(text) > MAX_VERSION_DIGITS:
        raise _fail(raw, f"version {text[:20]!r}... has {len(text)} digits; at most "
                    f"{MAX_VERSION_DIGITS}")
    if len(text) > MAX_ALIAS_LENGTH:
        raise _fail(raw, f"the selector after '@' has {len(text)} characters; aliases have at "
                    f"most {MAX_ALIAS_LENGTH}")
    if _VERSION.fullmatch(text):
        return int(text)
    if _ALIAS.fullmatch(text):
        return text
    raise _fail(raw, f"selector {text!r} after '@' is neither a version (1, 2, ...) nor an alias "
                "(lower-case name such as 'latest' or 'best')")


def parse(text: str) -> Label:
    """Parse a label strictly; raise :class:`LabelSyntaxError` naming the bad field."""
    if not isinstance(text, str):
        raise LabelSyntaxError(f"a label must be a string, got {type(text).__name__}")
    raw = text
    if len(text) > MAX_LABEL_LENGTH:
        raise LabelSyntaxError(
            f"label {text[:40]!r}... has {len(text)} characters; labels have at most "
            f"{MAX_LABEL_LENGTH} (e.g. {EXAMPLE!r})"
        )
    if text != text.strip() or any(c.isspace() for c in text):
        raise _fail(raw, "it contains whitespace")
    selector: int | str | None = None
    if "@" in text:
        text, _, sel = text.partition("@")
        if "@" in sel:
            raise _fail(raw, "more than one '@'")
        selector = parse_selector(sel, raw)
    fields = text.split("/")
    if len(fields) != 4:
        raise _fail(raw, f"expected 4 fields separated by '/', found {len(fields)}")
    for name, value in zip(_FIELDS, fields):
        if not value:
            raise _fail(raw, f"the {name} field is empty")
        if len(value) > MAX_LENGTH[name]:
            what = (f"{len(value) - 1} digits; at most {MAX_LENGTH[name] - 1}"
                    if name == "dimension" else
                    f"{len(value)} characters; at most {MAX_LENGTH[name]}")
            raise _fail(raw, f"the {name} field has {what}")
        if not _PATTERNS[name].fullmatch(value):
            raise _fail(raw, f"{name} {value!r} is invalid; expected {_HINTS[name]}")
    return Label(fields[0], int(fields[1][:-1]), fields[2], fields[3], selector)


def as_label(value: str | Label) -> Label:
    return value if isinstance(value, Label) else parse(value)


def matches(label: str | Label, pattern: str) -> bool:
    """True when ``label`` (selector ignored) matches an fnmatch ``pattern``.

    The pattern is split on '/' and compared field by field, so '*' never crosses a '/';
    a pattern with fewer than four fields matches on the leading fields. A selector in
    the pattern is ignored here (versions are filtered by the registry).
    """
    lab = as_label(label)
    if not isinstance(pattern, str) or len(pattern) > MAX_LABEL_LENGTH:
        raise LabelSyntaxError(
            f"a pattern is a string of at most {MAX_LABEL_LENGTH} characters, e.g. "
            "'qqbar-zz-4l/8d/*/L?R'"
        )
    pat = pattern.split("@", 1)[0].strip("/")
    if pat in ("", "*"):
        return True
    pfields = pat.split("/")
    if len(pfields) > 4:
        raise LabelSyntaxError(
            f"pattern {pattern!r} has {len(pfields)} fields; at most 4 "
            "(process/dimension/term/helicity) with wildcards * ? [..]"
        )
    return all(fnmatch.fnmatchcase(v, p) for v, p in zip(lab.parts, pfields))
