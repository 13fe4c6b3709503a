"""Splitting a file into frontmatter and body: line numbers, encodings, and YAML's traps."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import document, yaml_frontmatter
from pipeline.document import MAX_DEPTH, Document, parse_document
from pipeline.errors import DocumentError


def _parse(text: str | bytes) -> Document:
    return parse_document("t.md", text.encode() if isinstance(text, str) else text)


def _error(text: str | bytes) -> tuple[int, str]:
    with pytest.raises(DocumentError) as caught:
        _parse(text)
    return caught.value.problem.line, caught.value.problem.message


def test_lines_are_the_editors_lines() -> None:
    doc = _parse(
        "---\nedition: x\ntype: talk\nspeaker:\n    name: A\npapers:\n  - title: P\n---\nBody\n"
    )
    assert doc.line("edition") == 2
    assert doc.line("speaker", "name") == 5
    assert doc.line("papers", 0, "title") == 7
    assert doc.line("papers", 0, "missing") == 7  # falls back to the nearest parent
    assert doc.line("nothing") == 1
    assert doc.body == "Body\n"
    assert doc.body_line == 9


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf---\nedition: x\n---\nBody",
        b"---\r\nedition: x\r\n---\r\nBody",
        b"---\redition: x\r---\rBody",
        b"---  \nedition: x\n...\nBody",
    ],
)
def test_bom_line_endings_and_closers_are_accepted(raw: bytes) -> None:
    doc = _parse(raw)
    assert doc.data == {"edition": "x"}
    assert doc.line("edition") == 2
    assert doc.body == "Body"


def test_tab_between_key_and_value_is_fine_but_not_as_indentation() -> None:
    assert _parse("---\nedition:\tx\n---\n").data == {"edition": "x"}
    line, message = _error("---\nspeaker:\n\tname: A\n---\n")
    assert line == 3 and "tabs" in message


def test_sexagesimal_is_kept_as_written() -> None:
    doc = _parse("---\ntime_start: 9:00\n---\n")
    assert doc.data["time_start"] == 540
    assert doc.written[("time_start",)] == "9:00"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("---\ntitle: 2019-02-30 10:00:00\n---\n", 2, "cannot be read as a date or time"),
        ("---\ntitle: !!timestamp soon\n---\n", 2, "cannot be read as a date or time"),
        ("---\ntitle: !!int 0b\n---\n", 2, "cannot be read as a whole number"),
        ("---\ntitle: !!float abc\n---\n", 2, "cannot be read as a number"),
        ("---\na: 1\nb: !!bool x\n---\n", 3, "'x' cannot be read as true or false"),
        ("---\ntitle: !!python/object:os.system x\n---\n", 2, "must be quoted"),
        ("---\ntitle: " + "9" * 5000 + "\n---\n", 2, "cannot be read as a whole number"),
        ("---\na: 1\n? [x]\n: y\n---\n", 3, "unhashable"),
        ("---\na: &a [*a]\n---\n", 2, "refers to the value that contains it"),
        ("---\na: 1\nb: {c: 1\n---\n", 3, "'{' opened on this line is never closed"),
        ("---\na: 1\nb: 'c\n---\n", 3, "quote opened on this line is never closed"),
        ("---\na: 1\n---\n".replace("1", "\x1b"), 2, "control character U+001B"),
    ],
)
def test_yaml_traps_are_errors_with_a_line(text: str, line: int, message: str) -> None:
    found_line, found = _error(text)
    assert (found_line, message in found) == (line, True), found


def test_depth_is_limited_before_libyaml_can_crash() -> None:
    line, message = _error("---\nx: " + "[" * 200_000 + "\n---\n")
    assert line == 2 and f"more than {MAX_DEPTH} levels" in message
    line, message = _error("---\nx: " + "{a: " * 200_000 + "\n---\n")
    assert f"more than {MAX_DEPTH} levels" in message


def test_aliases_are_measured_as_expanded() -> None:
    nested = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]\n" for i in range(1, 8))
    _line, message = _error(f"---\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n{nested}---\n")
    assert "with its aliases expanded" in message
    # A few aliases are fine.
    doc = _parse("---\nbase: &b {affiliation: MIT}\nspeaker:\n    <<: *b\n    name: A\n---\n")
    assert doc.data["speaker"] == {"affiliation": "MIT", "name": "A"}


def test_encodings() -> None:
    assert "UTF-16" in _error("---\na: 1\n---\n".encode("utf-16"))[1]
    line, message = _error(b"---\na: 1\nb: caf\xe9\n---\n")
    assert line == 3 and "byte 0xe9 at column 7" in message


def test_body_limit_and_size_limit() -> None:
    line, message = _error("---\na: 1\n---\n" + "x" * 100_001)
    assert line == 4 and "the limit is 100,000" in message
    assert "the limit is 2,097,152" in _error(b"---\n" + b"x" * (2 * 1024 * 1024))[1]


def test_the_value_limit_counts_every_value_not_just_the_nested_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One '[' holds any number of values; the limit counts the mapping, its key, the list
    # and each item, as PyYAML's composer does.
    monkeypatch.setattr(document, "MAX_NODES", 50)
    assert len(_parse("---\na: [" + ", ".join(["x"] * 47) + "]\n---\n").data["a"]) == 47
    line, message = _error("---\na: [" + ", ".join(["x"] * 48) + "]\n---\n")
    assert (line, message) == (2, "frontmatter has more than 50 values; split the file")


def _outcome(raw: bytes) -> Any:
    try:
        # repr tells 1 from True and 1.0, and shows the order of every mapping.
        return repr(parse_document("t.md", raw))
    except DocumentError as exc:
        return exc.problem


def _same_both_ways(raw: bytes) -> None:
    fast = _outcome(raw)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yaml_frontmatter, "_FAST", False)
        assert _outcome(raw) == fast


_SCALARS = st.one_of(
    st.text(max_size=8),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.datetimes(),
    st.dates(),
    st.sampled_from(["2019-06-23 09:30:00", "9:00", "0x1F", "yes", "~", "<<", "=", "1_000"]),
)
_TREES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(0, 3)), children, max_size=4),
    ),
    max_leaves=25,
)
_TWEAKS = st.sampled_from(
    [
        "", "a: 1\na: 2\n", "<<: {z: 1}\n", "s: !!set {a}\n", "q: &q [1]\nr: *q\n",
        "d: [[[[[[]]]]]]\n", "m: !!map x\n", "l: !!seq x\n", "o: !!omap x\n", "b: !!binary AAAA\n",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=8), _TREES, max_size=6),
    st.sampled_from([None, True, False]),
    _TWEAKS,
)
def test_libyaml_shortcut_reads_exactly_what_the_checked_path_reads(
    data: dict[str, Any], flow: bool | None, tweak: str
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True, sort_keys=False)
    _same_both_ways(f"---\n{text}{tweak}---\nbody\n".encode())


@pytest.mark.parametrize("depth", [19, 20, 21])
def test_libyaml_shortcut_stops_where_the_checked_path_does(depth: int) -> None:
    _same_both_ways(("---\nk: " + "[" * depth + "]" * depth + "\n---\n").encode())
    _same_both_ways(("---\nk: " + "{a: " * depth + "1" + "}" * depth + "\n---\n").encode())
    _same_both_ways(("---\nk: " + "- " * depth + "x\n---\n").encode())
    _same_both_ways(("---\nk: " + "[" * 1000 * depth + "\n---\n").encode())


@pytest.mark.parametrize(
    "tag",
    ["!!bool", "!!null", "!!binary", "!!set", "!!omap", "!!pairs", "!!timestamp", "!!str",
     "!!seq", "!!map", "!!int", "!!float", "!!merge", "!!value", "!", "!!python/none", "!x"],
)  # fmt: skip
def test_every_tag_on_any_value_is_read_or_an_error_with_a_line(tag: str) -> None:
    """No tagged value escapes as a crash: each is read, or a DocumentError at its line."""
    for value in ["x", "", "[1]", "{a: 1}", "[[1, 2]]", "[{a: 1, b: 2}]", "~", "1", "0x", "=="]:
        try:
            _parse(f"---\ntitle: t\na: {tag} {value}\n---\n")
        except DocumentError as exc:
            assert exc.problem.line == 3, (tag, value, str(exc))
