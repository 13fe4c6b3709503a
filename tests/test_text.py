"""Bodies: Markdown and inline HTML through an allow-list sanitiser; abstract and bio split."""

from __future__ import annotations

import re
import sys
import time

import pytest
from bs4 import BeautifulSoup, Tag
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import text
from pipeline.text import html_to_text, markdown_to_html, sanitize_html, split_body
from pipeline.urls import safe_url


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href=" JAVASCRIPT:alert(1)">x</a>',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
        '<form action="https://evil.example"><button formaction="javascript:alert(1)">x</button>',
        "<style>body{background:url(https://evil.example)}</style>",
        '<p style="background:url(https://evil.example)">x</p>',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<base href="https://evil.example/">',
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x](javascript:alert(1))",
    ],
)
def test_nothing_active_survives(payload: str) -> None:
    html = markdown_to_html(payload)
    soup = BeautifulSoup(html, "html.parser")
    for element in soup.find_all(True):
        assert isinstance(element, Tag)
        assert element.name in ("a", "p", "br", "strong", "em"), (payload, html)
        for name, value in element.attrs.items():
            assert name in ("href", "title", "rel"), (payload, html)
            if name == "href":
                assert safe_url(str(value)) and not str(value).lower().startswith("data:")


def test_allowed_markup_stays() -> None:
    html = markdown_to_html(
        '**Bold** [link](https://example.org "t") <a href="slides.pdf">Slides</a><br>'
    )
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.org" title="t" rel="noopener noreferrer">link</a>' in html
    assert '<a href="slides.pdf" rel="noopener noreferrer">Slides</a>' in html
    assert "<br>" in html


def test_text_is_the_words_once_unescaped() -> None:
    html = sanitize_html('<p>a &amp; b</p><p>&lt;script&gt; <a href="x>y">link</a></p>')
    assert html_to_text(html) == "a & b <script> link"


def test_bio_starts_at_the_speakers_name_in_bold() -> None:
    body = "An abstract with [a ref][r].\n\n**Ada Lovelace** is a mathematician.\n\n[r]: https://example.org\n"
    split = split_body(body, ["Ada Lovelace"])
    # One space between elements, as before: "ref ." keeps words apart in every case.
    assert split.abstract_text == "An abstract with a ref."
    assert 'href="https://example.org"' in split.abstract_html  # the reference is below the split
    assert split.bio_text == "Ada Lovelace is a mathematician."


def test_separators_are_white_space_in_text() -> None:
    split = split_body("Line\u2028separator", [])
    assert split.abstract_text == "Line separator"
    assert "\u2028" in split.abstract_html  # the page's JSON escaping must handle it


@pytest.mark.parametrize(
    "body",
    ["[" * 100_000, "*a" * 50_000, "<div>" * 20_000, "_a" * 50_000, "> " * 50_000, "<b>" * 33_000],
)
def test_hostile_markdown_at_the_body_limit_is_bounded(body: str) -> None:
    started = time.perf_counter()
    split_body(body, ["Alice"])
    assert time.perf_counter() - started < 15


def test_every_character_plain_prose_may_hold_renders_as_markdown_it_and_nh3_render_it() -> None:
    everything = "".join(map(chr, [*range(0xD800), *range(0xE000, sys.maxunicode + 1)]))
    allowed = re.findall(text._TEXT_CHAR, everything)
    assert len(allowed) > 1_000_000
    for start in range(0, len(allowed), 100_000):
        chunk = "a".join(allowed[start : start + 100_000])
        body = f"**A{chunk}b** c{chunk}d\ne{chunk}f\n\ng{chunk}h\n"
        assert text._plain_paragraphs(body) is not None
        assert split_body(body, ["A"]) == text._split_markdown(body, ["A"])


_WORDS = st.lists(
    st.one_of(
        st.sampled_from(["Ada", "Lovelace", "the", "a1", "2nd", "co-design", '"q"', "it's", ">"]),
        st.sampled_from(
            ["!", "#", "%", "(a)", "~", "=", "+", "é", "日本", "ǅ", "\u0301", "\ufeff"]
        ),
        st.text(min_size=1, max_size=4),
    ),
    min_size=1,
    max_size=6,
).map(" ".join)


@st.composite
def _prose(draw: st.DrawFn) -> str:
    """Mostly plain paragraphs, some opening in bold, with Markdown's edges mixed in."""
    paragraphs = []
    for _ in range(draw(st.integers(0, 4))):
        lines = [draw(_WORDS) for _ in range(draw(st.integers(1, 3)))]
        if draw(st.booleans()):
            after = draw(st.sampled_from(["", " ", " x", ",x", "x", "  y", "\t", "*"]))
            lines[0] = f"**{draw(_WORDS)}**{after}{draw(st.sampled_from(['', ' ' + lines[0]]))}"
        paragraphs.append("\n".join(lines))
    blank = draw(st.sampled_from(["\n\n", "\n\n\n", "\n", "\n \n"]))
    edges = st.sampled_from(["", "\n", "\n\n", " "])
    return draw(edges) + blank.join(paragraphs) + draw(edges)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_prose(), st.lists(st.sampled_from(["Ada Lovelace", "Lovelace", "é", "", "x", "a1 b"])))
def test_plain_prose_renders_as_markdown_it_and_nh3_render_it(body: str, names: list[str]) -> None:
    assert split_body(body, names) == text._split_markdown(body, names)
