"""Markdown bodies to sanitised HTML and plain text, split into abstract and speaker bio."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

from .records import record
from .urls import safe_url

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

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


@record
class Body:
    """An item's Markdown body, split into abstract and bio, each as safe HTML and as text."""

    abstract_html: str
    abstract_text: str
    bio_html: str
    bio_text: str


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # Imported on first use: a body of plain prose (_plain_paragraphs) never needs it, and
    # importing it was 40 ms of a rebuild that reads one edited abstract.
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "typographer": False})


def _link_filter(element: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return safe_url(value) or None
    return value


# Built once: nh3.clean() builds its sanitiser on every call, which cost as much as cleaning.
_CLEANER = nh3.Cleaner(
    tags=set(_ALLOWED_TAGS),
    clean_content_tags=set(_CLEAN_CONTENT),
    attributes={k: set(v) for k, v in _ALLOWED_ATTRIBUTES.items()},
    attribute_filter=_link_filter,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize_html(html: str) -> str:
    """Keep only an allow-list of tags, attributes and URL schemes."""
    if not html:
        return ""
    return _CLEANER.clean(html).strip()


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
    # The html module is imported on first use: its table of entities cost a rebuild 4 ms,
    # measured, and a rebuild that reads only plain prose never needs it.
    from html import unescape

    return " ".join(unescape(_TAG.sub(" ", _INLINE_TAG.sub("", html))).split())


def fold(text: str) -> str:
    """Lower-case and strip accents, for comparing names loosely."""
    if text.isascii():  # nothing to decompose or strip
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_body(markdown: str, names: Iterable[str]) -> Body:
    """Render a body; the bio starts at the first paragraph that opens with a name in bold."""
    plain = _plain_paragraphs(markdown)
    if plain is None:
        return _split_markdown(markdown, names)
    words = _name_words(names)
    split = next(
        (n for n, (bold, _, _) in enumerate(plain) if bold and words & _name_words([bold])),
        len(plain),
    )
    abstract, bio = plain[:split], plain[split:]
    # html_to_text of this HTML: the tags gone, '&gt;' read back, the words spaced once.
    return Body(
        "\n".join(html for _, html, _ in abstract),
        " ".join(" ".join(text for _, _, text in abstract).split()),
        "\n".join(html for _, html, _ in bio),
        " ".join(" ".join(text for _, _, text in bio).split()),
    )


def _split_markdown(markdown: str, names: Iterable[str]) -> Body:
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

# Most bodies are plain prose: paragraphs of words, the bio's opening with a name in bold.
# Parsing and sanitising those took two thirds of reading a file, so they are rendered here,
# to exactly what markdown-it and nh3 make of them (tests compare the two on every
# character). A body qualifies only when every line starts with a letter (no list, heading,
# quote, code block or HTML can start so), holds no character that starts inline Markdown
# or HTML (emphasis, code, links, escapes, entities, tags) and no white space but spaces
# between words (so no hard breaks and nothing to trim); the one exception is a paragraph
# that opens with `**words**`, which is bold whatever follows. Anything else goes to
# markdown-it. Surrogates are left to it too: nh3 refuses them.
_TEXT_CHAR = r"[^\s\\`*_\[\]<&\x00-\x1f\x7f\ud800-\udfff]"
_PLAIN_LINE = re.compile(rf"[^\W\d_]{_TEXT_CHAR}*(?: +{_TEXT_CHAR}+)*")
_BOLD_LINE = re.compile(rf"\*\*([^\W_](?:(?:{_TEXT_CHAR}| )*[^\W_])?)\*\*((?: +{_TEXT_CHAR}+)*)")
_BLANK_LINES = re.compile(r"\n\n+")


def _plain_paragraphs(markdown: str) -> list[tuple[str, str, str]] | None:
    """Each paragraph's leading bold text, sanitised HTML and text, if the body is plain prose.

    markdown-it escapes & < > and \" in text, and nh3 writes the quote back; & and < cannot
    occur here, so '>' is all there is to escape.
    """
    paragraphs = []
    text = markdown.strip("\n")
    for block in _BLANK_LINES.split(text) if text else ():
        first, *rest = block.split("\n")
        if not all(_PLAIN_LINE.fullmatch(line) for line in rest):
            return None
        bold = _BOLD_LINE.fullmatch(first)
        if bold is not None:
            after = "\n".join([bold[2], *rest])
            shown = f"<strong>{bold[1].replace('>', '&gt;')}</strong>{after.replace('>', '&gt;')}"
            paragraphs.append((bold[1], f"<p>{shown}</p>", bold[1] + after))
        elif _PLAIN_LINE.fullmatch(first):
            paragraphs.append(("", f"<p>{block.replace('>', '&gt;')}</p>", block))
        else:
            return None
    return paragraphs


def _name_words(names: Iterable[str]) -> set[str]:
    return {w for name in names for w in _WORD.findall(fold(name)) if len(w) > 1}


def _bio_start(tokens: Sequence[Token], names: Iterable[str]) -> int:
    """Index of the token that opens the bio paragraph, or len(tokens) when there is none."""
    name_words = _name_words(names)
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
