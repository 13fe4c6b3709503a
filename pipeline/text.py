"""Markdown bodies to sanitised HTML and plain text, split into abstract and speaker bio."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import unescape

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .urls import safe_url

_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3",
        "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "small", "strong", "sub",
        "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
# Elements whose content is dropped with the tag, not shown as text.
_CLEAN_CONTENT = frozenset({"script", "style", "template", "iframe", "object", "noscript", "title"})


@dataclass(frozen=True, slots=True)
class Body:
    abstract_html: str
    abstract_text: str
    bio_html: str
    bio_text: str


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "typographer": False})


def _link_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return safe_url(value) or None
    return value


def sanitize_html(html: str) -> str:
    """Keep only an allow-list of tags, attributes and URL schemes."""
    return nh3.clean(
        html,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_CLEAN_CONTENT),
        attributes={k: set(v) for k, v in _ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_link_filter,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def markdown_to_html(markdown: str) -> str:
    return sanitize_html(_markdown().render(markdown))


# A tag in sanitised HTML: html5ever writes every attribute value in double quotes.
_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')
# Tags inside a run of text: dropping them must not put a space before the next comma.
_INLINE_TAG = re.compile(
    r'</?(?:a|abbr|b|code|del|em|i|s|small|strong|sub|sup|u)(?:\s(?:[^>"]|"[^"]*")*)?>', re.I
)


def html_to_text(html: str) -> str:
    """The words of sanitised HTML, one space between elements.

    A regular expression, not an HTML parser: the input comes out of the sanitiser, so it is
    well formed, and BeautifulSoup took seconds on a 100 kB body of nested tags.
    """
    return " ".join(unescape(_TAG.sub(" ", _INLINE_TAG.sub("", html))).split())


def fold(text: str) -> str:
    """Lower-case and strip accents, for comparing names loosely."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_body(markdown: str, names: Iterable[str]) -> Body:
    """Render a body; the bio starts at the first paragraph that opens with a name in bold."""
    md = _markdown()
    env: dict[str, object] = {}
    # Parsed once and split by token, so reference links resolve across the split, and a
    # large body costs one parse, not two.
    tokens = md.parse(markdown, env)
    split = _bio_start(tokens, names)
    abstract_html = sanitize_html(md.renderer.render(tokens[:split], md.options, env))
    bio_html = sanitize_html(md.renderer.render(tokens[split:], md.options, env))
    return Body(abstract_html, html_to_text(abstract_html), bio_html, html_to_text(bio_html))


_WORD = re.compile(r"\w+")


def _bio_start(tokens: Sequence[Token], names: Iterable[str]) -> int:
    """Index of the token that opens the bio paragraph, or len(tokens) when there is none."""
    name_words = {w for name in names for w in _WORD.findall(fold(name)) if len(w) > 1}
    if not name_words:
        return len(tokens)
    for index, token in enumerate(tokens):
        if token.type != "paragraph_open" or token.level != 0:
            continue
        children = tokens[index + 1].children or []
        bold = _leading_bold_text(children)
        if bold and name_words & set(_WORD.findall(fold(bold))):
            return index
    return len(tokens)


def _leading_bold_text(children: Sequence[object]) -> str:
    """The text of a paragraph's opening `**…**` or `<b>…</b>`, if it opens with one."""
    parts: list[str] = []
    inside = False
    for child in children:
        kind = getattr(child, "type", "")
        content = getattr(child, "content", "")
        if not inside:
            if kind == "text" and not content:
                continue
            if kind == "strong_open" or (
                kind == "html_inline" and content.lower() in ("<b>", "<strong>")
            ):
                inside = True
                continue
            return ""
        if kind == "strong_close" or (
            kind == "html_inline" and content.lower() in ("</b>", "</strong>")
        ):
            return "".join(parts)
        parts.append(content)
    return ""
