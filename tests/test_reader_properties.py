"""Property tests over the reader: for any bytes, reading a file gives valid records or content
problems, never an unhandled exception."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.document import parse_document
from pipeline.errors import DocumentError
from pipeline.model import Item, SiteConfig
from pipeline.read import read_content
from pipeline.urls import safe_url

CONFIG = SiteConfig(is_default=True)
# 150 examples keep the suite fast; PIPELINE_HYPOTHESIS_EXAMPLES=5000 hunts harder.
EXAMPLES = int(os.environ.get("PIPELINE_HYPOTHESIS_EXAMPLES", "150"))
FAST = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = st.sampled_from(
    [
        "edition", "type", "title", "time_start", "time_end", "speaker", "speakers", "papers",
        "moderator", "panelists", "presentation", "paper", "url", "avatar", "name",
        "affiliation", "hidden", "location", "<<", "? x", "- a", "", "title:",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.sampled_from(
        [
            "isca-19", "talk", "paper_session", "2019-06-23 09:30:00", "2019-06-16 9:50:00",
            "9:00", "06-23-2019 10:00", "2019-02-30 10:00:00", "0000-01-01 00:00:00",
            "9999-12-31 23:59:59+14:00", "true", "~", "null", "''", '""', "'unclosed",
            '"unclosed', "[", "{", "[a, b]", "{a: 1}", "&a x", "*a", "*b", "!!timestamp x",
            "!!int 0b", "!!float abc", "!!binary AAA", "!!set {a}", "!!omap [a: 1]",
            "!!python/object:os.system x", "!shout", "|", ">", "javascript:alert(1)",
            "../../../etc/passwd", "/etc/passwd", '"a\\0b"', "slides.pdf", "a\tb", "@x", "`x`",
            "%x", "0x1F", "1e400", "9" * 5000, "-", "---", "...", "#", "\u2028", "\ufeff",
        ]
    ),
    st.text(max_size=20),
)  # fmt: skip
INDENTS = st.sampled_from(["", "", "  ", "    ", "\t", " - ", "- "])


@st.composite
def frontmatter_files(draw: st.DrawFn) -> bytes:
    """Text shaped like a schedule item, with YAML's sharp edges mixed in."""
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        indent, key, value = draw(INDENTS), draw(KEYS), draw(SCALARS)
        separator = draw(st.sampled_from([": ", ":", ":\t", ": ", " : "]))
        lines.append(f"{indent}{key}{separator}{value}")
    opener = draw(st.sampled_from(["---", "---", "--- ", "----", "", "\ufeff---"]))
    closer = draw(st.sampled_from(["---", "---", "...", ""]))
    body = draw(st.text(max_size=200))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = newline.join([opener, *lines, closer, body])
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def _read_one(raw: bytes, name: str = "conf/item.md") -> tuple[list[Item], list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        path = content / name
        path.parent.mkdir(parents=True)
        path.write_bytes(raw)
        (content / "conf" / "slides.pdf").write_bytes(b"pdf")
        result = read_content(content, CONFIG)
        for asset in result.assets.values():
            # Only files from inside the content folder are ever copied.
            assert Path(asset.source).resolve().is_relative_to(content.resolve())
        return result.items, [str(p) for p in result.problems]


def _check_items(items: list[Item], problems: list[str]) -> None:
    assert len(items) <= 1
    for item in items:
        assert item.id and item.edition and item.type
        assert not [p for p in problems if ": warning: " not in p and not p.startswith("warning")]
        if item.start and item.end:
            assert item.start <= item.end
        for link in (*item.links, *(link for paper in item.papers for link in paper.links)):
            assert safe_url(link.url) == link.url
        for person in item.people:
            assert person.name
            assert not person.url or safe_url(person.url)


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_parse_or_fail_with_a_document_error(raw: bytes) -> None:
    try:
        document = parse_document("t.md", raw)
    except DocumentError as exc:
        assert exc.problem.path == "t.md" and exc.problem.message
    else:
        assert isinstance(document.data, dict)
        assert all(line >= 1 for line in document.lines.values())


@FAST
@given(frontmatter_files())
def test_frontmatter_shaped_text_parses_or_fails_with_a_line(raw: bytes) -> None:
    try:
        document = parse_document("t.md", raw)
    except DocumentError as exc:
        text_lines = raw.count(b"\n") + raw.count(b"\r") + 1
        assert 0 <= exc.problem.line <= text_lines + 1
    else:
        assert isinstance(document.data, dict)


@FAST
@given(frontmatter_files())
def test_reading_gives_items_or_problems(raw: bytes) -> None:
    items, problems = _read_one(raw)
    assert items or problems
    _check_items(items, problems)


@FAST
@given(st.binary(max_size=500))
def test_reading_any_bytes_gives_items_or_problems(raw: bytes) -> None:
    items, problems = _read_one(b"---\nedition: conf\ntype: talk\n" + raw)
    _check_items(items, problems)


ITEM_VALUES = st.recursive(
    st.one_of(SCALARS, st.integers(), st.booleans(), st.none()),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=12,
)


@FAST
@given(st.dictionaries(KEYS, ITEM_VALUES, max_size=8))
def test_any_yaml_structure_reads_to_items_or_problems(data: dict[str, object]) -> None:
    import yaml

    frontmatter = yaml.safe_dump({"edition": "conf", "type": "talk", **data}, allow_unicode=True)
    items, problems = _read_one(f"---\n{frontmatter}---\nBody\n".encode())
    _check_items(items, problems)
